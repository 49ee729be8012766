/**
 * Every error echo throws is an {@link EchoError} with a stable string `code`.
 * Match on `err.code`, not on `instanceof`: two copies of a package may coexist in one tree.
 * @module
 */

/** The stable error codes of `@echo/core`. The README's Errors table lists each one. */
export const ErrorCodes = {
  INVALID_ARG: "ECHO_ERR_INVALID_ARG",
  ADDR_IN_USE: "ECHO_ERR_ADDR_IN_USE",
  PERMISSION_DENIED: "ECHO_ERR_PERMISSION_DENIED",
  LISTEN: "ECHO_ERR_LISTEN",
  SERVER_STATE: "ECHO_ERR_SERVER_STATE",
  HANDLER_LOAD: "ECHO_ERR_HANDLER_LOAD",
  HANDLER: "ECHO_ERR_HANDLER",
  IDLE_TIMEOUT: "ECHO_ERR_IDLE_TIMEOUT",
  MAX_CONNECTIONS: "ECHO_ERR_MAX_CONNECTIONS",
  CLOSE_TIMEOUT: "ECHO_ERR_CLOSE_TIMEOUT",
  /** `--user`/`--group`/`--umask` were given but the optional peer `@echo/privdrop` is not installed. */
  PRIVDROP_MISSING: "ECHO_ERR_PRIVDROP_MISSING",
  // PROXY protocol and socket activation (issue 11).
  /** A connection's PROXY header was malformed, too long, cut short, or missing; only that connection was closed. */
  PROXY_HEADER: "ECHO_ERR_PROXY_HEADER",
  /** A connection sent no complete PROXY header within `proxyHeaderTimeout`; only that connection was closed. */
  PROXY_TIMEOUT: "ECHO_ERR_PROXY_TIMEOUT",
  /** A connection came from an address outside `trustedProxies`; it was closed without a reply. */
  PROXY_UNTRUSTED: "ECHO_ERR_PROXY_UNTRUSTED",
  /** `listenFd` was given but no usable socket was passed (not activated, wrong pid, not a socket). */
  SOCKET_ACTIVATION: "ECHO_ERR_SOCKET_ACTIVATION",
  /** A model cannot serve UDP on this Node.js version (`DatagramUnsupportedError` names the version needed). */
  DATAGRAM_UNSUPPORTED: "ECHO_ERR_DATAGRAM_UNSUPPORTED",
} as const;

/** One of the {@link ErrorCodes} values. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every error echo throws. `code` is stable across versions. */
export class EchoError extends Error {
  /** A stable, machine-readable code such as `ECHO_ERR_ADDR_IN_USE`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EchoError";
    this.code = code;
  }
}

/** An option or argument has a wrong type or value. The message names the option. */
export class InvalidArgumentError extends EchoError {
  constructor(message: string) {
    super(ErrorCodes.INVALID_ARG, message);
    this.name = "InvalidArgumentError";
  }
}

/** The address is already taken by another socket. */
export class AddressInUseError extends EchoError {
  /** The address that could not be bound, as `host:port` or a socket path. */
  readonly address: string;

  constructor(address: string, options?: { cause?: unknown }) {
    super(ErrorCodes.ADDR_IN_USE, `address ${address} is already in use`, options);
    this.name = "AddressInUseError";
    this.address = address;
  }
}

/** Binding was refused by the OS, typically a port below 1024 without root. */
export class PermissionDeniedError extends EchoError {
  /** The address that could not be bound. */
  readonly address: string;

  constructor(address: string, port: number | undefined, options?: { cause?: unknown }) {
    const hint =
      port !== undefined && port > 0 && port < 1024
        ? `: ports below 1024 need root or CAP_NET_BIND_SERVICE. Start as root and drop privileges ` +
          `after binding (--user nobody, package @echo/privdrop), or choose a port of 1024 or more`
        : "";
    super(ErrorCodes.PERMISSION_DENIED, `permission denied binding ${address}${hint}`, options);
    this.name = "PermissionDeniedError";
    this.address = address;
  }
}

/** Listening failed for another reason (bad address, unknown interface, …). */
export class ListenError extends EchoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.LISTEN, message, options);
    this.name = "ListenError";
  }
}

/** A method was called in a state that does not allow it (listen twice, listen after close). */
export class ServerStateError extends EchoError {
  constructor(message: string) {
    super(ErrorCodes.SERVER_STATE, message);
    this.name = "ServerStateError";
  }
}

/** A handler module could not be found, loaded or does not export a handler. */
export class HandlerLoadError extends EchoError {
  /** The handler name, path or URL that was asked for. */
  readonly handler: string;

  constructor(handler: string, reason: string, options?: { cause?: unknown }) {
    super(ErrorCodes.HANDLER_LOAD, `cannot load handler ${JSON.stringify(handler)}: ${reason}`, options);
    this.name = "HandlerLoadError";
    this.handler = handler;
  }
}

/** A handler threw or rejected. Only its own connection is closed; `cause` is what it threw. */
export class HandlerError extends EchoError {
  constructor(callback: string, cause: unknown) {
    const what = cause instanceof Error ? cause.message : String(cause);
    super(ErrorCodes.HANDLER, `handler ${callback} failed: ${what}`, { cause });
    this.name = "HandlerError";
  }
}

/** A connection was closed because the client stayed silent past `idleTimeout`. */
export class IdleTimeoutError extends EchoError {
  constructor(timeoutMs: number) {
    super(ErrorCodes.IDLE_TIMEOUT, `connection idle for ${timeoutMs} ms`);
    this.name = "IdleTimeoutError";
  }
}

/** A connection was refused because `maxConnections` were already open. */
export class MaxConnectionsError extends EchoError {
  constructor(max: number) {
    super(ErrorCodes.MAX_CONNECTIONS, `connection rejected: maxConnections (${max}) reached`);
    this.name = "MaxConnectionsError";
  }
}

/** Connections still open at the close deadline were destroyed. */
export class CloseTimeoutError extends EchoError {
  constructor(timeoutMs: number, remaining: number) {
    super(ErrorCodes.CLOSE_TIMEOUT, `${remaining} connection(s) still open after ${timeoutMs} ms: destroyed`);
    this.name = "CloseTimeoutError";
  }
}
