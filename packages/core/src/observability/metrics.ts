/**
 * `EchoMetrics`: a server's counters in Prometheus text format, built on `prom-client`.
 *
 * Values are read when Prometheus scrapes, from a {@link MetricsSource} that returns each
 * worker's `stats()` snapshot; nothing is counted twice and nothing runs between scrapes except
 * {@link EchoMetrics.observeConnectionLifetime} (a few additions per closed connection) and
 * prom-client's default process metrics.
 *
 * ## Series
 * Every series has the labels `model` and `worker`. Each live worker has its own series
 * (`worker="MainThread"`, `"Thread-2"`, `"Process-3"`, `"SelectorThread"` …), and one more series
 * per metric, `worker="all"`, holds the whole server: every live worker plus every worker that
 * is gone. Query totals with `{worker="all"}` and the spread with `{worker!="all"}`.
 *
 * Why a totals series and not a `worker="retired"` series: when a worker dies, its series stops
 * and a retired series would jump by the same counts, so `sum(rate(…))`, the query everyone
 * writes, would count that worker's connections twice. The `all` series is one counter that
 * only ever grows over the life of the process, so `rate(…{worker="all"})` is exact across
 * deaths, replacements and reloads.
 * @module
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from "prom-client";
import { InvalidArgumentError } from "../errors.js";
import { ServerStats, statsKeys, sumStats, type StatsSnapshot } from "../stats.js";
import {
  ConnectionLifetimes,
  checkLifetimeBuckets,
  defaultLifetimeBuckets,
  type LifetimeSnapshot,
} from "./lifetimes.js";

/** One worker's counters at scrape time. */
export interface WorkerSample {
  /** The worker's name as handlers see it: `MainThread`, `Thread-2`, `Process-3`, `SelectorThread` … */
  readonly worker: string;
  /** Its `stats()` now. */
  readonly stats: StatsSnapshot;
  /** Its connection lifetimes, when it counts them itself (a thread or a worker process). */
  readonly lifetimes?: LifetimeSnapshot;
}

/** What every worker that is gone had counted (its gauges are ignored: a dead worker holds nothing). */
export interface RetiredSample {
  /** The gone workers' counters summed (see {@link retiredStats}). */
  readonly stats: StatsSnapshot;
  /** The gone workers' connection lifetimes summed ({@link ConnectionLifetimes.add}). */
  readonly lifetimes?: LifetimeSnapshot;
}

/** What a {@link MetricsSource} returns. */
export interface MetricsSample {
  /** The live workers. */
  readonly workers: readonly WorkerSample[];
  /** The sum over workers that are gone (prefork's exited processes, threaded's replaced threads). */
  readonly retired?: RetiredSample;
}

/** Reads the workers' counters; called once per scrape (concurrent scrapes share one call). */
export type MetricsSource = () => MetricsSample | Promise<MetricsSample>;

/** Options of {@link EchoMetrics}. */
export interface EchoMetricsOptions {
  /** The `model` label: `async`, `iterative`, `once`, `threaded`, `prefork`, `selector` … */
  model: string;
  /** Where the counters come from. */
  source: MetricsSource;
  /** Upper bounds, in seconds, of the connection lifetime histogram. @default defaultLifetimeBuckets */
  lifetimeBuckets?: readonly number[];
  /**
   * Add prom-client's default process metrics (CPU, memory, event loop lag, GC, handles). Their
   * collectors run for the life of the process, so enable them once per process. @default true
   */
  defaultMetrics?: boolean;
  /** The `worker` label of the process metrics, and the default worker of observed lifetimes. @default "MainThread" */
  processWorker?: string;
}

/** The `worker` label value of the series that hold the whole server, gone workers included. */
export const ALL_WORKERS = "all";

/** The stats fields that are gauges: a gone worker holds none of them. */
const GAUGE_KEYS: ReadonlySet<string> = new Set(["active", "queued", "buffered"]);

/**
 * The counters of the workers that are gone, for {@link MetricsSample.retired}, from a server's
 * totals and its live workers' counters: for servers whose `stats()` already sums gone workers
 * in (prefork's `stats()` with its `workers`). Gauges are 0, and a counter never goes below 0
 * (totals and workers read a moment apart can differ by a connection in flight).
 */
export function retiredStats(total: StatsSnapshot, live: readonly StatsSnapshot[]): StatsSnapshot {
  const sum = sumStats(live);
  const out = new ServerStats();
  for (const key of statsKeys) out[key] = GAUGE_KEYS.has(key) ? 0 : Math.max(0, total[key] - sum[key]);
  return out.snapshot();
}

/** The counters: a stats field, the metric name, its help. */
const COUNTERS = [
  ["accepted", "echo_connections_accepted_total", "Connections accepted and served (not counting rejected ones)."],
  ["rejected", "echo_connections_rejected_total", "Connections refused because maxConnections were open."],
  ["closed", "echo_connections_closed_total", "Connections closed."],
  ["bytesIn", "echo_received_bytes_total", "Bytes received from clients."],
  ["bytesOut", "echo_sent_bytes_total", "Bytes handlers wrote to clients."],
  ["errors", "echo_errors_total", "Handler failures and connection errors."],
  ["timeouts", "echo_idle_timeouts_total", "Connections closed for staying silent past idleTimeout."],
] as const;

/** The gauges: a stats field, the metric name, its help. */
const GAUGES = [
  ["active", "echo_connections_active", "Connections being served now."],
  ["queued", "echo_connections_queued", "Connections accepted and waiting their turn (the iterative model)."],
  ["buffered", "echo_buffered_bytes", "Bytes held for clients that the kernel has not taken yet."],
] as const;

const HISTOGRAM_NAME = "echo_connection_lifetime_seconds";
const HISTOGRAM_HELP = "How long connections lived, from accept to close.";

/** How many workers' reset state is remembered (prefork names every fork anew). */
const MAX_REMEMBERED = 4096;

/**
 * The monotonic values of one series, in a fixed order: the counters, then the lifetime
 * histogram's per-bucket counts, sum and count.
 */
type Vector = number[];

interface Row {
  readonly worker: string;
  /** Counters and histogram, never decreasing. */
  readonly values: Vector;
  readonly gauges: readonly number[];
}

interface Computed {
  readonly rows: readonly Row[];
  readonly total: Row;
}

/** Per-worker state that turns a counter reset (a replacement under the same name) into an offset. */
interface ResetState {
  last: Vector;
  offset: Vector;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function checkStats(where: string, stats: unknown): StatsSnapshot {
  if (!isObject(stats)) throw new InvalidArgumentError(`${where}.stats must be a stats snapshot`);
  for (const key of statsKeys) {
    const v = stats[key];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new InvalidArgumentError(`${where}.stats.${key} must be a finite number >= 0, got ${String(v)}`);
    }
  }
  return stats as unknown as StatsSnapshot;
}

/**
 * A server's metrics: counters, gauges and a connection lifetime histogram, each labelled
 * `model` and `worker`, plus prom-client's default process metrics, in one prom-client
 * `Registry`. Serve {@link EchoMetrics.metrics} with {@link EchoMetrics.contentType}
 * (the observability endpoint does).
 *
 * Counters are read from the source at scrape time and never decrease: a worker replaced under
 * the same name (threaded's `Thread-2`) carries on from its predecessor's count, and the
 * `worker="all"` series never goes down.
 *
 * @example
 * ```ts
 * const server = new EchoServer({ model: "async" });
 * const metrics = new EchoMetrics({ model: "async", source: () => ({ workers: [{ worker: "MainThread", stats: server.stats() }] }) });
 * const text = await metrics.metrics();
 * ```
 */
export class EchoMetrics {
  /** The `model` label. */
  readonly model: string;
  /** The prom-client registry holding every metric; register your own here too. */
  readonly registry: Registry;
  /** Upper bounds of the lifetime histogram, in seconds. */
  readonly lifetimeBuckets: readonly number[];
  private readonly source: MetricsSource;
  private readonly processWorker: string;
  private readonly local = new Map<string, ConnectionLifetimes>();
  private readonly resets = new Map<string, ResetState>();
  private totalSeen: Vector;
  private current: Computed;
  private refreshing: Promise<void> | undefined;

  /**
   * @param options - see {@link EchoMetricsOptions}.
   * @throws {InvalidArgumentError} an option has a wrong type or value; the message names it.
   */
  constructor(options: EchoMetricsOptions) {
    if (!isObject(options)) throw new InvalidArgumentError("options must be an object");
    if (typeof options.model !== "string" || options.model.length === 0)
      throw new InvalidArgumentError("options.model must be a non-empty string");
    if (typeof options.source !== "function")
      throw new InvalidArgumentError("options.source must be a function returning the workers' stats");
    if (options.defaultMetrics !== undefined && typeof options.defaultMetrics !== "boolean")
      throw new InvalidArgumentError("options.defaultMetrics must be a boolean");
    const processWorker = options.processWorker ?? "MainThread";
    if (typeof processWorker !== "string" || processWorker.length === 0)
      throw new InvalidArgumentError("options.processWorker must be a non-empty string");
    this.model = options.model;
    this.source = options.source;
    this.processWorker = processWorker;
    this.lifetimeBuckets =
      options.lifetimeBuckets === undefined
        ? defaultLifetimeBuckets
        : checkLifetimeBuckets("options.lifetimeBuckets", options.lifetimeBuckets);
    this.totalSeen = new Array<number>(this.width()).fill(0);
    this.current = { rows: [], total: { worker: ALL_WORKERS, values: this.totalSeen, gauges: GAUGES.map(() => 0) } };
    this.registry = new Registry();
    this.register();
    if (options.defaultMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, labels: { model: this.model, worker: processWorker } });
  }

  /** The `Content-Type` of {@link EchoMetrics.metrics}: Prometheus text format 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Counts one closed connection that lived `seconds`, for a model that serves in this thread:
   * call it from the connection's close. Workers elsewhere (threads, processes) count in their
   * own {@link ConnectionLifetimes} and report it as {@link WorkerSample.lifetimes}.
   * @param worker - the worker that served it. @default options.processWorker
   */
  observeConnectionLifetime(seconds: number, worker: string = this.processWorker): void {
    let histogram = this.local.get(worker);
    if (histogram === undefined) {
      histogram = new ConnectionLifetimes(this.lifetimeBuckets);
      this.local.set(worker, histogram);
    }
    histogram.observe(seconds);
  }

  /**
   * Reads the source once and renders every metric in Prometheus text format.
   * @throws whatever the source throws, or {@link InvalidArgumentError} for a malformed sample.
   */
  async metrics(): Promise<string> {
    await this.refresh();
    return this.registry.metrics();
  }

  private width(): number {
    return COUNTERS.length + this.lifetimeBuckets.length + 3;
  }

  private refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    const run = (async () => {
      this.current = this.compute(await this.source());
    })();
    this.refreshing = run;
    // Cleared once settled, failed or not (a source that throws at once included), so the next
    // scrape reads the source again.
    const clear = (): void => {
      if (this.refreshing === run) this.refreshing = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  private vector(stats: StatsSnapshot, lifetimes: readonly (LifetimeSnapshot | undefined)[]): Vector {
    const out: Vector = COUNTERS.map(([key]) => stats[key]);
    const n = this.lifetimeBuckets.length;
    const histogram = new Array<number>(n + 3).fill(0);
    for (const part of lifetimes) {
      if (part === undefined) continue;
      if (
        part.buckets.length !== n ||
        part.buckets.some((b, i) => b !== this.lifetimeBuckets[i]) ||
        part.counts.length !== n + 1
      ) {
        throw new InvalidArgumentError(
          `lifetimes must use the buckets ${JSON.stringify(this.lifetimeBuckets)}, got ${JSON.stringify(part.buckets)}`,
        );
      }
      for (let i = 0; i <= n; i++) histogram[i]! += part.counts[i]!;
      histogram[n + 1]! += part.sum;
      histogram[n + 2]! += part.count;
    }
    return out.concat(histogram);
  }

  private compute(sample: MetricsSample): Computed {
    if (!isObject(sample) || !Array.isArray(sample.workers))
      throw new InvalidArgumentError("the metrics source must return { workers: [...] }");
    const names = new Set<string>();
    const rows: Row[] = [];
    const total = new Array<number>(this.width()).fill(0);
    const gaugeTotal = GAUGES.map(() => 0);
    const addTo = (sum: number[], part: readonly number[]): void => {
      for (let i = 0; i < sum.length; i++) sum[i]! += part[i]!;
    };
    sample.workers.forEach((w: WorkerSample, i) => {
      const where = `workers[${i}]`;
      if (!isObject(w) || typeof w.worker !== "string" || w.worker.length === 0)
        throw new InvalidArgumentError(`${where}.worker must be a non-empty string`);
      if (w.worker === ALL_WORKERS)
        throw new InvalidArgumentError(
          `${where}.worker must not be ${JSON.stringify(ALL_WORKERS)}: that label holds the totals`,
        );
      if (names.has(w.worker))
        throw new InvalidArgumentError(`${where}.worker ${JSON.stringify(w.worker)} appears twice`);
      names.add(w.worker);
      const stats = checkStats(where, w.stats);
      const raw = this.vector(stats, [w.lifetimes, this.local.get(w.worker)?.snapshot()]);
      addTo(total, raw);
      const gauges = GAUGES.map(([key]) => stats[key]);
      addTo(gaugeTotal, gauges);
      rows.push({ worker: w.worker, values: this.continued(w.worker, raw), gauges });
    });
    if (sample.retired !== undefined) {
      const stats = checkStats("retired", sample.retired.stats);
      addTo(total, this.vector(stats, [sample.retired.lifetimes]));
    }
    // Lifetimes observed here for a worker the source no longer lists still count in the totals.
    for (const [worker, histogram] of this.local) {
      if (!names.has(worker)) addTo(total, this.vector(new ServerStats(), [histogram.snapshot()]));
    }
    for (let i = 0; i < total.length; i++) if (total[i]! < this.totalSeen[i]!) total[i] = this.totalSeen[i]!;
    this.totalSeen = total;
    return { rows, total: { worker: ALL_WORKERS, values: total, gauges: gaugeTotal } };
  }

  /** A worker's raw values, continued across a reset (a replacement under the same name). */
  private continued(worker: string, raw: Vector): Vector {
    let state = this.resets.get(worker);
    if (state === undefined) {
      state = { last: raw, offset: new Array<number>(raw.length).fill(0) };
      if (this.resets.size >= MAX_REMEMBERED) this.resets.delete(this.resets.keys().next().value!);
      this.resets.set(worker, state);
    } else if (raw.some((v, i) => v < state!.last[i]!)) {
      state.offset = state.offset.map((o, i) => o + state!.last[i]!);
    }
    state.last = raw;
    return raw.map((v, i) => v + state.offset[i]!);
  }

  private register(): void {
    const common = (name: string, help: string) => ({
      name,
      help,
      labelNames: ["model", "worker"] as const,
      registers: [this.registry],
    });
    const rows = () => [...this.current.rows, this.current.total];
    const labels = (row: Row) => ({ model: this.model, worker: row.worker });
    // Counters and gauges take their values at collect time, from the sample of this scrape.
    COUNTERS.forEach(([, name, help], k) => {
      new Counter({
        ...common(name, help),
        collect() {
          this.reset();
          for (const row of rows()) this.inc(labels(row), row.values[k]);
        },
      });
    });
    GAUGES.forEach(([, name, help], k) => {
      new Gauge({
        ...common(name, help),
        collect() {
          this.reset();
          for (const row of rows()) this.set(labels(row), row.gauges[k]!);
        },
      });
    });
    // A histogram whose counts come from elsewhere (threads, processes): prom-client's Histogram
    // can only be fed by observe(), so this is a collector of the shape its registry renders,
    // the way prom-client's own AggregatorRegistry registers aggregated metrics.
    const histogram = {
      name: HISTOGRAM_NAME,
      help: HISTOGRAM_HELP,
      type: "histogram",
      aggregator: "sum",
      reset: () => {},
      get: () =>
        Promise.resolve({
          name: HISTOGRAM_NAME,
          help: HISTOGRAM_HELP,
          type: "histogram",
          aggregator: "sum",
          values: rows().flatMap((row) => this.histogramValues(row)),
        }),
    };
    this.registry.registerMetric(histogram as unknown as Metric);
  }

  private histogramValues(row: Row): { metricName: string; labels: Record<string, string | number>; value: number }[] {
    const base = COUNTERS.length;
    const n = this.lifetimeBuckets.length;
    const labels = { model: this.model, worker: row.worker };
    const out: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    let cumulative = 0;
    for (let i = 0; i <= n; i++) {
      cumulative += row.values[base + i]!;
      out.push({
        metricName: `${HISTOGRAM_NAME}_bucket`,
        labels: { ...labels, le: i < n ? this.lifetimeBuckets[i]! : "+Inf" },
        value: cumulative,
      });
    }
    out.push({ metricName: `${HISTOGRAM_NAME}_sum`, labels, value: row.values[base + n + 1]! });
    out.push({ metricName: `${HISTOGRAM_NAME}_count`, labels, value: row.values[base + n + 2]! });
    return out;
  }
}
