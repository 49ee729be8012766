/**
 * The observability conformance suite, a sibling of the main suite: every model serves the same
 * `/metrics`, `/healthz`, `/readyz` and `/stats`, and logs the same JSON lines. A package calls
 * `observabilitySuite(target)` from its conformance test file.
 */
import { Buffer } from "node:buffer";
import { request } from "node:http";
import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { open, readExactly, write, type TargetAddress } from "./net-helpers.js";

/** A log sink with core's `Logger` shape. */
export interface LineLogger {
  info(message: string): void;
  error(message: string): void;
}

/** What the suite asks an observed target to start with. */
export interface ObservedStartOptions {
  /** Always `"127.0.0.1:0"`: loopback, any free port. */
  metrics: string;
  logFormat?: "text" | "json";
  logger?: LineLogger;
  logConnections?: boolean;
  closeTimeout?: number;
}

/** A started server with its metrics endpoint. */
export interface ObservedRunning {
  address: TargetAddress;
  /** Where the endpoint listens (the server's `metricsAddress()`). */
  metrics: { host: string; port: number };
  /** Starts the graceful close (the returned promise settles when it is done). */
  close(): Promise<void>;
  /** prefork: SIGKILLs one live worker and resolves once the master has seen it exit. */
  killWorker?(): Promise<void>;
}

/** A server model under the observability suite. */
export interface ObservabilityTarget {
  /** Shown in test names. */
  name: string;
  /** The `model` label its series and log lines carry. */
  model: string;
  /** What the `worker` label of a live worker looks like: /^Thread-\d+$/ … */
  worker: RegExp;
  start(options: ObservedStartOptions): Promise<ObservedRunning>;
}

/** One sample of a Prometheus text exposition. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** GETs `path` from the endpoint. */
export function get(
  where: { host: string; port: number },
  path: string,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: where.host, port: where.port, path, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** Parses Prometheus text format 0.0.4 (the subset prom-client writes). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    out.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return out;
}

async function scrape(where: { host: string; port: number }): Promise<Sample[]> {
  const res = await get(where, "/metrics");
  expect(res.status).toBe(200);
  expect(res.type).toMatch(/^text\/plain/);
  return parseMetrics(res.body);
}

function value(samples: Sample[], name: string, worker = "all"): number {
  const found = samples.filter((s) => s.name === name && s.labels.worker === worker);
  if (found.length !== 1) throw new Error(`expected one ${name}{worker="${worker}"}, found ${found.length}`);
  return found[0]!.value;
}

/** Polls `check` (a condition on the server, not a delay) until it holds, for at most `ms`. */
async function until<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (check(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Asserts the five fields every JSON log line has: `level`, `time`, `msg`, `model`, `worker`. */
export function expectLogLine(line: Record<string, unknown>, model: string): void {
  expect(line.level === "info" || line.level === "error").toBe(true);
  expect(Number.isNaN(Date.parse(String(line.time)))).toBe(false);
  expect(typeof line.msg).toBe("string");
  expect(line.model).toBe(model);
  expect(typeof line.worker).toBe("string");
}

const quiet: LineLogger = { info: () => {}, error: () => {} };
const CONNECTIONS = 12;
const PAYLOAD = 100;

/** Registers the observability tests for one target. */
export function observabilitySuite(target: ObservabilityTarget): void {
  describe(`observability: ${target.name}`, () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {});
    });

    async function start(options: Partial<ObservedStartOptions> = {}): Promise<ObservedRunning> {
      const running = await target.start({ metrics: "127.0.0.1:0", logger: quiet, ...options });
      cleanups.push(() => running.close());
      expect(running.metrics.host).toBe("127.0.0.1");
      return running;
    }

    async function openEchoed(address: TargetAddress, n: number): Promise<Socket[]> {
      const sockets: Socket[] = [];
      for (let i = 0; i < n; i++) {
        const socket = await open(address);
        cleanups.push(() => Promise.resolve(socket.destroy()));
        sockets.push(socket);
      }
      // One round trip on each: every connection is being served.
      await Promise.all(
        sockets.map(async (socket, i) => {
          const payload = Buffer.alloc(PAYLOAD, 65 + (i % 26));
          await write(socket, payload);
          expect((await readExactly(socket, PAYLOAD)).equals(payload)).toBe(true);
        }),
      );
      return sockets;
    }

    it(
      "scraped under load, the totals equal what the clients counted, per worker and in all",
      { timeout: 60_000 },
      async () => {
        const running = await start();
        const sockets = await openEchoed(running.address, CONNECTIONS);
        const during = await scrape(running.metrics);
        expect(value(during, "echo_connections_accepted_total")).toBe(CONNECTIONS);
        expect(value(during, "echo_connections_active")).toBe(CONNECTIONS);
        expect(value(during, "echo_received_bytes_total")).toBe(CONNECTIONS * PAYLOAD);
        expect(value(during, "echo_sent_bytes_total")).toBe(CONNECTIONS * PAYLOAD);
        // Every series has both labels; live workers are named as the model names them.
        const echo = during.filter((s) => s.name.startsWith("echo_"));
        expect(echo.length).toBeGreaterThan(0);
        for (const s of echo) {
          expect(s.labels.model).toBe(target.model);
          expect(s.labels.worker === "all" || target.worker.test(s.labels.worker!)).toBe(true);
        }
        const perWorker = echo.filter((s) => s.name === "echo_connections_accepted_total" && s.labels.worker !== "all");
        expect(perWorker.reduce((sum, s) => sum + s.value, 0)).toBe(CONNECTIONS);
        // prom-client's default process metrics, labelled too.
        const cpu = during.find((s) => s.name === "process_cpu_user_seconds_total");
        expect(cpu?.labels.model).toBe(target.model);
        expect(typeof cpu?.labels.worker).toBe("string");

        for (const socket of sockets) socket.end();
        const after = await until(
          "every connection closed",
          () => scrape(running.metrics),
          (s) =>
            value(s, "echo_connections_closed_total") === CONNECTIONS &&
            value(s, "echo_connection_lifetime_seconds_count") === CONNECTIONS,
        );
        expect(value(after, "echo_connections_active")).toBe(0);
        expect(value(after, "echo_connections_rejected_total")).toBe(0);
        expect(value(after, "echo_errors_total")).toBe(0);
        expect(value(after, "echo_proxy_header_failures_total")).toBe(0);
        expect(
          after.find(
            (s) =>
              s.name === "echo_connection_lifetime_seconds_bucket" &&
              s.labels.worker === "all" &&
              s.labels.le === "+Inf",
          )?.value,
        ).toBe(CONNECTIONS);
        // /stats is the stats() JSON.
        const stats = JSON.parse((await get(running.metrics, "/stats")).body) as { accepted: number; closed: number };
        expect(stats.accepted).toBe(CONNECTIONS);
        expect(stats.closed).toBe(CONNECTIONS);
      },
    );

    it(
      "/readyz is 200 while listening and 503 once close() starts draining, while /healthz stays 200",
      { timeout: 60_000 },
      async () => {
        const running = await start({ closeTimeout: 30_000 });
        expect((await get(running.metrics, "/readyz")).status).toBe(200);
        expect((await get(running.metrics, "/healthz")).status).toBe(200);
        // An open connection keeps the drain going until the client leaves.
        const [socket] = await openEchoed(running.address, 1);
        const closed = running.close();
        const ready = await get(running.metrics, "/readyz");
        expect(ready.status).toBe(503);
        expect(ready.body).toBe("draining\n");
        expect((await get(running.metrics, "/healthz")).status).toBe(200);
        socket!.end();
        await closed;
      },
    );

    it(
      "--log-format json: every line is one JSON object with level, time, msg, model and worker",
      { timeout: 60_000 },
      async () => {
        const lines: string[] = [];
        const logger: LineLogger = { info: (line) => lines.push(line), error: (line) => lines.push(line) };
        const running = await start({ logFormat: "json", logger, logConnections: true });
        const sockets = await openEchoed(running.address, 2);
        for (const socket of sockets) socket.end();
        const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
        await until(
          "two connection lines",
          () => Promise.resolve(parsed().filter((l) => l.event === "connection").length),
          (n) => n === 2,
        );
        await running.close();
        const all = parsed();
        for (const line of all) expectLogLine(line, target.model);
        const connections = all.filter((l) => l.event === "connection");
        for (const line of connections) {
          expect(target.worker.test(String(line.worker))).toBe(true);
          expect(line.remoteAddress).toBe("127.0.0.1");
        }
        expect(all.some((l) => l.event === "drain")).toBe(true);
      },
    );
  });
}

/** prefork only: a SIGKILLed worker's connections stay in the `all` totals. */
export function killedWorkerSuite(target: ObservabilityTarget): void {
  describe(`observability: ${target.name}: a killed worker`, () => {
    it("keeps its connections in the totals after it was SIGKILLed", { timeout: 90_000 }, async () => {
      const running = await target.start({ metrics: "127.0.0.1:0", logger: quiet });
      try {
        const sockets: Socket[] = [];
        for (let i = 0; i < CONNECTIONS; i++) sockets.push(await open(running.address));
        await Promise.all(
          sockets.map(async (socket) => {
            await write(socket, Buffer.alloc(PAYLOAD, 66));
            await readExactly(socket, PAYLOAD);
            socket.end();
          }),
        );
        const before = await until(
          "every connection closed",
          () => scrape(running.metrics),
          (s) => value(s, "echo_connections_closed_total") === CONNECTIONS,
        );
        expect(value(before, "echo_connections_accepted_total")).toBe(CONNECTIONS);
        await running.killWorker!();
        const after = await scrape(running.metrics);
        expect(value(after, "echo_connections_accepted_total")).toBe(CONNECTIONS);
        expect(value(after, "echo_connections_closed_total")).toBe(CONNECTIONS);
        expect(value(after, "echo_received_bytes_total")).toBe(CONNECTIONS * PAYLOAD);
        expect(value(after, "echo_connection_lifetime_seconds_count")).toBe(CONNECTIONS);
      } finally {
        await running.close();
      }
    });
  });
}
