/**
 * Options of {@link SelectorServer}: core's listen and limit options, plus the selector to use.
 * @module
 */
import {
  checkBoolean,
  checkLogger,
  checkOneOf,
  checkOptionsObject,
  checkString,
  InvalidArgumentError,
  normalizeLimits,
  normalizeListenOptions,
  stderrLogger,
  type LimitOptions,
  type ListenOptions,
  type Logger,
  type NormalizedLimits,
  type NormalizedListenOptions,
} from "@echo/core";
import { selectorKinds, type SelectorKind } from "./internal/protocol.js";

export { selectorKinds };
export type { SelectorKind };

/** Options of {@link SelectorServer}. */
export interface SelectorServerOptions extends ListenOptions, LimitOptions {
  /**
   * The readiness mechanism: `epoll`, `poll`, `select`, or `default` (epoll on Linux, else
   * poll). `select` refuses connections whose descriptor is at or above FD_SETSIZE (1024).
   * @default "default"
   */
  selector?: SelectorKind;
  /**
   * A built-in handler name (`echo`, `upper`, `whoami`, `http-hello`), a module path or a
   * `file:` URL. The loop runs in its own thread, which imports the module itself, so a handler
   * object cannot be passed. @default "echo"
   */
  handler?: string | URL;
  /** Passed to a handler factory as `context.options`; must be structured-cloneable. */
  handlerOptions?: unknown;
  /**
   * Serve the built-in `echo` handler inside the C loop (same behaviour and limits, no call into
   * JavaScript per chunk). Set false to run it through JavaScript like any other handler.
   * @default true
   */
  echoFastPath?: boolean;
  /** Log one line per connection (`Connected by 127.0.0.1:50312`). @default false */
  logConnections?: boolean;
  /** Where log lines go (called on the thread that created the server). @default stderr */
  logger?: Logger;
  /** The name handlers see as `conn.worker`. @default "SelectorThread" */
  workerName?: string;
}

/** {@link SelectorServerOptions} validated, defaults applied. @internal */
export interface NormalizedSelectorOptions {
  selector: SelectorKind;
  handler: string | URL;
  handlerOptions: unknown;
  echoFastPath: boolean;
  logConnections: boolean;
  logger: Logger;
  workerName: string;
  listen: NormalizedListenOptions;
  limits: NormalizedLimits;
}

/**
 * Validates options up front; messages name the option.
 * @throws {InvalidArgumentError}
 * @internal
 */
export function normalizeSelectorOptions(options: SelectorServerOptions = {}): NormalizedSelectorOptions {
  const o = checkOptionsObject("options", options) as SelectorServerOptions;
  const handler = o.handler ?? "echo";
  if (!((typeof handler === "string" && handler.length > 0) || handler instanceof URL)) {
    throw new InvalidArgumentError(
      `options.handler must be a handler name, a module path or a URL (the loop runs in its own thread, so a handler object cannot be passed), got ${typeof handler}`,
    );
  }
  if (o.handlerOptions !== undefined) {
    try {
      structuredClone(o.handlerOptions);
    } catch {
      throw new InvalidArgumentError("options.handlerOptions must be structured-cloneable (it is sent to the loop's thread)");
    }
  }
  return {
    selector: o.selector === undefined ? "default" : checkOneOf("options.selector", o.selector, selectorKinds),
    handler,
    handlerOptions: o.handlerOptions,
    echoFastPath: o.echoFastPath === undefined ? true : checkBoolean("options.echoFastPath", o.echoFastPath),
    logConnections: o.logConnections === undefined ? false : checkBoolean("options.logConnections", o.logConnections),
    logger: o.logger === undefined ? stderrLogger : checkLogger("options.logger", o.logger),
    workerName: o.workerName === undefined ? "SelectorThread" : checkString("options.workerName", o.workerName),
    listen: normalizeListenOptions(o),
    limits: normalizeLimits(o),
  };
}
