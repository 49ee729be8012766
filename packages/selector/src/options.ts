/**
 * Options of {@link SelectorServer}: core's listen and limit options, plus the selector to use.
 * @module
 */
import type { LimitOptions, ListenOptions, Logger, ProxyOptions } from "@echo/core";
import {
  checkBoolean,
  checkOneOf,
  normalizeModelOptions,
  type NormalizedModelOptions,
  type ModelOptions,
} from "@echo/core/model-kit";
import { selectorKinds, type SelectorKind } from "./internal/protocol.js";

export { selectorKinds };
export type { SelectorKind };

/** Options of {@link SelectorServer}. */
/**
 * SelectorServerOptions also take the observability options every model has: `metrics` (serve `/metrics`,
 * `/healthz`, `/readyz`, `/stats` over HTTP at `PORT`, `HOST:PORT` or `[IPV6]:PORT`, loopback by
 * default) and `logFormat` (`"json"`: one JSON object per line through pino).
 */
export interface SelectorServerOptions
  extends ListenOptions, LimitOptions, ProxyOptions, Pick<ModelOptions, "metrics" | "logFormat"> {
  /**
   * The readiness mechanism: `epoll`, `poll`, `select`, `io_uring`, or `default` (epoll on Linux,
   * else poll). `select` refuses connections whose descriptor is at or above FD_SETSIZE (1024).
   * `io_uring` is completion based (multishot accept and recv, provided buffers, batched sends;
   * Linux 6.1+): where the kernel or a seccomp filter refuses it, `listen()` rejects with
   * `IoUringUnavailableError`.
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

type SharedOptions = Omit<NormalizedModelOptions, "raw">;

/** {@link SelectorServerOptions} validated, defaults applied. @internal */
export interface NormalizedSelectorOptions extends SharedOptions {
  selector: SelectorKind;
  echoFastPath: boolean;
}

/**
 * Validates options up front; messages name the option.
 * @throws {InvalidArgumentError}
 * @internal
 */
export function normalizeSelectorOptions(options: SelectorServerOptions = {}): NormalizedSelectorOptions {
  const common = normalizeModelOptions(options, {
    carrier: { kind: "structuredClone", importer: "the loop's thread", destination: "the loop's thread" },
    workerName: "SelectorThread",
  });
  const { raw, ...shared } = common;
  const o = raw as SelectorServerOptions;
  return {
    ...shared,
    selector: o.selector === undefined ? "default" : checkOneOf("options.selector", o.selector, selectorKinds),
    echoFastPath: o.echoFastPath === undefined ? true : checkBoolean("options.echoFastPath", o.echoFastPath),
  };
}
