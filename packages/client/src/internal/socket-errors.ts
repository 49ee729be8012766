/**
 * Turns Node's system errors into {@link EchoClientError}s with stable codes.
 * @module
 */
import { ClientErrorCodes, EchoClientError } from "../errors.js";

/** The errno code of a system error (`ECONNREFUSED`, …), if it has one. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** An error that happened while connecting to `where`. */
export function toConnectError(error: unknown, where: string): EchoClientError {
  if (error instanceof EchoClientError) return error;
  const errno = errnoOf(error);
  const detail = errno ?? (error as Error)?.message ?? String(error);
  switch (errno) {
    case "ECONNREFUSED":
      return new EchoClientError(
        ClientErrorCodes.CONNECT_REFUSED,
        `connection refused by ${where} (ECONNREFUSED): is a server listening there?`,
        { cause: error },
      );
    case "ENOENT":
      return new EchoClientError(
        ClientErrorCodes.CONNECT_REFUSED,
        `no Unix socket at ${where} (ENOENT): is a server listening there?`,
        { cause: error },
      );
    case "ETIMEDOUT":
      return new EchoClientError(ClientErrorCodes.CONNECT_TIMEOUT, `connecting to ${where} timed out (ETIMEDOUT)`, {
        cause: error,
      });
    case "ECONNRESET":
    case "EPIPE":
      return new EchoClientError(
        ClientErrorCodes.RESET,
        `connection to ${where} was reset by the server while connecting (${errno})`,
        { cause: error },
      );
    default:
      return new EchoClientError(ClientErrorCodes.CONNECT, `cannot connect to ${where} (${detail})`, { cause: error });
  }
}

/** An error on an established connection to `where`. */
export function toSocketError(error: unknown, where: string): EchoClientError {
  if (error instanceof EchoClientError) return error;
  const errno = errnoOf(error);
  if (errno === "ECONNRESET" || errno === "EPIPE") {
    return new EchoClientError(ClientErrorCodes.RESET, `connection to ${where} was reset by the server (${errno})`, {
      cause: error,
    });
  }
  const detail = errno ?? (error as Error)?.message ?? String(error);
  return new EchoClientError(ClientErrorCodes.SOCKET, `socket error on the connection to ${where} (${detail})`, {
    cause: error,
  });
}
