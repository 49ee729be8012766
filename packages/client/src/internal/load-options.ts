/**
 * Validation and defaults of {@link LoadOptions}.
 * @module
 */
import { invalidArg } from "../errors.js";
import type { LoadOptions } from "../load.js";
import { normalizeProxyHeader, type NormalizedProxyHeader } from "../proxy-header.js";
import { checkProxyTarget } from "./connect.js";
import { describe, resolveTarget, type ResolvedTarget } from "../target.js";

/** Hard caps that keep every run bounded. */
export const LIMITS = {
  maxConnections: 20_000,
  maxDuration: 600,
  maxSize: 64 * 1024 * 1024,
  maxPipeline: 1024,
  maxThreads: 64,
} as const;

/** {@link LoadOptions} after validation, with defaults applied. */
export interface NormalizedLoadOptions {
  target: ResolvedTarget;
  connections: number;
  /** Seconds. */
  duration: number;
  count: number | null;
  size: number;
  pipeline: number;
  newConnection: boolean;
  threads: number;
  connectTimeout: number;
  progressInterval: number;
  proxyHeader: NormalizedProxyHeader | null;
}

function integer(name: string, value: unknown, fallback: number, min: number, max: number, unit = ""): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArg(`options.${name} must be an integer from ${min} to ${max}${unit}, got ${describe(value)}`);
  }
  return value;
}

/**
 * Validates load options; every message names the option.
 * @throws {EchoClientError} `ECHO_ERR_INVALID_ARG`
 */
export function normalizeLoadOptions(options: LoadOptions): NormalizedLoadOptions {
  if (options === null || typeof options !== "object")
    throw invalidArg(`options must be an object, got ${describe(options)}`);
  if (options.port === undefined && options.path === undefined)
    throw invalidArg("options.port or options.path is required");
  if (options.port !== undefined && options.path !== undefined)
    throw invalidArg("options.port and options.path cannot both be set");
  const target = resolveTarget(
    options.path !== undefined ? { path: options.path } : { host: options.host, port: options.port },
    "options",
  );
  if (
    options.connections !== undefined &&
    typeof options.connections === "number" &&
    options.connections > LIMITS.maxConnections
  ) {
    throw invalidArg(
      `options.connections must be at most ${LIMITS.maxConnections} (a hard cap of this tool), got ${options.connections}`,
    );
  }
  const connections = integer("connections", options.connections, 50, 1, LIMITS.maxConnections);
  let duration: number;
  if (options.duration === undefined) duration = options.count === undefined ? 10 : LIMITS.maxDuration;
  else if (typeof options.duration !== "number" || !Number.isFinite(options.duration) || options.duration <= 0) {
    throw invalidArg(`options.duration must be a positive number of seconds, got ${describe(options.duration)}`);
  } else if (options.duration > LIMITS.maxDuration) {
    throw invalidArg(
      `options.duration must be at most ${LIMITS.maxDuration} seconds (a hard cap of this tool), got ${options.duration}`,
    );
  } else duration = options.duration;
  const count = options.count === undefined ? null : integer("count", options.count, 0, 1, Number.MAX_SAFE_INTEGER);
  const size = integer("size", options.size, 64, 1, LIMITS.maxSize, " bytes");
  const pipeline = integer("pipeline", options.pipeline, 1, 1, LIMITS.maxPipeline);
  if (options.newConnection !== undefined && typeof options.newConnection !== "boolean") {
    throw invalidArg(`options.newConnection must be a boolean, got ${describe(options.newConnection)}`);
  }
  const newConnection = options.newConnection ?? false;
  if (newConnection && pipeline > 1)
    throw invalidArg(`options.pipeline must be 1 when options.newConnection is true, got ${pipeline}`);
  const threads = integer("threads", options.threads, 1, 1, LIMITS.maxThreads);
  if (threads > connections)
    throw invalidArg(`options.threads (${threads}) must not exceed options.connections (${connections})`);
  const connectTimeout = integer("connectTimeout", options.connectTimeout, 5000, 1, 600_000, " ms");
  const progressInterval = integer("progressInterval", options.progressInterval, 1000, 10, 600_000, " ms");
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
    throw invalidArg(`options.onProgress must be a function, got ${describe(options.onProgress)}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalidArg(`options.signal must be an AbortSignal, got ${describe(options.signal)}`);
  }
  const proxyHeader = normalizeProxyHeader(options.proxyHeader);
  checkProxyTarget(target, proxyHeader);
  return {
    target,
    connections,
    duration,
    count,
    size,
    pipeline,
    newConnection,
    threads,
    connectTimeout,
    progressInterval,
    proxyHeader,
  };
}

/** Splits `total` into `parts` shares that differ by at most one. */
export function split(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  const rest = total - base * parts;
  return Array.from({ length: parts }, (_, i) => base + (i < rest ? 1 : 0));
}
