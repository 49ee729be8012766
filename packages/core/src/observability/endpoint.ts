/**
 * `ObservabilityEndpoint`: a small HTTP listener, separate from the echo port, serving
 * `/metrics`, `/healthz`, `/readyz` and `/stats`.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { InvalidArgumentError, ServerStateError } from "../errors.js";
import { listenServer } from "../internal/listen.js";
import { normalizeListenOptions } from "../options.js";
import { DEFAULT_METRICS_HOST } from "./metrics-address.js";

/** What `/metrics` serves: an {@link EchoMetrics} fits. */
export interface MetricsText {
  /** The metrics in a text exposition format. */
  metrics(): Promise<string>;
  /** Their `Content-Type`. */
  readonly contentType: string;
}

/** Where the server is in its life, as `/readyz` reports it. */
export type Readiness = "starting" | "ready" | "draining";

/** Options of {@link ObservabilityEndpoint}. */
export interface ObservabilityEndpointOptions {
  /** Interface to bind. @default "127.0.0.1" (loopback: metrics are not for the world unless asked) */
  host?: string;
  /** TCP port; 0 picks a free one, reported by `listen()`. @default 0 */
  port?: number;
  /** What `GET /metrics` serves; without it `/metrics` is 404. */
  metrics?: MetricsText;
  /** What `GET /stats` serves as JSON (a server's `stats()`); without it `/stats` is 404. */
  stats?: () => unknown;
  /** Readiness at start; `/readyz` is 503 until {@link ObservabilityEndpoint.setReady}. @default "starting" */
  readiness?: Readiness;
}

/** The bound address of the endpoint. */
export interface EndpointAddress {
  /** The address bound, without brackets: `127.0.0.1`, `::1`. */
  readonly host: string;
  /** The port bound (the real one when 0 was asked). */
  readonly port: number;
  readonly family: "IPv4" | "IPv6";
}

/** Connections the endpoint keeps open at once: scrapers and probes, not a crowd. */
const MAX_CONNECTIONS = 64;

const TEXT = "text/plain; charset=utf-8";

/**
 * An HTTP/1.1 listener for scrapers and probes:
 *
 * | request | answer |
 * |---|---|
 * | `GET /metrics` | 200, the metrics in Prometheus text format (its content type) |
 * | `GET /healthz` | 200 `ok` while the process lives |
 * | `GET /readyz` | 200 `ready` while ready, 503 `starting` or `draining` otherwise |
 * | `GET /stats` | 200, the `stats()` JSON |
 * | another path | 404 |
 * | another method | 405 with `Allow: GET, HEAD` |
 *
 * `HEAD` is answered like `GET` without a body (HTTP requires both). A failing `metrics()` or
 * `stats()` answers 500 with its message. At most 64 connections are open at once; requests
 * have 10 s to arrive whole.
 *
 * @example
 * ```ts
 * const endpoint = new ObservabilityEndpoint({ port: 9464, metrics, stats: () => server.stats() });
 * await endpoint.listen();
 * endpoint.setReady();        // once the echo server listens
 * endpoint.setDraining();     // when close() or SIGTERM starts
 * ```
 */
export class ObservabilityEndpoint {
  private readonly host: string;
  private readonly port: number;
  private readonly metricsText: MetricsText | undefined;
  private readonly statsFn: (() => unknown) | undefined;
  private readonly server: Server;
  private state: Readiness;
  private listened = false;

  /**
   * @param options - see {@link ObservabilityEndpointOptions}.
   * @throws {InvalidArgumentError} an option has a wrong type or value; the message names it.
   */
  constructor(options: ObservabilityEndpointOptions = {}) {
    const listen = normalizeListenOptions(
      { host: options.host ?? DEFAULT_METRICS_HOST, port: options.port ?? 0 },
      "options",
    );
    this.host = listen.host;
    this.port = listen.port;
    const m = options.metrics;
    if (
      m !== undefined &&
      (typeof m !== "object" || m === null || typeof m.metrics !== "function" || typeof m.contentType !== "string")
    ) {
      throw new InvalidArgumentError("options.metrics must have metrics() and contentType, as EchoMetrics does");
    }
    if (options.stats !== undefined && typeof options.stats !== "function")
      throw new InvalidArgumentError("options.stats must be a function");
    const readiness = options.readiness ?? "starting";
    if (readiness !== "starting" && readiness !== "ready" && readiness !== "draining") {
      throw new InvalidArgumentError(
        `options.readiness must be one of "starting", "ready", "draining", got ${JSON.stringify(readiness)}`,
      );
    }
    this.metricsText = m;
    this.statsFn = options.stats;
    this.state = readiness;
    this.server = createServer(
      { requestTimeout: 10_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
      (req, res) => void this.answer(req, res),
    );
    this.server.maxConnections = MAX_CONNECTIONS;
  }

  /** What `/readyz` reports now. */
  get readiness(): Readiness {
    return this.state;
  }

  /** `/readyz` answers 200 from now on (call it once the echo server listens). Ignored once draining. */
  setReady(): void {
    if (this.state !== "draining") this.state = "ready";
  }

  /** `/readyz` answers 503 from now on, for good: the server has started to drain. */
  setDraining(): void {
    this.state = "draining";
  }

  /**
   * Binds and starts answering.
   * @returns the address bound (port 0 becomes the real port).
   * @throws {AddressInUseError} {@link PermissionDeniedError} {@link ListenError} binding failed.
   * @throws {ServerStateError} called twice.
   */
  async listen(): Promise<EndpointAddress> {
    if (this.listened) throw new ServerStateError("listen() called twice on the observability endpoint");
    this.listened = true;
    await listenServer(this.server, normalizeListenOptions({ host: this.host, port: this.port }));
    return this.address();
  }

  /** The bound address. @throws {ServerStateError} not listening. */
  address(): EndpointAddress {
    const raw = this.server.address();
    if (raw === null || typeof raw === "string")
      throw new ServerStateError("the observability endpoint is not listening");
    return { host: raw.address, port: raw.port, family: raw.family === "IPv6" ? "IPv6" : "IPv4" };
  }

  /** Stops listening and closes every connection, idle or not; resolves once closed. */
  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** `await using endpoint = …` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, TEXT, "method not allowed: use GET\n", { Allow: "GET, HEAD" });
      return;
    }
    try {
      switch (path) {
        case "/healthz":
          send(res, 200, TEXT, "ok\n");
          return;
        case "/readyz":
          send(res, this.state === "ready" ? 200 : 503, TEXT, `${this.state}\n`);
          return;
        case "/metrics":
          if (this.metricsText) {
            const body = await this.metricsText.metrics();
            send(res, 200, this.metricsText.contentType, body);
            return;
          }
          break;
        case "/stats":
          if (this.statsFn) {
            const body = JSON.stringify(await this.statsFn());
            send(res, 200, "application/json; charset=utf-8", `${body}\n`);
            return;
          }
          break;
      }
      send(res, 404, TEXT, "not found: try /metrics, /healthz, /readyz or /stats\n");
    } catch (error) {
      send(res, 500, TEXT, `${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
