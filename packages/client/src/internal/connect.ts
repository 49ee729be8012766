/**
 * Opens one socket to a target with a connect deadline and typed errors.
 * @module
 */
import net from "node:net";
import { ClientErrorCodes, EchoClientError, invalidArg } from "../errors.js";
import { encodeNormalized, type NormalizedProxyHeader } from "../proxy-header.js";
import { formatTarget, type ResolvedTarget } from "../target.js";
import { toConnectError } from "./socket-errors.js";

/** `net.connect` options for a target. */
export function netOptions(target: ResolvedTarget, noDelay: boolean): net.NetConnectOpts {
  return target.kind === "unix" ? { path: target.path } : { host: target.host, port: target.port, noDelay };
}

/**
 * Connects, resolving once the socket is established. A `timeout` of 0 waits as long as the OS does.
 * With `proxyHeader`, the PROXY header is the first thing written, before the promise resolves.
 * On failure the socket is destroyed and the promise rejects with an {@link EchoClientError}
 * (`ECHO_ERR_CONNECT_REFUSED`, `ECHO_ERR_CONNECT_TIMEOUT`, `ECHO_ERR_RESET` or `ECHO_ERR_CONNECT`).
 */
export function connectSocket(
  target: ResolvedTarget,
  timeout: number,
  noDelay: boolean,
  proxyHeader: NormalizedProxyHeader | null = null,
): Promise<net.Socket> {
  const where = formatTarget(target);
  return new Promise((resolve, reject) => {
    const socket = net.connect(netOptions(target, noDelay));
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("error", onError);
    };
    const onConnect = (): void => {
      cleanup();
      if (proxyHeader !== null) socket.write(encodeNormalized(proxyHeader, socket));
      resolve(socket);
    };
    const onError = (error: Error): void => {
      cleanup();
      socket.destroy();
      reject(toConnectError(error, where));
    };
    socket.once("connect", onConnect);
    socket.once("error", onError);
    if (timeout > 0) {
      timer = setTimeout(() => {
        cleanup();
        socket.destroy();
        reject(
          new EchoClientError(ClientErrorCodes.CONNECT_TIMEOUT, `connecting to ${where} timed out after ${timeout} ms`),
        );
      }, timeout);
    }
  });
}

/**
 * Refuses up front a header that names a source but could not name a destination: a Unix socket
 * has no remote address to announce.
 * @throws {EchoClientError} `ECHO_ERR_INVALID_ARG`
 */
export function checkProxyTarget(
  target: ResolvedTarget,
  proxyHeader: NormalizedProxyHeader | null,
  name = "options.proxyHeader",
): void {
  if (target.kind === "unix" && proxyHeader?.source && proxyHeader.destination === null) {
    throw invalidArg(
      `${name}.destination is required when connecting to a Unix socket (it has no address to announce)`,
    );
  }
}
