/**
 * One wire format for errors that cross a thread or process boundary, so that a model's
 * `listen()` rejects with the same class, `name`, `code`, message and fields the worker saw.
 * @module
 */
import {
  AddressInUseError,
  CloseTimeoutError,
  EchoError,
  ErrorCodes,
  HandlerError,
  HandlerLoadError,
  IdleTimeoutError,
  InvalidArgumentError,
  ListenError,
  MaxConnectionsError,
  PermissionDeniedError,
  ServerStateError,
} from "../errors.js";

/** An error as plain data: survives `structuredClone`, `postMessage` and JSON (process IPC). */
export interface WireError {
  /** The error's `name`, such as `AddressInUseError`. */
  name: string;
  /** The stable code (`ECHO_ERR_*`, or an errno name such as `EADDRINUSE`), if it had one. */
  code: string | undefined;
  /** The message, word for word. */
  message: string;
  /** The error's other own fields that are strings, numbers or booleans (`address`, `handler`, `fd`, …). */
  fields: Record<string, string | number | boolean>;
  /** The error's `cause`, in the same form, when it had one. */
  cause?: WireError;
}

/** An error class {@link fromWire} can rebuild: any `EchoError` subclass. */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** The classes of core's codes. */
const coreClasses: Readonly<Record<string, ErrorClass>> = {
  [ErrorCodes.INVALID_ARG]: InvalidArgumentError,
  [ErrorCodes.ADDR_IN_USE]: AddressInUseError,
  [ErrorCodes.PERMISSION_DENIED]: PermissionDeniedError,
  [ErrorCodes.LISTEN]: ListenError,
  [ErrorCodes.SERVER_STATE]: ServerStateError,
  [ErrorCodes.HANDLER_LOAD]: HandlerLoadError,
  [ErrorCodes.HANDLER]: HandlerError,
  [ErrorCodes.IDLE_TIMEOUT]: IdleTimeoutError,
  [ErrorCodes.MAX_CONNECTIONS]: MaxConnectionsError,
  [ErrorCodes.CLOSE_TIMEOUT]: CloseTimeoutError,
};

const MAX_CAUSE_DEPTH = 4;

/** Turns any thrown value into a {@link WireError}. */
export function toWire(error: unknown, depth = 0): WireError {
  const e = (typeof error === "object" && error !== null ? error : {}) as Record<string, unknown>;
  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(e)) {
    if (key === "name" || key === "code" || key === "message" || key === "cause") continue;
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") fields[key] = value;
  }
  const wire: WireError = {
    name: typeof e.name === "string" ? e.name : "Error",
    code: typeof e.code === "string" ? e.code : undefined,
    message: typeof e.message === "string" ? e.message : String(error),
    fields,
  };
  if (e.cause !== undefined && depth < MAX_CAUSE_DEPTH) wire.cause = toWire(e.cause, depth + 1);
  return wire;
}

/**
 * Rebuilds the error a {@link WireError} describes: an instance of core's class for core's codes,
 * of `classes[code]` for a model's own codes, `EchoError` for any other `ECHO_ERR_*` code, and
 * `Error` (with `code`) otherwise. No constructor runs: name, message and fields are the ones
 * sent, word for word.
 */
export function fromWire(wire: WireError, classes: Readonly<Record<string, ErrorClass>> = {}): Error {
  const code = wire.code;
  const cls: ErrorClass =
    code === undefined
      ? Error
      : (classes[code] ?? coreClasses[code] ?? (code.startsWith("ECHO_ERR_") ? EchoError : Error));
  const options = wire.cause === undefined ? undefined : { cause: fromWire(wire.cause, classes) };
  // A real Error (stack, [[ErrorData]]) whose prototype is the class's, without its constructor.
  const error = Reflect.construct(Error, [wire.message, options], cls) as Error & Record<string, unknown>;
  Object.assign(error, wire.fields);
  error.name = wire.name;
  if (code !== undefined) error.code = code;
  return error;
}
