/**
 * `--log-format json`: a {@link Logger} that writes one JSON object per line through `pino`.
 * @module
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";
import { InvalidArgumentError } from "../errors.js";
import type { Logger } from "../options.js";

/**
 * What a structured line is about. Servers log these; a line without an event is a free message.
 * `worker-*` and `heartbeat-timeout` are prefork's (and threaded's) worker lifecycle.
 */
export type LogEvent =
  | "listening"
  | "connection"
  | "rejection"
  | "handler-error"
  | "drain"
  | "exit"
  | "worker-fork"
  | "worker-listening"
  | "worker-exit"
  | "worker-replaced"
  | "worker-recycle"
  | "heartbeat-timeout"
  | "reload";

/**
 * Structured fields of one line. `event` names what happened; `err` (an Error) is serialised
 * with its type, message, code and stack; anything else is written as is. The reserved keys
 * `level`, `time`, `msg`, `model`, `worker` and `pid` are dropped: use {@link JsonLogger.child}
 * for another worker.
 */
export interface LogFields {
  /** What happened; absent for a free message. */
  event?: LogEvent;
  [field: string]: unknown;
}

/** A {@link Logger} whose lines can carry structured {@link LogFields}. Text loggers ignore them. */
export interface JsonLogger extends Logger {
  /**
   * Always `true`: lets a server tell this logger from a text one, to log the events that have
   * no text line (rejections, drain, exit) only where they cannot change the text output.
   */
  readonly structured: true;
  /** Writes `{"level":"info",…,"msg":message}` and the fields. */
  info(message: string, fields?: LogFields): void;
  /** Writes `{"level":"error",…,"msg":message}` and the fields. */
  error(message: string, fields?: LogFields): void;
  /** A logger writing to the same place with another `worker` (a thread or a worker process). */
  child(worker: string): JsonLogger;
}

/** Something a line can be written to: a writable stream, or any object with `write(string)`. */
export interface LogDestination {
  write(line: string): unknown;
}

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** The `model` field of every line. */
  model: string;
  /** The `worker` field of every line. @default "MainThread" */
  worker?: string;
  /**
   * Where lines go: a file descriptor (written synchronously, so nothing is lost when the process
   * exits) or a stream. @default 2 (stderr)
   */
  destination?: number | LogDestination;
}

const RESERVED = new Set(["level", "time", "msg", "model", "worker", "pid"]);

function clean(fields: LogFields | undefined): Record<string, unknown> | undefined {
  if (fields === undefined || fields === null || typeof fields !== "object") return undefined;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    if (RESERVED.has(key)) {
      out ??= { ...fields };
      delete out[key];
    }
  }
  return out ?? fields;
}

/** A pino logger for one worker; pino's own child() would write a second "worker" key. */
function make(stream: DestinationStream, model: string, worker: string): JsonLogger {
  const logger: PinoLogger = pino(
    {
      level: "info",
      base: { pid: process.pid, model, worker },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  return {
    structured: true,
    info(message, fields) {
      const f = clean(fields);
      if (f === undefined) logger.info(message);
      else logger.info(f, message);
    },
    error(message, fields) {
      const f = clean(fields);
      if (f === undefined) logger.error(message);
      else logger.error(f, message);
    },
    child(name) {
      if (typeof name !== "string" || name.length === 0)
        throw new InvalidArgumentError("worker must be a non-empty string");
      return make(stream, model, name);
    },
  };
}

/**
 * Creates a JSON-lines logger: every line is one object with `level` (`"info"` or `"error"`),
 * `time` (ISO 8601), `pid`, `model`, `worker`, the fields given, and `msg`.
 *
 * @example
 * ```ts
 * const logger = createJsonLogger({ model: "async" });
 * logger.info("echo-server listening on 127.0.0.1:7", { event: "listening", address: "127.0.0.1:7" });
 * // {"level":"info","time":"2026-12-04T03:20:00.000Z","pid":4242,"model":"async","worker":"MainThread","event":"listening","address":"127.0.0.1:7","msg":"echo-server listening on 127.0.0.1:7"}
 * ```
 * @throws {InvalidArgumentError} an option has a wrong type or value; the message names it.
 */
export function createJsonLogger(options: JsonLoggerOptions): JsonLogger {
  if (typeof options !== "object" || options === null) throw new InvalidArgumentError("options must be an object");
  if (typeof options.model !== "string" || options.model.length === 0)
    throw new InvalidArgumentError("options.model must be a non-empty string");
  const worker = options.worker ?? "MainThread";
  if (typeof worker !== "string" || worker.length === 0)
    throw new InvalidArgumentError("options.worker must be a non-empty string");
  const dest = options.destination ?? 2;
  let stream: DestinationStream;
  if (typeof dest === "number") {
    if (!Number.isInteger(dest) || dest < 0)
      throw new InvalidArgumentError(`options.destination must be a file descriptor or a stream, got ${dest}`);
    stream = pino.destination({ dest, sync: true });
  } else if (typeof dest === "object" && dest !== null && typeof dest.write === "function") {
    stream = dest;
  } else {
    throw new InvalidArgumentError("options.destination must be a file descriptor or an object with write(line)");
  }
  return make(stream, options.model, worker);
}
