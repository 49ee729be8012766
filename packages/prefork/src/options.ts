/**
 * `PreforkServer` options: types, defaults, validation with messages that name the option.
 * @module
 */
import { availableParallelism } from "node:os";
import { InvalidArgumentError, type LimitOptions, type ListenOptions, type Logger } from "@echo/core";
import {
  checkInteger,
  checkOneOf,
  checkOptionsObject,
  normalizeModelOptions,
  type NormalizedModelOptions,
} from "@echo/core/model-kit";

/** How connections reach workers. */
export type Schedule = "os" | "round-robin";

/** The schedules, in a fixed order. */
export const schedules: readonly Schedule[] = ["os", "round-robin"];

/** Privilege drop done by every worker before it accepts (needs `@echo/privdrop`). */
export interface PrivilegeOptions {
  /** User to become. */
  user?: string;
  /** Group to become. @default privdrop's choice (nogroup, else nobody, else the user's group) */
  group?: string;
  /** umask after dropping. @default privdrop's (0o007) */
  umask?: number;
}

/** Options of {@link PreforkServer}. */
export interface PreforkOptions extends ListenOptions, LimitOptions {
  /**
   * A built-in handler name (`echo`, `upper`, `whoami`, `http-hello`), a module path or a `file:`
   * URL. A handler object cannot cross a process boundary, so a module is required. @default "echo"
   */
  handler?: string | URL;
  /** Passed to a handler factory as `context.options` in every worker; must survive JSON. */
  handlerOptions?: unknown;
  /** Worker processes. @default os.availableParallelism() */
  workers?: number;
  /**
   * `os`: every worker accepts on the shared socket and the kernel picks (the article's model).
   * `round-robin`: the master accepts and hands connections to workers in turn. @default "os"
   */
  schedule?: Schedule;
  /** Milliseconds between a worker's heartbeats. @default 1000 */
  heartbeatInterval?: number;
  /** A worker silent this long (its event loop blocked) is SIGKILLed and replaced. @default 10000 */
  heartbeatTimeout?: number;
  /** Milliseconds a worker may take from fork to listening. @default 30000 */
  bootTimeout?: number;
  /** Recycle a worker after it has accepted this many connections; 0 disables. @default 0 */
  maxRequests?: number;
  /** Adds a random 0..maxRequestsJitter to each worker's `maxRequests`, so workers do not recycle together. @default 0 */
  maxRequestsJitter?: number;
  /** First delay before replacing a crashed worker; doubles with each further crash. @default 100 */
  backoffInitial?: number;
  /** Largest replacement delay. @default 10000 */
  backoffMax?: number;
  /** More crashes than this within `crashWindow` stop the server with `CrashLoopError`. @default 10 */
  maxCrashes?: number;
  /** Milliseconds a crash is remembered for backoff and the crash-loop guard. @default 60000 */
  crashWindow?: number;
  /** Drop privileges in each worker before it accepts. Needs `@echo/privdrop`. */
  privileges?: PrivilegeOptions;
  /** Node flags for worker processes. @default process.execArgv */
  execArgv?: readonly string[];
  /** Log one line per connection in the workers. @default false */
  logConnections?: boolean;
  /** Where the master logs (worker exits, replacements, heartbeat kills). @default stderr */
  logger?: Logger;
}

type SharedOptions = Omit<NormalizedModelOptions, "raw">;

/** {@link PreforkOptions} with defaults applied. @internal */
export interface NormalizedPreforkOptions extends SharedOptions {
  workers: number;
  schedule: Schedule;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  bootTimeout: number;
  maxRequests: number;
  maxRequestsJitter: number;
  backoffInitial: number;
  backoffMax: number;
  maxCrashes: number;
  crashWindow: number;
  privileges: PrivilegeOptions | undefined;
  execArgv: string[];
}

const MAX_TIMER = 2 ** 31 - 1;

function int(o: Record<string, unknown>, key: string, fallback: number, min: number, max = MAX_TIMER): number {
  return o[key] === undefined ? fallback : checkInteger(`options.${key}`, o[key], min, max);
}

function normalizePrivileges(value: unknown): PrivilegeOptions | undefined {
  if (value === undefined) return undefined;
  const p = checkOptionsObject("options.privileges", value);
  const out: PrivilegeOptions = {};
  for (const key of ["user", "group"] as const) {
    if (p[key] === undefined) continue;
    if (typeof p[key] !== "string" || p[key] === "")
      throw new InvalidArgumentError(`options.privileges.${key} must be a non-empty string`);
    out[key] = p[key];
  }
  if (p.umask !== undefined) out.umask = checkInteger("options.privileges.umask", p.umask, 0, 0o777);
  return out;
}

/**
 * Validates `options` and applies defaults.
 * @throws {InvalidArgumentError} the message names the option.
 * @internal
 */
export function normalizePreforkOptions(options: PreforkOptions = {}): NormalizedPreforkOptions {
  const common = normalizeModelOptions(options, {
    carrier: { kind: "json", importer: "every worker process", destination: "every worker" },
  });
  const { raw: o, ...shared } = common;
  const heartbeatInterval = int(o, "heartbeatInterval", 1000, 10);
  const heartbeatTimeout = int(o, "heartbeatTimeout", Math.max(10_000, heartbeatInterval * 3), 1);
  if (heartbeatTimeout <= heartbeatInterval) {
    throw new InvalidArgumentError(
      `options.heartbeatTimeout (${heartbeatTimeout}) must be greater than options.heartbeatInterval (${heartbeatInterval})`,
    );
  }
  const backoffInitial = int(o, "backoffInitial", 100, 0);
  const backoffMax = int(o, "backoffMax", Math.max(10_000, backoffInitial), 0);
  if (backoffMax < backoffInitial) {
    throw new InvalidArgumentError(
      `options.backoffMax (${backoffMax}) must be at least options.backoffInitial (${backoffInitial})`,
    );
  }
  let execArgv: string[];
  if (o.execArgv === undefined) execArgv = [...process.execArgv];
  else if (Array.isArray(o.execArgv) && o.execArgv.every((a) => typeof a === "string")) execArgv = [...o.execArgv];
  else throw new InvalidArgumentError("options.execArgv must be an array of strings");
  return {
    ...shared,
    workers: int(o, "workers", Math.max(1, availableParallelism()), 1, 1024),
    schedule: o.schedule === undefined ? "os" : checkOneOf("options.schedule", o.schedule, schedules),
    heartbeatInterval,
    heartbeatTimeout,
    bootTimeout: int(o, "bootTimeout", 30_000, 1),
    maxRequests: int(o, "maxRequests", 0, 0, Number.MAX_SAFE_INTEGER),
    maxRequestsJitter: int(o, "maxRequestsJitter", 0, 0, Number.MAX_SAFE_INTEGER),
    backoffInitial,
    backoffMax,
    maxCrashes: int(o, "maxCrashes", 10, 0, Number.MAX_SAFE_INTEGER),
    crashWindow: int(o, "crashWindow", 60_000, 1),
    privileges: normalizePrivileges(o.privileges),
    execArgv,
  };
}
