/**
 * `runLoad()`: the echo load generator as a library.
 * @module
 */
import { randomFillSync } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import hdr, { type Histogram } from "hdr-histogram-js";
import { ClientErrorCodes, EchoClientError } from "./errors.js";
import { connectSocket } from "./internal/connect.js";
import {
  COUNTERS,
  Counter,
  LoadEngine,
  newHistogram,
  type EngineConfig,
  type EngineResult,
  type StopReason,
} from "./internal/engine.js";
import { normalizeLoadOptions, split, type NormalizedLoadOptions } from "./internal/load-options.js";
import type { WorkerInit, WorkerReply } from "./internal/load-worker.js";
import type { ProxyHeaderOption } from "./proxy-header.js";
import { formatTarget } from "./target.js";

/** Options of {@link runLoad}. Give `port` (and `host`) for TCP or `path` for a Unix socket. */
export interface LoadOptions {
  /** Server host. @default "127.0.0.1" */
  host?: string;
  /** Server TCP port. */
  port?: number;
  /** Server Unix socket path (instead of `port`). */
  path?: string;
  /** Connections open at once, 1–20000. @default 50 */
  connections?: number;
  /** Seconds to run, at most 600. @default 10, or 600 when `count` is set (whichever ends first) */
  duration?: number;
  /** Total round trips to complete, then stop. @default unlimited (the duration ends the run) */
  count?: number;
  /** Payload bytes per round trip, 1 B to 64 MiB. @default 64 */
  size?: number;
  /** Round trips in flight per connection (requests written before their echo is back), 1–1024. @default 1 */
  pipeline?: number;
  /** Open a new connection for every round trip (like `ab` without keep-alive); latency then includes connecting. @default false */
  newConnection?: boolean;
  /** Worker threads to spread the connections over, 1–64. 1 runs on the calling thread. @default 1 */
  threads?: number;
  /** Milliseconds to wait for each connection to be established. @default 5000 */
  connectTimeout?: number;
  /**
   * Send a PROXY protocol header first on every connection (the probe too): `"v1"`/`"v2"`
   * announce each connection's own addresses, `{ version, source, destination? }` the ones
   * given. Header bytes are not counted in `bytesSent`. @default undefined (no header)
   */
  proxyHeader?: ProxyHeaderOption;
  /** Stops the run early; the result is still returned, with `stoppedBy: "aborted"`. */
  signal?: AbortSignal;
  /** Called every `progressInterval` ms while the run lasts. */
  onProgress?: (progress: LoadProgress) => void;
  /** Milliseconds between `onProgress` calls. @default 1000 */
  progressInterval?: number;
}

/** A snapshot passed to {@link LoadOptions.onProgress}. */
export interface LoadProgress {
  /** Seconds since the start. */
  elapsed: number;
  /** Round trips completed so far. */
  roundTrips: number;
  /** Round trips per second over the last interval. */
  roundTripsPerSecond: number;
  errors: number;
  mismatches: number;
}

/** Latency percentiles of a run, in microseconds. */
export interface LatencySummary {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** What {@link runLoad} measured. Every field is plain data (`JSON.stringify` gives the `--json` output). */
export interface LoadResult {
  /** The server, as `host:port` or a socket path. */
  target: string;
  connections: number;
  threads: number;
  /** Payload bytes per round trip. */
  size: number;
  pipeline: number;
  newConnection: boolean;
  /** Seconds actually run. */
  elapsed: number;
  /** What ended the run. */
  stoppedBy: StopReason;
  /** Round trips completed (every echoed byte checked). */
  roundTrips: number;
  roundTripsPerSecond: number;
  /** Echoed payload MiB per second (one direction). */
  mibPerSecond: number;
  bytesSent: number;
  bytesReceived: number;
  /** Connections opened, including reconnects after errors. */
  connects: number;
  /** Round trip latency in microseconds (from writing a payload to receiving its last echoed byte). */
  latency: LatencySummary;
  /** Connection failures (resets, refused reconnects, server closes, connect timeouts). */
  errors: number;
  /** `errors` by code: an errno such as `ECONNRESET`, or `ECHO_ERR_CLOSED` / `ECHO_ERR_CONNECT_TIMEOUT`. */
  errorCodes: Record<string, number>;
  /** Round trips whose echo differed from the payload (plus unexpected extra bytes). */
  mismatches: number;
}

/**
 * Runs load against an echo server and resolves with what it measured. The run always ends by
 * itself: after `duration` (at most 600 s) or `count` round trips, whichever comes first.
 *
 * One connection is opened first as a probe, so an unreachable server rejects at once
 * (`ECHO_ERR_CONNECT_REFUSED`, …) instead of counting errors for the whole duration.
 *
 * @example
 * ```ts
 * const result = await runLoad({ port: 9999, connections: 50, duration: 5 });
 * console.log(result.roundTripsPerSecond, result.latency.p99, result.mismatches);
 * ```
 * @throws {EchoClientError} `ECHO_ERR_INVALID_ARG` for bad options; a connect error code when the probe fails;
 *   `ECHO_ERR_WORKER` when a worker thread fails.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const opts = normalizeLoadOptions(options);
  const probe = await connectSocket(opts.target, opts.connectTimeout, true, opts.proxyHeader);
  if (opts.proxyHeader === null) probe.destroy();
  else probe.end(() => probe.destroy()); // after the header: a server that requires one sees a well-formed connection

  const payload = Buffer.allocUnsafe(opts.size);
  randomFillSync(payload);
  const shares = split(opts.connections, opts.threads);
  const counts = opts.count === null ? null : split(opts.count, opts.threads);
  const configs: EngineConfig[] = shares.map((connections, i) => ({
    target: opts.target,
    connections,
    size: opts.size,
    pipeline: opts.pipeline,
    newConnection: opts.newConnection,
    count: counts === null ? null : (counts[i] as number),
    durationMs: Math.round(opts.duration * 1000),
    connectTimeout: opts.connectTimeout,
    proxyHeader: opts.proxyHeader,
  }));
  const shared = new SharedArrayBuffer(COUNTERS * 8 * opts.threads);
  const views = configs.map((_, i) => new Float64Array(shared, i * COUNTERS * 8, COUNTERS));

  const stopProgress = startProgress(opts, options.onProgress, views);
  try {
    const results =
      opts.threads === 1
        ? [await runHere(configs[0] as EngineConfig, views[0] as Float64Array, payload, options.signal)]
        : await runInWorkers(configs, shared, payload, options.signal);
    return summarize(opts, results);
  } finally {
    stopProgress();
  }
}

async function runHere(
  config: EngineConfig,
  counters: Float64Array,
  payload: Buffer,
  signal: AbortSignal | undefined,
): Promise<EngineResult> {
  const engine = new LoadEngine(config, counters, payload);
  const onAbort = (): void => engine.stop("aborted");
  const running = engine.run();
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await running;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/** The worker script next to this module: `dist/load-worker.js` from `dist/*.js`, or from `dist/cli/*.js`. */
function workerUrl(): URL {
  for (const candidate of ["./load-worker.js", "../load-worker.js"]) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  throw new EchoClientError(
    ClientErrorCodes.WORKER,
    `cannot find load-worker.js next to ${fileURLToPath(import.meta.url)}: threads > 1 needs the built package`,
  );
}

function runInWorkers(
  configs: EngineConfig[],
  shared: SharedArrayBuffer,
  payload: Buffer,
  signal: AbortSignal | undefined,
): Promise<EngineResult[]> {
  const url = workerUrl();
  return new Promise((resolve, reject) => {
    const results: EngineResult[] = [];
    let ready = 0;
    let settled = false;
    const workers = configs.map((config, index) => {
      const init: WorkerInit = { config, shared, index, payload: new Uint8Array(payload) };
      return new Worker(url, { workerData: init });
    });
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      if (error) {
        for (const worker of workers) void worker.terminate();
        reject(error);
      } else resolve(results);
    };
    const onAbort = (): void => {
      for (const worker of workers) worker.postMessage("stop");
    };
    for (const worker of workers) {
      worker.on("message", (message: WorkerReply) => {
        if (message.type === "ready") {
          if (++ready === workers.length) {
            for (const w of workers) w.postMessage("start");
            if (signal?.aborted) onAbort();
          }
        } else {
          results.push({ ...message.result, histogram: hdr.decodeFromCompressedBase64(message.result.histogram) });
          if (results.length === workers.length) finish();
        }
      });
      worker.on("error", (error) =>
        finish(
          new EchoClientError(ClientErrorCodes.WORKER, `a load worker thread failed: ${error.message}`, {
            cause: error,
          }),
        ),
      );
      worker.on("exit", (code) => {
        if (!settled && code !== 0)
          finish(new EchoClientError(ClientErrorCodes.WORKER, `a load worker thread exited with code ${code}`));
      });
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function startProgress(
  opts: NormalizedLoadOptions,
  onProgress: LoadOptions["onProgress"],
  views: Float64Array[],
): () => void {
  if (onProgress === undefined) return () => undefined;
  const start = performance.now();
  let last = start;
  let lastTrips = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    let roundTrips = 0;
    let errors = 0;
    let mismatches = 0;
    for (const view of views) {
      roundTrips += view[Counter.roundTrips] as number;
      errors += view[Counter.errors] as number;
      mismatches += view[Counter.mismatches] as number;
    }
    const rate = ((roundTrips - lastTrips) * 1000) / (now - last);
    last = now;
    lastTrips = roundTrips;
    onProgress({ elapsed: (now - start) / 1000, roundTrips, roundTripsPerSecond: rate, errors, mismatches });
  }, opts.progressInterval);
  timer.unref();
  return () => clearInterval(timer);
}

function summarize(opts: NormalizedLoadOptions, results: EngineResult[]): LoadResult {
  const total = new Array<number>(COUNTERS).fill(0);
  const errorCodes: Record<string, number> = {};
  const histogram: Histogram = results.length === 1 ? (results[0] as EngineResult).histogram : newHistogram();
  let elapsedMs = 0;
  let stoppedBy: StopReason = "count";
  for (const result of results) {
    result.counters.forEach((value, i) => (total[i] = (total[i] as number) + value));
    for (const [code, n] of Object.entries(result.errorCodes)) errorCodes[code] = (errorCodes[code] ?? 0) + n;
    if (results.length > 1) histogram.add(result.histogram);
    elapsedMs = Math.max(elapsedMs, result.elapsedMs);
    if (result.stoppedBy === "aborted" || (result.stoppedBy === "duration" && stoppedBy === "count"))
      stoppedBy = result.stoppedBy;
  }
  const elapsed = elapsedMs / 1000;
  const roundTrips = total[Counter.roundTrips] as number;
  const bytesReceived = total[Counter.bytesReceived] as number;
  const empty = histogram.totalCount === 0;
  const max = empty ? 0 : histogram.maxValue;
  // A percentile is reported as the top of its histogram bucket, which may lie above the largest
  // value recorded: clamp, so p50 <= p90 <= p99 <= p99.9 <= max always holds.
  const at = (p: number): number => (empty ? 0 : Math.min(histogram.getValueAtPercentile(p), max));
  return {
    target: formatTarget(opts.target),
    connections: opts.connections,
    threads: opts.threads,
    size: opts.size,
    pipeline: opts.pipeline,
    newConnection: opts.newConnection,
    elapsed,
    stoppedBy,
    roundTrips,
    roundTripsPerSecond: elapsed > 0 ? roundTrips / elapsed : 0,
    mibPerSecond: elapsed > 0 ? (roundTrips * opts.size) / elapsed / 1048576 : 0,
    bytesSent: total[Counter.bytesSent] as number,
    bytesReceived,
    connects: total[Counter.connects] as number,
    latency: {
      min: empty ? 0 : histogram.minNonZeroValue,
      mean: empty ? 0 : Math.round(histogram.mean * 10) / 10,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max,
    },
    errors: total[Counter.errors] as number,
    errorCodes,
    mismatches: total[Counter.mismatches] as number,
  };
}
