/**
 * Server options: their types, defaults, and validation up front with messages that name
 * the option. Other server packages reuse these so every model takes the same options.
 * @module
 */
import { InvalidArgumentError } from "./errors.js";
import type { HandlerExport } from "./handler.js";

/** Where a server listens. Give `port` (with `host`) or `path`. */
export interface ListenOptions {
  /** Interface to bind. @default "127.0.0.1" */
  host?: string;
  /** TCP port; 0 picks a free one, reported by `address()`. @default 0 */
  port?: number;
  /** A Unix domain socket path; when given, `host` and `port` are ignored. */
  path?: string;
  /** Listen on IPv6 only when `host` is `::`. @default false */
  ipv6Only?: boolean;
  /** Length of the kernel's queue of connections not yet accepted. @default 511 */
  backlog?: number;
}

/** Limits, on by default, that keep one client from hurting the others. */
export interface LimitOptions {
  /** Connections open at once; more are accepted and closed at once. @default 10000 */
  maxConnections?: number;
  /** Milliseconds a client may stay silent before it is closed; 0 disables. @default 60000 */
  idleTimeout?: number;
  /**
   * Bytes of output a connection may hold before the server stops reading it until the client
   * reads; bounds memory per connection whatever the client does. @default 1048576
   */
  maxBuffered?: number;
  /** Milliseconds `close()` waits for connections to finish before destroying them. @default 10000 */
  closeTimeout?: number;
}

/** Something that can log. `console` fits. */
export interface Logger {
  info(message: string): void;
  error(message: string): void;
}

/** The concurrency models of `@echo/core`. */
export type CoreModel = "once" | "iterative" | "async";

/** Options of {@link EchoServer}. */
export interface ServerOptions extends ListenOptions, LimitOptions {
  /** How connections are served. @default "async" */
  model?: CoreModel;
  /** A built-in handler name, a module path or URL, or a handler itself. @default "echo" */
  handler?: string | URL | HandlerExport;
  /** Passed to a handler factory as `context.options`. */
  handlerOptions?: unknown;
  /** Log one line per connection (`Connected by 127.0.0.1:50312`). @default false */
  logConnections?: boolean;
  /** Where log lines go. @default a logger writing to stderr */
  logger?: Logger;
  /** The name handlers see as `conn.worker`. @default "MainThread" */
  workerName?: string;
}

/** {@link ListenOptions} with defaults applied. */
export interface NormalizedListenOptions {
  host: string;
  port: number;
  path: string | undefined;
  ipv6Only: boolean;
  backlog: number;
}

/** {@link LimitOptions} with defaults applied. */
export type NormalizedLimits = Required<LimitOptions>;

/** The default limits. */
export const defaultLimits: Readonly<NormalizedLimits> = Object.freeze({
  maxConnections: 10_000,
  idleTimeout: 60_000,
  maxBuffered: 1024 * 1024,
  closeTimeout: 10_000,
});

const MAX_TIMER = 2 ** 31 - 1;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Throws unless `value` is an integer in [min, max]; `name` is the option's full name. */
export function checkInteger(name: string, value: unknown, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new InvalidArgumentError(`${name} must be an integer ${range}, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is a boolean. */
export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new InvalidArgumentError(`${name} must be a boolean, got ${describe(value)}`);
  return value;
}

/** Throws unless `value` is a non-empty string. */
export function checkString(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new InvalidArgumentError(`${name} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is one of `allowed`. */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new InvalidArgumentError(
      `${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${describe(value)}`,
    );
  }
  return value as T;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined)
    return String(value);
  return typeof value;
}

/** Checks that `options` is undefined or an object. */
export function checkOptionsObject(name: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (!isObject(options)) throw new InvalidArgumentError(`${name} must be an object, got ${describe(options)}`);
  return options;
}

/** Applies defaults to {@link ListenOptions} and validates them. */
export function normalizeListenOptions(options: ListenOptions = {}, prefix = "options"): NormalizedListenOptions {
  const o = checkOptionsObject(prefix, options) as ListenOptions;
  const path = o.path === undefined ? undefined : checkString(`${prefix}.path`, o.path);
  return {
    host: o.host === undefined ? "127.0.0.1" : checkString(`${prefix}.host`, o.host),
    port: o.port === undefined ? 0 : checkInteger(`${prefix}.port`, o.port, 0, 65535),
    path,
    ipv6Only: o.ipv6Only === undefined ? false : checkBoolean(`${prefix}.ipv6Only`, o.ipv6Only),
    backlog: o.backlog === undefined ? 511 : checkInteger(`${prefix}.backlog`, o.backlog, 1, 65535),
  };
}

/** Applies defaults to {@link LimitOptions} and validates them. */
export function normalizeLimits(options: LimitOptions = {}, prefix = "options"): NormalizedLimits {
  const o = checkOptionsObject(prefix, options) as LimitOptions;
  return {
    maxConnections:
      o.maxConnections === undefined
        ? defaultLimits.maxConnections
        : checkInteger(`${prefix}.maxConnections`, o.maxConnections, 1),
    idleTimeout:
      o.idleTimeout === undefined
        ? defaultLimits.idleTimeout
        : checkInteger(`${prefix}.idleTimeout`, o.idleTimeout, 0, MAX_TIMER),
    maxBuffered:
      o.maxBuffered === undefined
        ? defaultLimits.maxBuffered
        : checkInteger(`${prefix}.maxBuffered`, o.maxBuffered, 1024),
    closeTimeout:
      o.closeTimeout === undefined
        ? defaultLimits.closeTimeout
        : checkInteger(`${prefix}.closeTimeout`, o.closeTimeout, 0, MAX_TIMER),
  };
}

/** Checks a logger: an object with `info` and `error` functions. */
export function checkLogger(name: string, value: unknown): Logger {
  if (!isObject(value) || typeof value.info !== "function" || typeof value.error !== "function") {
    throw new InvalidArgumentError(`${name} must be an object with info(message) and error(message) functions`);
  }
  return value as unknown as Logger;
}

/** A logger writing one line per message to stderr. */
export const stderrLogger: Logger = {
  info: (message) => process.stderr.write(`${message}\n`),
  error: (message) => process.stderr.write(`${message}\n`),
};
