/**
 * Every error `@echo/privdrop` throws is a {@link PrivdropError} with a stable string `code`.
 * This package depends on no other echo package, so it has its own base class; match on
 * `err.code`, which follows the same `ECHO_ERR_*` scheme as `@echo/core`.
 * @module
 */

/** The stable error codes of `@echo/privdrop`. The README's Errors table lists each one. */
export const PrivdropErrorCodes = {
  INVALID_ARG: "ECHO_ERR_INVALID_ARG",
  UNKNOWN_USER: "ECHO_ERR_PRIVDROP_UNKNOWN_USER",
  UNKNOWN_GROUP: "ECHO_ERR_PRIVDROP_UNKNOWN_GROUP",
  UNSUPPORTED: "ECHO_ERR_PRIVDROP_UNSUPPORTED",
  WORKER_THREAD: "ECHO_ERR_PRIVDROP_WORKER_THREAD",
  SYSCALL: "ECHO_ERR_PRIVDROP_SYSCALL",
  VERIFY: "ECHO_ERR_PRIVDROP_VERIFY",
  PROC_STATUS: "ECHO_ERR_PRIVDROP_PROC_STATUS",
} as const;

/** One of the {@link PrivdropErrorCodes} values. */
export type PrivdropErrorCode = (typeof PrivdropErrorCodes)[keyof typeof PrivdropErrorCodes];

/** Base class of every error this package throws. `code` is stable across versions. */
export class PrivdropError extends Error {
  /** A stable, machine-readable code such as `ECHO_ERR_PRIVDROP_VERIFY`. */
  readonly code: PrivdropErrorCode;

  constructor(code: PrivdropErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PrivdropError";
    this.code = code;
  }
}

/**
 * A check after the drop failed: the process may still hold privileges. `check` names the check
 * (such as `proc-status-uid` or `regain-setuid`). Never go on serving after this error: exit.
 */
export class PrivdropVerifyError extends PrivdropError {
  /** The name of the check that failed, e.g. `euid`, `groups`, `proc-status-caps`, `regain-setuid`. */
  readonly check: string;

  constructor(check: string, detail: string, options?: { cause?: unknown }) {
    super(PrivdropErrorCodes.VERIFY, `privilege drop verification failed: check ${check}: ${detail}`, options);
    this.name = "PrivdropVerifyError";
    this.check = check;
  }
}
