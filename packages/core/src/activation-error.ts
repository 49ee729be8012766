/**
 * The error of systemd socket activation. It joins {@link EchoError}'s family; at integration its
 * code is merged into core's `ErrorCodes` and the README's Errors table.
 * @module
 */
import { EchoError } from "./errors.js";

/** The stable error code of socket activation. */
export const ACTIVATION_ERROR_CODE = "ECHO_ERR_SOCKET_ACTIVATION";

/**
 * Why no inherited socket could be used:
 * - `not-activated`: `LISTEN_FDS`/`LISTEN_PID` are not set (the process was not socket-activated)
 * - `pid-mismatch`: `LISTEN_PID` names another process (the variables were inherited, not meant for this one)
 * - `invalid-environment`: `LISTEN_FDS`, `LISTEN_PID` or `LISTEN_FDNAMES` are malformed
 * - `not-found`: no passed socket has the asked-for name or index
 * - `not-a-socket`: the descriptor is not open, or is not a socket
 */
export type ActivationErrorReason =
  "not-activated" | "pid-mismatch" | "invalid-environment" | "not-found" | "not-a-socket";

/** No usable socket was passed by the service manager (or by `--listen-fd`). */
export class SocketActivationError extends EchoError {
  /** What went wrong. */
  readonly reason: ActivationErrorReason;

  constructor(reason: ActivationErrorReason, message: string, options?: { cause?: unknown }) {
    super(ACTIVATION_ERROR_CODE, message, options);
    this.name = "SocketActivationError";
    this.reason = reason;
  }
}
