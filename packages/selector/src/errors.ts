/**
 * The errors of `@echo/selector`. Each is an `EchoError` (from `@echo/core`) with a stable
 * `code`; match on `err.code`.
 * @module
 */
import { EchoError } from "@echo/core";

/** The stable error codes of `@echo/selector`. The README's Errors table lists each one. */
export const SelectorErrorCodes = {
  NATIVE_UNAVAILABLE: "ECHO_ERR_NATIVE_UNAVAILABLE",
  FD_SETSIZE: "ECHO_ERR_FD_SETSIZE",
  ALREADY_REGISTERED: "ECHO_ERR_ALREADY_REGISTERED",
  NOT_REGISTERED: "ECHO_ERR_NOT_REGISTERED",
  SELECTOR_CLOSED: "ECHO_ERR_SELECTOR_CLOSED",
  SYSCALL: "ECHO_ERR_SYSCALL",
  IO_URING_UNAVAILABLE: "ECHO_ERR_IO_URING_UNAVAILABLE",
} as const;

/** Neither the prebuilt binary nor a local build of the addon could be loaded. */
export class NativeUnavailableError extends EchoError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(
      SelectorErrorCodes.NATIVE_UNAVAILABLE,
      `the @echo/selector native addon cannot be loaded: ${reason}. ` +
        `No prebuilt binary fits ${process.platform}-${process.arch}; build it from source in the package directory ` +
        `with \`npm run build:native\` (needs a C compiler, make and python3 for node-gyp)`,
      options,
    );
    this.name = "NativeUnavailableError";
  }
}

/** `select()` cannot watch a descriptor at or above FD_SETSIZE (1024 on Linux). */
export class FdSetSizeError extends EchoError {
  /** The descriptor that was refused. */
  readonly fd: number;

  constructor(fd: number, fdSetSize: number) {
    super(
      SelectorErrorCodes.FD_SETSIZE,
      `select() cannot watch descriptor ${fd}: it is at or above FD_SETSIZE (${fdSetSize}); use PollSelector or EpollSelector (--selector poll|epoll)`,
    );
    this.name = "FdSetSizeError";
    this.fd = fd;
  }
}

/** `register()` of a descriptor that is already registered (Python raises KeyError). */
export class AlreadyRegisteredError extends EchoError {
  constructor(fd: number) {
    super(SelectorErrorCodes.ALREADY_REGISTERED, `descriptor ${fd} is already registered`);
    this.name = "AlreadyRegisteredError";
  }
}

/** `unregister()`, `modify()` or `getKey()` of a descriptor that is not registered. */
export class NotRegisteredError extends EchoError {
  constructor(fd: number) {
    super(SelectorErrorCodes.NOT_REGISTERED, `descriptor ${fd} is not registered`);
    this.name = "NotRegisteredError";
  }
}

/** A method other than `close()` was called on a closed selector. */
export class SelectorClosedError extends EchoError {
  constructor(method: string) {
    super(SelectorErrorCodes.SELECTOR_CLOSED, `${method}() called on a closed selector`);
    this.name = "SelectorClosedError";
  }
}

/** A system call failed; `errno` is its name (`EBADF`), `syscall` the call. */
export class SystemCallError extends EchoError {
  /** The errno name, such as `EBADF`. */
  readonly errno: string;
  /** The failing call, such as `epoll_ctl`. */
  readonly syscall: string;

  constructor(cause: unknown) {
    const e = cause as { code?: string; syscall?: string; message?: string };
    super(SelectorErrorCodes.SYSCALL, e?.message ?? String(cause), { cause });
    this.name = "SystemCallError";
    this.errno = e?.code ?? "EIO";
    this.syscall = e?.syscall ?? "unknown";
  }
}

/**
 * io_uring was asked for by name (`selector: "io_uring"`, `IoUringSelector`) and this kernel or
 * process refuses it: no io_uring (ENOSYS), a seccomp filter (EPERM, as Docker's default
 * profile), `/proc/sys/kernel/io_uring_disabled`, or a kernel older than 6.1. `reason` says which.
 */
export class IoUringUnavailableError extends EchoError {
  /** Why io_uring cannot be used here. */
  readonly reason: string;

  constructor(reason: string) {
    super(
      SelectorErrorCodes.IO_URING_UNAVAILABLE,
      `io_uring is not available: ${reason}; use --selector epoll (the default)`,
    );
    this.name = "IoUringUnavailableError";
    this.reason = reason;
  }
}

/** The classes of the errors the loop thread can throw, by code, to rebuild them from the wire. @internal */
export const selectorErrorClasses = {
  [SelectorErrorCodes.NATIVE_UNAVAILABLE]: NativeUnavailableError,
  [SelectorErrorCodes.FD_SETSIZE]: FdSetSizeError,
  [SelectorErrorCodes.SYSCALL]: SystemCallError,
  [SelectorErrorCodes.IO_URING_UNAVAILABLE]: IoUringUnavailableError,
} as const;
