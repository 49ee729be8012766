/**
 * Opens one socket to a target with a connect deadline and typed errors.
 * @module
 */
import net from "node:net";
import { ClientErrorCodes, EchoClientError } from "../errors.js";
import { formatTarget, type ResolvedTarget } from "../target.js";
import { toConnectError } from "./socket-errors.js";

/** `net.connect` options for a target. */
export function netOptions(target: ResolvedTarget, noDelay: boolean): net.NetConnectOpts {
  return target.kind === "unix" ? { path: target.path } : { host: target.host, port: target.port, noDelay };
}

/**
 * Connects, resolving once the socket is established. A `timeout` of 0 waits as long as the OS does.
 * On failure the socket is destroyed and the promise rejects with an {@link EchoClientError}
 * (`ECHO_ERR_CONNECT_REFUSED`, `ECHO_ERR_CONNECT_TIMEOUT`, `ECHO_ERR_RESET` or `ECHO_ERR_CONNECT`).
 */
export function connectSocket(target: ResolvedTarget, timeout: number, noDelay: boolean): Promise<net.Socket> {
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
        reject(new EchoClientError(ClientErrorCodes.CONNECT_TIMEOUT, `connecting to ${where} timed out after ${timeout} ms`));
      }, timeout);
    }
  });
}
