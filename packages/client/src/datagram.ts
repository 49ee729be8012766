/**
 * `datagramRequest()`: one UDP echo exchange, with a timeout and retries (UDP may lose a
 * datagram; the server never tells).
 * @module
 */
import { Buffer } from "node:buffer";
import { createSocket } from "node:dgram";
import { isIP } from "node:net";
import { ClientErrorCodes, EchoClientError, invalidArg } from "./errors.js";

/** Options of {@link datagramRequest}. */
export interface DatagramRequestOptions {
  /** Milliseconds to wait for a reply to each try. @default 2000 */
  timeout?: number;
  /** Tries after the first when no reply came in time. @default 2 */
  retries?: number;
}

function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArg(
      `options.${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value) ?? typeof value}`,
    );
  }
  return value;
}

/**
 * Sends `data` in one datagram to `host:port` and resolves with the first datagram that comes
 * back from that address. Resends after each `timeout` up to `retries` times.
 * @throws {EchoClientError} `ECHO_ERR_TIMEOUT` when no reply came; `ECHO_ERR_INVALID_ARG`; `ECHO_ERR_SOCKET` on a send error.
 */
export async function datagramRequest(
  target: { host?: string; port: number },
  data: Uint8Array | string,
  options: DatagramRequestOptions = {},
): Promise<Buffer> {
  const host = target.host ?? "127.0.0.1";
  const port = checkInt("port", target.port, 1, 65535);
  const timeout = options.timeout === undefined ? 2000 : checkInt("timeout", options.timeout, 1, 600_000);
  const retries = options.retries === undefined ? 2 : checkInt("retries", options.retries, 0, 100);
  const payload = typeof data === "string" ? Buffer.from(data) : data;
  if (payload.length > 65_507)
    throw invalidArg(`the datagram is ${payload.length} bytes, more than UDP carries over IPv4 (65507)`);
  const socket = createSocket(isIP(host) === 6 ? "udp6" : "udp4");
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      let tries = 0;
      let timer: NodeJS.Timeout | undefined;
      const fail = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      socket.on("error", (error) =>
        fail(new EchoClientError(ClientErrorCodes.SOCKET, `UDP socket error: ${error.message}`, { cause: error })),
      );
      socket.on("message", (reply, rinfo) => {
        if (rinfo.port !== port) return;
        clearTimeout(timer);
        resolve(reply);
      });
      const attempt = (): void => {
        tries++;
        socket.send(payload, port, host, (error) => {
          if (error)
            fail(
              new EchoClientError(ClientErrorCodes.SOCKET, `cannot send to ${host}:${port}: ${error.message}`, {
                cause: error,
              }),
            );
        });
        timer = setTimeout(() => {
          if (tries > retries)
            fail(
              new EchoClientError(
                ClientErrorCodes.TIMEOUT,
                `no UDP reply from ${host}:${port} after ${tries} tries of ${timeout} ms`,
              ),
            );
          else attempt();
        }, timeout);
      };
      attempt();
    });
  } finally {
    socket.close();
  }
}
