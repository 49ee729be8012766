/**
 * Sending typed errors from a worker to the master and rebuilding them there, so `listen()`
 * rejects with the same class and code the worker saw.
 * @internal
 */
import { AddressInUseError, EchoError, ErrorCodes, HandlerLoadError, ListenError, PermissionDeniedError } from "@echo/core";
import type { WireError } from "./protocol.js";

export function toWire(error: unknown): WireError {
  const e = error as Partial<EchoError> & { handler?: unknown; address?: unknown };
  return {
    name: typeof e?.name === "string" ? e.name : "Error",
    code: typeof e?.code === "string" ? e.code : undefined,
    message: typeof e?.message === "string" ? e.message : String(error),
    ...(typeof e?.handler === "string" ? { handler: e.handler } : {}),
    ...(typeof e?.address === "string" ? { address: e.address } : {}),
  };
}

export function fromWire(wire: WireError): Error {
  let error: Error;
  switch (wire.code) {
    case ErrorCodes.HANDLER_LOAD:
      error = new HandlerLoadError(wire.handler ?? "?", "");
      break;
    case ErrorCodes.ADDR_IN_USE:
      error = new AddressInUseError(wire.address ?? "?");
      break;
    case ErrorCodes.PERMISSION_DENIED:
      error = new PermissionDeniedError(wire.address ?? "?", undefined);
      break;
    case ErrorCodes.LISTEN:
      error = new ListenError(wire.message);
      break;
    case undefined:
      error = new Error(wire.message);
      break;
    default:
      error = new EchoError(wire.code, wire.message);
  }
  // Keep the worker's exact wording (and subclass name) whatever the constructor composed.
  error.message = wire.message;
  error.name = wire.name;
  return error;
}
