/**
 * What a model needs to honour the `metrics` and `logFormat` options: its JSON logger, the
 * metrics endpoint, and structured log events that leave text logs unchanged.
 * @module
 */
import { ServerStateError } from "../errors.js";
import type { Logger } from "../options.js";
import type { JsonLogger, LogFields } from "../observability/json-logger.js";
import type { LogFormat } from "../observability/log-format.js";
import type { MetricsAddress } from "../observability/metrics-address.js";
import type { MetricsSource } from "../observability/metrics.js";
import { startObservability, type Observability } from "../observability/start.js";

/** True when `logger` writes structured lines (a {@link JsonLogger}). */
export function isStructured(logger: Logger): logger is JsonLogger {
  return (
    (logger as Partial<JsonLogger>).structured === true && typeof (logger as Partial<JsonLogger>).child === "function"
  );
}

/**
 * Logs `message` with `fields` when `logger` is structured, and `message` alone otherwise: for
 * the lines that exist in text too (handler errors, `Connected by`).
 */
export function logEvent(logger: Logger, level: "info" | "error", message: string, fields: LogFields): void {
  if (isStructured(logger)) logger[level](message, fields);
  else logger[level](message);
}

/**
 * Logs only when `logger` is structured: for the events that have no text line (rejections,
 * drain, worker lifecycle), so that text logs stay exactly as they were.
 */
export function logStructured(logger: Logger, level: "info" | "error", message: string, fields: LogFields): void {
  if (isStructured(logger)) logger[level](message, fields);
}

/**
 * Log fields made fit to cross a thread or process boundary (`structuredClone` or JSON): an
 * `err` becomes `{ type, message, code }`. For workers that send their lines to a logger elsewhere.
 */
export function carryFields(fields: LogFields | undefined): Record<string, unknown> | undefined {
  if (fields === undefined) return undefined;
  const err = fields.err;
  if (!(err instanceof Error)) return { ...fields };
  return { ...fields, err: { type: err.name, message: err.message, code: (err as { code?: unknown }).code } };
}

/**
 * A JSON logger whose lines (one JSON object each, without the newline) are handed to a text
 * `logger`: info lines to `logger.info`, error lines to `logger.error`. A structured logger is
 * returned as it is. Loads `pino` on first use only.
 */
export async function jsonLoggerOver(logger: Logger, model: string, worker = "MainThread"): Promise<JsonLogger> {
  if (isStructured(logger)) return logger;
  const { createJsonLogger } = await import("../observability/json-logger.js");
  let level: "info" | "error" = "info";
  // pino writes synchronously into this stream from inside info()/error(), so `level` is the
  // level of the line being written.
  const destination = { write: (line: string) => logger[level](line.endsWith("\n") ? line.slice(0, -1) : line) };
  const routed = (inner: JsonLogger): JsonLogger => ({
    structured: true,
    info(message, fields) {
      level = "info";
      inner.info(message, fields);
    },
    error(message, fields) {
      level = "error";
      inner.error(message, fields);
    },
    child: (name) => routed(inner.child(name)),
  });
  return routed(createJsonLogger({ model, worker, destination }));
}

/**
 * The logger a model serves with: `logger` itself for `text`, a JSON logger over it for `json`
 * (see {@link jsonLoggerOver}).
 */
export async function modelLogger(
  logger: Logger,
  format: LogFormat,
  model: string,
  worker = "MainThread",
): Promise<Logger> {
  return format === "json" ? jsonLoggerOver(logger, model, worker) : logger;
}

/** Options of {@link startModelMetrics}. */
export interface ModelMetricsOptions {
  /** The normalized `metrics` option; `undefined` starts nothing. */
  address: MetricsAddress | undefined;
  /** The `model` label. */
  model: string;
  /** Each worker's counters and lifetimes at scrape time. */
  source: MetricsSource;
  /** What `/stats` serves. */
  stats: () => unknown;
  /** The `worker` label of the process metrics. @default "MainThread" */
  processWorker?: string;
}

/**
 * Starts the metrics endpoint when the `metrics` option asks for one (`/readyz` stays 503 until
 * `setReady()`), and returns `undefined` otherwise. prom-client is loaded only here.
 * @throws {AddressInUseError} {@link PermissionDeniedError} {@link ListenError} binding failed.
 */
export async function startModelMetrics(options: ModelMetricsOptions): Promise<Observability | undefined> {
  if (options.address === undefined) return undefined;
  return startObservability({
    address: options.address,
    model: options.model,
    source: options.source,
    stats: options.stats,
    ...(options.processWorker !== undefined ? { processWorker: options.processWorker } : {}),
  });
}

/** What {@link serveModelMetrics} needs from the server starting it. */
export interface MetricsStartHooks {
  /** Whether the server is still starting (false once `close()` was called meanwhile). */
  starting(): boolean;
  /** Closes the server when the endpoint cannot start (say its port is taken). */
  abort(): Promise<unknown>;
}

/**
 * The last step of a model's `listen()`: starts the endpoint ({@link startModelMetrics}), and
 * makes `/readyz` 200. If binding the endpoint fails the server is closed (`abort`) and the
 * error thrown; if the server was closed meanwhile the endpoint is closed again and a
 * `ServerStateError` thrown.
 */
export async function serveModelMetrics(
  options: ModelMetricsOptions,
  hooks: MetricsStartHooks,
): Promise<Observability | undefined> {
  let observability: Observability | undefined;
  try {
    observability = await startModelMetrics(options);
  } catch (error) {
    await hooks.abort();
    throw error;
  }
  if (!hooks.starting()) {
    await observability?.close();
    throw new ServerStateError("the server was closed while starting");
  }
  observability?.setReady();
  return observability;
}
