/**
 * The options every model takes (handler, handlerOptions, logging, listen, limits), validated
 * once here, the same way in every model.
 * @module
 */
import { InvalidArgumentError } from "../errors.js";
import type { HandlerExport } from "../handler.js";
import {
  checkBoolean,
  checkLogger,
  checkOptionsObject,
  checkString,
  normalizeLimits,
  normalizeListenOptions,
  stderrLogger,
  type LimitOptions,
  type ListenOptions,
  type Logger,
  type NormalizedLimits,
  type NormalizedListenOptions,
} from "../options.js";

/** The options every model shares. A model's own options interface extends this one. */
export interface ModelOptions extends ListenOptions, LimitOptions {
  /** A built-in handler name, a module path or a `file:` URL (a handler object in-process only). */
  handler?: string | URL | HandlerExport;
  /** Passed to a handler factory as `context.options`. */
  handlerOptions?: unknown;
  /** Log one line per connection. */
  logConnections?: boolean;
  /** Where log lines go. */
  logger?: Logger;
  /** The name handlers see as `conn.worker` (models that take it). */
  workerName?: string;
}

/** How a model's handler and `handlerOptions` reach the code that serves. */
export type HandlerCarrier =
  /** The same thread: a handler object or factory may be passed. */
  | { kind: "in-process" }
  /** Another thread (`structuredClone`), or another process (`json`): a module is required. */
  | {
      kind: "structuredClone" | "json";
      /** Who imports the module, for messages: `each thread`. */
      importer: string;
      /** Where `handlerOptions` go, for messages: `the threads`. */
      destination: string;
    };

/** {@link ModelOptions} validated, defaults applied. */
export interface NormalizedModelOptions<H = string | URL> {
  /** The options object itself, checked to be an object, for the model's own options. */
  raw: Record<string, unknown>;
  handler: H;
  handlerOptions: unknown;
  logConnections: boolean;
  logger: Logger;
  /** Set when `config.workerName` gives a default. */
  workerName: string;
  listen: NormalizedListenOptions;
  limits: NormalizedLimits;
}

function describeType(value: unknown): string {
  return value === null ? "null" : typeof value;
}

/**
 * Validates the options every model shares, with messages that name the option.
 * @param options - what the user passed (may be undefined).
 * @param config.carrier - how the handler reaches the serving code; decides what `handler` may be.
 * @param config.workerName - the default `workerName`, for models that take one.
 * @throws {InvalidArgumentError}
 */
export function normalizeModelOptions<C extends HandlerCarrier>(
  options: unknown,
  config: { carrier: C; workerName?: string },
): NormalizedModelOptions<C extends { kind: "in-process" } ? string | URL | HandlerExport : string | URL> {
  const o = checkOptionsObject("options", options) as ModelOptions & Record<string, unknown>;
  const carrier: HandlerCarrier = config.carrier;
  const handler = o.handler ?? "echo";
  if (carrier.kind === "in-process") {
    if (!(
      typeof handler === "string" ||
      handler instanceof URL ||
      typeof handler === "function" ||
      (typeof handler === "object" && handler !== null)
    )) {
      throw new InvalidArgumentError("options.handler must be a handler name, a path, a URL or a handler");
    }
  } else {
    if (!((typeof handler === "string" && handler.length > 0) || handler instanceof URL)) {
      throw new InvalidArgumentError(
        `options.handler must be a handler name, a module path or a URL (${carrier.importer} imports the module itself, ` +
          `so a handler object cannot be passed), got ${typeof handler === "string" ? '""' : describeType(handler)}`,
      );
    }
    if (o.handlerOptions !== undefined) checkCarried(o.handlerOptions, carrier);
  }
  return {
    raw: o,
    handler: handler as never,
    handlerOptions: o.handlerOptions,
    logConnections: o.logConnections === undefined ? false : checkBoolean("options.logConnections", o.logConnections),
    logger: o.logger === undefined ? stderrLogger : checkLogger("options.logger", o.logger),
    workerName:
      o.workerName === undefined || config.workerName === undefined
        ? (config.workerName ?? "")
        : checkString("options.workerName", o.workerName),
    listen: normalizeListenOptions(o),
    limits: normalizeLimits(o),
  };
}

function checkCarried(value: unknown, carrier: { kind: "structuredClone" | "json"; destination: string }): void {
  try {
    if (carrier.kind === "json") JSON.stringify(value);
    else structuredClone(value);
  } catch (error) {
    const what = carrier.kind === "json" ? "JSON-serializable" : "structured-cloneable";
    throw new InvalidArgumentError(
      `options.handlerOptions must be ${what} to reach ${carrier.destination}: ${(error as Error).message}`,
    );
  }
}
