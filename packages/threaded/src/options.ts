/**
 * Options of {@link ThreadedServer}: core's listen and limit options, plus the thread count.
 * @module
 */
import { availableParallelism } from "node:os";
import { InvalidArgumentError, type LimitOptions, type ListenOptions, type Logger } from "@echo/core";
import { checkInteger, checkOneOf, normalizeModelOptions, type NormalizedModelOptions } from "@echo/core/model-kit";

/**
 * How connections reach the threads.
 * - `reusePort`: every thread binds its own socket on the port with `SO_REUSEPORT`; the kernel
 *   spreads new connections over them by a hash of the client's address and port.
 * - `shared`: every thread listens on its own duplicate of one listening socket; whichever
 *   thread's event loop takes a connection first serves it.
 */
export type AcceptPath = "reusePort" | "shared";

/** Options of {@link ThreadedServer}. */
export interface ThreadedServerOptions extends ListenOptions, LimitOptions {
  /** Worker threads serving connections, each with its own event loop. @default os.availableParallelism() */
  threads?: number;
  /**
   * A built-in handler name (`echo`, `upper`, `whoami`, `http-hello`), a module path or a `file:`
   * URL. Every thread imports it itself, so a handler object cannot be given here. @default "echo"
   */
  handler?: string | URL;
  /** Passed to a handler factory as `context.options`; must survive `structuredClone`. */
  handlerOptions?: unknown;
  /** Log one line per connection (`Connected by 127.0.0.1:50312`). @default false */
  logConnections?: boolean;
  /** Where log lines go, from every thread. @default a logger writing to stderr */
  logger?: Logger;
  /**
   * How connections reach the threads: `auto` picks `reusePort` when this Node supports it
   * (found by trying) and `shared` otherwise. @default "auto"
   */
  accept?: "auto" | AcceptPath;
}

type SharedOptions = Omit<NormalizedModelOptions, "raw">;

/** {@link ThreadedServerOptions} validated, defaults applied. @internal */
export interface NormalizedThreadedOptions extends SharedOptions {
  threads: number;
  accept: "auto" | AcceptPath;
}

/** The most threads one server may start. */
export const MAX_THREADS = 1024;

/**
 * Validates {@link ThreadedServerOptions}.
 * @throws {InvalidArgumentError} the message names the option.
 * @internal
 */
export function normalizeThreadedOptions(options: ThreadedServerOptions | undefined): NormalizedThreadedOptions {
  const common = normalizeModelOptions(options, {
    carrier: { kind: "structuredClone", importer: "each thread", destination: "the threads" },
  });
  const { raw, ...shared } = common;
  const o = raw as ThreadedServerOptions;
  const threads =
    o.threads === undefined ? availableParallelism() : checkInteger("options.threads", o.threads, 1, MAX_THREADS);
  if (common.listen.path !== undefined) {
    throw new InvalidArgumentError(
      "options.path is not supported by ThreadedServer: give host and port (Unix sockets cannot be shared by several threads' listeners in Node)",
    );
  }
  return {
    ...shared,
    threads,
    accept:
      o.accept === undefined
        ? "auto"
        : checkOneOf("options.accept", o.accept, ["auto", "reusePort", "shared"] as const),
  };
}
