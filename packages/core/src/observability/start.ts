/**
 * `startObservability()`: the metrics registry and the HTTP endpoint a server starts for its
 * `metrics` option, in one call, loading `prom-client` only when it is asked for.
 * @module
 */
import { InvalidArgumentError } from "../errors.js";
import type { EndpointAddress } from "./endpoint.js";
import { DEFAULT_METRICS_HOST, parseMetricsAddress, type MetricsAddress } from "./metrics-address.js";
import type { EchoMetrics, MetricsSource } from "./metrics.js";

/** Options of {@link startObservability}. */
export interface ObservabilityOptions {
  /** Where the endpoint listens: a `--metrics` value (`PORT`, `HOST:PORT`, `[IPV6]:PORT`), a port, or `{ host, port }`. */
  address: string | number | MetricsAddress;
  /** The option's name in messages. @default "options.metrics" */
  option?: string;
  /** The `model` label. */
  model: string;
  /** Reads the workers' counters at scrape time. */
  source: MetricsSource;
  /** What `/stats` serves (the server's `stats()`). */
  stats: () => unknown;
  /** The `worker` label of process metrics and of lifetimes observed here. @default "MainThread" */
  processWorker?: string;
  /** Add prom-client's default process metrics (once per process). @default true */
  defaultMetrics?: boolean;
}

/** A running endpoint with its metrics: what a server keeps from {@link startObservability}. */
export interface Observability {
  /** Where the endpoint listens (the real port when 0 was asked). */
  readonly address: EndpointAddress;
  /** The metrics it serves. */
  readonly metrics: EchoMetrics;
  /** `/readyz` answers 200: call once the server listens. */
  setReady(): void;
  /** `/readyz` answers 503 for good: call when `close()` or SIGTERM starts the drain. */
  setDraining(): void;
  /** Counts a closed connection's lifetime, for models serving in this thread. */
  observeConnectionLifetime(seconds: number, worker?: string): void;
  /** Closes the endpoint: call after the drain, so probes see 503 (not refused) while it lasts. */
  close(): Promise<void>;
}

/**
 * Turns an `address` into where to listen, for validating a server's `metrics` option in its
 * constructor (before anything is bound).
 * @throws {InvalidMetricsAddressError} a bad string or port; the message says what was expected.
 * @throws {InvalidArgumentError} a `{ host, port }` object with a bad field.
 */
export function normalizeMetricsAddress(address: unknown, option = "options.metrics"): MetricsAddress {
  if (typeof address === "object" && address !== null) {
    const { host, port } = address as { host?: unknown; port?: unknown };
    if (host !== undefined && (typeof host !== "string" || host.length === 0))
      throw new InvalidArgumentError(`${option}.host must be a non-empty string`);
    if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new InvalidArgumentError(
        `${option}.port must be an integer from 0 to 65535, got ${typeof port === "number" ? port : typeof port}`,
      );
    }
    return { host: host ?? DEFAULT_METRICS_HOST, port };
  }
  return parseMetricsAddress(address, option);
}

/**
 * Validates `address`, loads the metrics and endpoint modules (prom-client is loaded here, not
 * when `@echo/core` is imported), binds the endpoint and returns it with `/readyz` at 503
 * (`starting`) until {@link Observability.setReady}.
 *
 * @example
 * ```ts
 * const obs = await startObservability({ address: "9464", model: "async", source: () => ({ workers: [{ worker: "MainThread", stats: server.stats() }] }), stats: () => server.stats() });
 * obs.setReady();
 * // on close(): obs.setDraining(); …drain…; await obs.close();
 * ```
 * @throws {InvalidMetricsAddressError} {@link InvalidArgumentError} a bad address or option.
 * @throws {AddressInUseError} {@link PermissionDeniedError} {@link ListenError} binding failed.
 */
export async function startObservability(options: ObservabilityOptions): Promise<Observability> {
  const where = normalizeMetricsAddress(options.address, options.option);
  if (typeof options.stats !== "function") throw new InvalidArgumentError("options.stats must be a function");
  const [{ EchoMetrics }, { ObservabilityEndpoint }] = await Promise.all([
    import("./metrics.js"),
    import("./endpoint.js"),
  ]);
  const metrics = new EchoMetrics({
    model: options.model,
    source: options.source,
    processWorker: options.processWorker,
    defaultMetrics: options.defaultMetrics,
  });
  const endpoint = new ObservabilityEndpoint({ host: where.host, port: where.port, metrics, stats: options.stats });
  const address = await endpoint.listen();
  return {
    address,
    metrics,
    setReady: () => endpoint.setReady(),
    setDraining: () => endpoint.setDraining(),
    observeConnectionLifetime: (seconds, worker) => metrics.observeConnectionLifetime(seconds, worker),
    close: () => endpoint.close(),
  };
}
