/**
 * Every error `@echo/client` throws is an {@link EchoClientError} with a stable string `code`.
 * Match on `err.code`, not on `instanceof`: two copies of the package may coexist in one tree.
 * @module
 */

/** The stable error codes of `@echo/client`. The README's Errors table lists each one. */
export const ClientErrorCodes = {
  /** An option or argument has a wrong type or value. */
  INVALID_ARG: "ECHO_ERR_INVALID_ARG",
  /** Nothing listens at the address (`ECONNREFUSED`), or the Unix socket path does not exist. */
  CONNECT_REFUSED: "ECHO_ERR_CONNECT_REFUSED",
  /** The connection was not established within the connect timeout. */
  CONNECT_TIMEOUT: "ECHO_ERR_CONNECT_TIMEOUT",
  /** Connecting failed for another reason (unknown host, permission denied, …). */
  CONNECT: "ECHO_ERR_CONNECT",
  /** The server reset the connection (`ECONNRESET`, `EPIPE`). */
  RESET: "ECHO_ERR_RESET",
  /** The server closed the connection before the expected bytes arrived. */
  CLOSED: "ECHO_ERR_CLOSED",
  /** An operation did not complete within its timeout. */
  TIMEOUT: "ECHO_ERR_TIMEOUT",
  /** The echoed bytes differ from the bytes sent. */
  MISMATCH: "ECHO_ERR_MISMATCH",
  /** A load generator worker thread failed. */
  WORKER: "ECHO_ERR_WORKER",
  /** The client was used after `close()`/`end()`, or another socket error happened. */
  SOCKET: "ECHO_ERR_SOCKET",
} as const;

/** One of the {@link ClientErrorCodes} values. */
export type ClientErrorCode = (typeof ClientErrorCodes)[keyof typeof ClientErrorCodes];

/** The error class of `@echo/client`. `code` is stable across versions; `cause` keeps the system error. */
export class EchoClientError extends Error {
  /** A stable, machine-readable code such as `ECHO_ERR_CONNECT_REFUSED`. */
  readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EchoClientError";
    this.code = code;
  }
}

/** Shorthand for an {@link EchoClientError} with code `ECHO_ERR_INVALID_ARG`. */
export function invalidArg(message: string): EchoClientError {
  return new EchoClientError(ClientErrorCodes.INVALID_ARG, message);
}
