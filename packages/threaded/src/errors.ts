/**
 * The errors `@echo/threaded` adds to core's. Every one is an `EchoError` with a stable `code`.
 * @module
 */
import { inspect } from "node:util";
import { EchoError } from "@echo/core";

/** The error codes `@echo/threaded` adds to `@echo/core`'s `ErrorCodes`. */
export const ThreadedErrorCodes = {
  THREAD_START: "ECHO_ERR_THREAD_START",
  THREAD_EXIT: "ECHO_ERR_THREAD_EXIT",
} as const;

/**
 * A thread could not start serving for a reason that is neither the handler (that is core's
 * `HandlerLoadError`) nor the address (core's `AddressInUseError`, `PermissionDeniedError`,
 * `ListenError`): it died while taking over the listening socket, for example.
 */
export class ThreadStartError extends EchoError {
  /** The thread's name, `Thread-N`. */
  readonly thread: string;

  constructor(thread: string, reason: string, options?: { cause?: unknown }) {
    super(ThreadedErrorCodes.THREAD_START, `${thread} could not start: ${reason}`, options);
    this.name = "ThreadStartError";
    this.thread = thread;
  }
}

/**
 * A serving thread ended unexpectedly (an uncaught error, or `process.exit()` in the handler
 * module). Passed to the `threadExit` event; the thread's own connections are lost and a
 * replacement thread starts.
 */
export class ThreadExitError extends EchoError {
  /** The thread's name, `Thread-N`. */
  readonly thread: string;
  /** The thread's exit code. */
  readonly exitCode: number;

  constructor(thread: string, exitCode: number, cause?: unknown) {
    const why =
      cause instanceof Error
        ? `: ${cause.message}`
        : cause === undefined
          ? ""
          : `: ${typeof cause === "string" ? cause : inspect(cause)}`;
    super(
      ThreadedErrorCodes.THREAD_EXIT,
      `${thread} exited with code ${exitCode}${why}`,
      cause === undefined ? undefined : { cause },
    );
    this.name = "ThreadExitError";
    this.thread = thread;
    this.exitCode = exitCode;
  }
}
