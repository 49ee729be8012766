/**
 * Options of {@link SelectorServer}: core's listen and limit options, plus the selector to use.
 * @module
 */
import { availableParallelism } from "node:os";
import {
  InvalidArgumentError,
  type LimitOptions,
  type ListenOptions,
  type Logger,
  type ProxyOptions,
} from "@echo/core";
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
  /**
   * The name handlers see as `conn.worker`; with several loops each gets `-1`, `-2`, … appended
   * (`SelectorThread-1`). @default "SelectorThread"
   */
  workerName?: string;
  /**
   * Readiness loops, each on its own thread with its own handler instance, or `auto` for
   * `os.availableParallelism()`. @default 1
   */
  loops?: number | "auto";
  /**
   * How several loops share the port (ignored with one loop):
   * - `reusePort`: every loop binds its own socket with `SO_REUSEPORT`; the kernel picks one per
   *   new connection by a hash of the client's address and port. TCP only.
   * - `shared`: every loop waits on its own duplicate of one listening socket (with epoll,
   *   registered `EPOLLEXCLUSIVE`, so one loop is woken per connection); the first to accept
   *   serves it. Works for Unix socket paths too.
   * @default "reusePort" for TCP, "shared" for a Unix socket path
   */
  accept?: LoopAccept;
}

/** How several loops share the port: see {@link SelectorServerOptions.accept}. */
export type LoopAccept = "reusePort" | "shared";

/** The most loops one server may start. */
export const MAX_LOOPS = 1024;

type SharedOptions = Omit<NormalizedModelOptions, "raw">;

/** {@link SelectorServerOptions} validated, defaults applied. @internal */
export interface NormalizedSelectorOptions extends SharedOptions {
  selector: SelectorKind;
  echoFastPath: boolean;
  loops: number;
  accept: LoopAccept;
}

/**
 * Validates a loop count: a whole number from 1 to {@link MAX_LOOPS}, or `auto`.
 * @throws {InvalidArgumentError} the message names `name`.
 * @internal
 */
export function checkLoops(name: string, value: unknown): number {
  if (value === "auto") return Math.min(availableParallelism(), MAX_LOOPS);
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_LOOPS) return value;
  const got =
    typeof value === "string" ? JSON.stringify(value) : typeof value === "number" ? String(value) : typeof value;
  throw new InvalidArgumentError(`${name} must be an integer between 1 and ${MAX_LOOPS} or "auto", got ${got}`);
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
  if (shared.datagram.transport !== "tcp") {
    // The native datagram path (recvmmsg/sendmmsg in the loop) is not built yet: refuse rather than serve TCP only.
    throw new InvalidArgumentError(
      `options.transport ${JSON.stringify(shared.datagram.transport)} is not supported by SelectorServer yet: serve UDP with core's EchoServer, PreforkServer or ThreadedServer`,
    );
  }
  return {
    ...shared,
    selector: o.selector === undefined ? "default" : checkOneOf("options.selector", o.selector, selectorKinds),
    echoFastPath: o.echoFastPath === undefined ? true : checkBoolean("options.echoFastPath", o.echoFastPath),
    loops: o.loops === undefined ? 1 : checkLoops("options.loops", o.loops),
    accept: checkAccept(o.accept, shared.listen.path !== undefined),
  };
}

function checkAccept(value: unknown, unixPath: boolean): LoopAccept {
  if (value === undefined) return unixPath ? "shared" : "reusePort";
  const accept = checkOneOf("options.accept", value, ["reusePort", "shared"] as const);
  if (accept === "reusePort" && unixPath) {
    throw new InvalidArgumentError(
      'options.accept "reusePort" needs TCP (host and port): a Unix socket path is shared by the loops, use accept "shared"',
    );
  }
  return accept;
}
