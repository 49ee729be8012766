import { afterEach, describe, expect, it } from "vitest";
import { runLoad, type LoadResult } from "@echo/client";
import { EchoServer, defineHandler, type Connection, type StatsSnapshot } from "@echo/core";
import { ObservabilityEndpoint } from "../../src/observability/endpoint.js";
import { ConnectionLifetimes, defaultLifetimeBuckets } from "../../src/observability/lifetimes.js";
import { ALL_WORKERS, EchoMetrics, retiredStats, type MetricsSample } from "../../src/observability/metrics.js";
import { ServerStats } from "../../src/stats.js";
import { http, parseProm, until, value } from "./helpers.js";

const quiet = { info: () => {}, error: () => {} };
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function stats(values: Partial<StatsSnapshot>): StatsSnapshot {
  return { ...new ServerStats().snapshot(), ...values };
}

/** An async EchoServer whose connections report their lifetime, an EchoMetrics over it, and its endpoint. */
async function observedServer() {
  // Read at scrape time only, once `server` exists.
  const metrics: EchoMetrics = new EchoMetrics({
    model: "async",
    source: () => ({ workers: [{ worker: "MainThread", stats: server.stats() }] }),
  });
  // The hook a model will call on close; today's API reaches it through the handler's callbacks.
  const handler = defineHandler({
    onConnection(conn: Connection) {
      conn.state = performance.now();
    },
    onData(conn: Connection, data: Uint8Array) {
      conn.write(data);
    },
    onClose(conn: Connection) {
      metrics.observeConnectionLifetime((performance.now() - (conn.state as number)) / 1000);
    },
  });
  const server = new EchoServer({ model: "async", handler, logger: quiet });
  const endpoint = new ObservabilityEndpoint({ metrics, stats: () => server.stats() });
  const address = await server.listen();
  if (address.kind !== "tcp") throw new Error("expected tcp");
  const { port: metricsPort } = await endpoint.listen();
  endpoint.setReady();
  cleanups.push(
    () => endpoint.close(),
    () => server.close({ timeout: 0 }),
  );
  return { server, metrics, endpoint, port: address.port, metricsPort };
}

describe("EchoMetrics over a real async EchoServer, scraped over HTTP", () => {
  it("after the load, the scraped totals equal what the clients counted", async () => {
    const { server, port, metricsPort } = await observedServer();
    let loading = true;
    const seen: number[] = [];
    // Scrape all the while: every scrape parses, and accepted never goes down.
    const scraper = (async () => {
      while (loading) {
        const answer = await http(metricsPort, "/metrics");
        expect(answer.status).toBe(200);
        seen.push(value(parseProm(answer.body), "echo_connections_accepted_total", { worker: ALL_WORKERS }));
      }
    })();
    let results: LoadResult[];
    try {
      results = [
        await runLoad({ port, connections: 8, count: 3000, size: 100, duration: 60 }),
        await runLoad({ port, connections: 4, count: 300, size: 17, newConnection: true, duration: 60 }),
      ];
    } finally {
      loading = false;
      await scraper;
    }
    for (const r of results) expect(r).toMatchObject({ errors: 0, mismatches: 0 });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));

    // runLoad opens one probe connection per run, which `connects` does not count.
    const connections = results.reduce((n, r) => n + r.connects + 1, 0);
    await until(() => server.stats().closed === connections, "every connection to close");

    const answer = await http(metricsPort, "/metrics");
    expect(answer.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    const samples = parseProm(answer.body);
    for (const worker of [ALL_WORKERS, "MainThread"]) {
      const at = { model: "async", worker };
      expect(value(samples, "echo_connections_accepted_total", at)).toBe(connections);
      expect(value(samples, "echo_connections_closed_total", at)).toBe(connections);
      expect(value(samples, "echo_received_bytes_total", at)).toBe(results.reduce((n, r) => n + r.bytesSent, 0));
      expect(value(samples, "echo_sent_bytes_total", at)).toBe(results.reduce((n, r) => n + r.bytesReceived, 0));
      expect(value(samples, "echo_connections_rejected_total", at)).toBe(0);
      expect(value(samples, "echo_idle_timeouts_total", at)).toBe(0);
      expect(value(samples, "echo_connections_active", at)).toBe(0);
      expect(value(samples, "echo_connections_queued", at)).toBe(0);
      expect(value(samples, "echo_buffered_bytes", at)).toBe(0);
      expect(value(samples, "echo_connection_lifetime_seconds_count", at)).toBe(connections);
      expect(value(samples, "echo_connection_lifetime_seconds_bucket", { ...at, le: "+Inf" })).toBe(connections);
    }
    expect(value(samples, "echo_errors_total", { worker: ALL_WORKERS })).toBe(server.stats().errors);
    // prom-client's default process metrics are there, labelled too; every series has both labels.
    expect(value(samples, "process_cpu_user_seconds_total", { model: "async", worker: "MainThread" })).toBeGreaterThan(
      0,
    );
    for (const s of samples) expect(s.labels).toMatchObject({ model: "async", worker: expect.any(String) });

    const statsAnswer = await http(metricsPort, "/stats");
    expect(statsAnswer.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(JSON.parse(statsAnswer.body)).toEqual(server.stats());
  });
});

describe("EchoMetrics from worker samples", () => {
  function scripted(samples: MetricsSample[]) {
    let i = 0;
    let calls = 0;
    const metrics = new EchoMetrics({
      model: "threaded",
      defaultMetrics: false,
      source: () => {
        calls++;
        return samples[Math.min(i++, samples.length - 1)]!;
      },
    });
    return { metrics, calls: () => calls, scrape: async () => parseProm(await metrics.metrics()) };
  }

  it('keeps a dead worker\'s counts in worker="all", and a replacement under the same name carries on', async () => {
    const { scrape } = scripted([
      {
        workers: [
          { worker: "Thread-1", stats: stats({ accepted: 5, active: 2 }) },
          { worker: "Thread-2", stats: stats({ accepted: 3 }) },
        ],
      },
      // Thread-1 died with 7 accepted; its replacement, also Thread-1, has served 1 so far.
      {
        workers: [
          { worker: "Thread-1", stats: stats({ accepted: 1, active: 1 }) },
          { worker: "Thread-2", stats: stats({ accepted: 4 }) },
        ],
        retired: { stats: stats({ accepted: 7 }) },
      },
      // Thread-2 is gone too and not replaced yet.
      { workers: [{ worker: "Thread-1", stats: stats({ accepted: 2 }) }], retired: { stats: stats({ accepted: 11 }) } },
    ]);
    const name = "echo_connections_accepted_total";
    let s = await scrape();
    expect([
      value(s, name, { worker: "Thread-1" }),
      value(s, name, { worker: "Thread-2" }),
      value(s, name, { worker: "all" }),
    ]).toEqual([5, 3, 8]);
    expect(value(s, "echo_connections_active", { worker: "all" })).toBe(2);
    s = await scrape();
    // Thread-1 went from 5 to 1: a reset, so the series continues at 5 + 1.
    expect([
      value(s, name, { worker: "Thread-1" }),
      value(s, name, { worker: "Thread-2" }),
      value(s, name, { worker: "all" }),
    ]).toEqual([6, 4, 12]);
    s = await scrape();
    expect(s.some((x) => x.labels.worker === "Thread-2")).toBe(false);
    expect([value(s, name, { worker: "Thread-1" }), value(s, name, { worker: "all" })]).toEqual([7, 13]);
    expect(value(s, "echo_connections_active", { worker: "all" })).toBe(0);
  });

  it('never lets worker="all" decrease, even when a source goes back', async () => {
    const { scrape } = scripted([
      { workers: [{ worker: "Process-1", stats: stats({ closed: 10, bytesIn: 100 }) }] },
      { workers: [{ worker: "Process-1", stats: stats({ closed: 9, bytesIn: 120 }) }] },
    ]);
    await scrape();
    const s = await scrape();
    expect(value(s, "echo_connections_closed_total", { worker: "all" })).toBe(10);
    expect(value(s, "echo_received_bytes_total", { worker: "all" })).toBe(120);
  });

  it("renders lifetimes from workers, from observeConnectionLifetime and from retired workers as one histogram", async () => {
    const remote = new ConnectionLifetimes();
    remote.observe(0.002);
    remote.observe(7);
    const retired = new ConnectionLifetimes();
    retired.observe(100_000);
    const { metrics, scrape } = scripted([
      {
        workers: [
          { worker: "Process-2", stats: stats({}), lifetimes: remote.snapshot() },
          { worker: "MainThread", stats: stats({}) },
        ],
        retired: { stats: stats({}), lifetimes: retired.snapshot() },
      },
    ]);
    metrics.observeConnectionLifetime(0.0005);
    const s = await scrape();
    const bucket = (worker: string, le: string) => value(s, "echo_connection_lifetime_seconds_bucket", { worker, le });
    expect([
      bucket("Process-2", "0.001"),
      bucket("Process-2", "0.005"),
      bucket("Process-2", "5"),
      bucket("Process-2", "10"),
      bucket("Process-2", "+Inf"),
    ]).toEqual([0, 1, 1, 2, 2]);
    expect(bucket("MainThread", "0.001")).toBe(1);
    expect([bucket("all", "0.001"), bucket("all", "3600"), bucket("all", "+Inf")]).toEqual([1, 3, 4]);
    expect(value(s, "echo_connection_lifetime_seconds_count", { worker: "all" })).toBe(4);
    expect(value(s, "echo_connection_lifetime_seconds_sum", { worker: "all" })).toBeCloseTo(100_007.0025, 6);
    expect(
      s.filter((x) => x.name === "echo_connection_lifetime_seconds_bucket" && x.labels.worker === "all"),
    ).toHaveLength(defaultLifetimeBuckets.length + 1);
  });

  it("retiredStats: what gone workers counted, from the totals and the live workers", () => {
    const total = stats({ accepted: 10, closed: 9, active: 1, bytesIn: 100, buffered: 5 });
    const live = [
      stats({ accepted: 3, closed: 2, active: 1, bytesIn: 30, buffered: 5 }),
      stats({ accepted: 8, closed: 1 }),
    ];
    expect(retiredStats(total, live)).toEqual(stats({ accepted: 0, closed: 6, bytesIn: 70 }));
  });

  it("concurrent scrapes share one read of the source", async () => {
    const { metrics, calls } = scripted([{ workers: [{ worker: "MainThread", stats: stats({ accepted: 1 }) }] }]);
    const texts = await Promise.all([metrics.metrics(), metrics.metrics(), metrics.metrics()]);
    expect(calls()).toBe(1);
    expect(new Set(texts).size).toBe(1);
    await metrics.metrics();
    expect(calls()).toBe(2);
  });

  it("a malformed sample fails the scrape with a message saying what is wrong", async () => {
    const bad = (sample: unknown) =>
      new EchoMetrics({ model: "x", defaultMetrics: false, source: () => sample as MetricsSample }).metrics();
    await expect(bad([])).rejects.toThrow("the metrics source must return { workers: [...] }");
    await expect(bad({ workers: [{ worker: "all", stats: stats({}) }] })).rejects.toThrow(
      'workers[0].worker must not be "all"',
    );
    await expect(
      bad({
        workers: [
          { worker: "A", stats: stats({}) },
          { worker: "A", stats: stats({}) },
        ],
      }),
    ).rejects.toThrow('workers[1].worker "A" appears twice');
    await expect(bad({ workers: [{ worker: "A", stats: { ...stats({}), accepted: -1 } }] })).rejects.toThrow(
      "workers[0].stats.accepted must be a finite number >= 0",
    );
    await expect(
      bad({ workers: [{ worker: "A", stats: stats({}), lifetimes: new ConnectionLifetimes([1, 2]).snapshot() }] }),
    ).rejects.toThrow(/lifetimes must use the buckets/);
  });

  it("a source that fails fails only that scrape, whether it throws at once or rejects", async () => {
    const failures = [
      () => {
        throw new Error("at once");
      },
      () => Promise.reject(new Error("later")),
    ];
    let calls = 0;
    const metrics = new EchoMetrics({
      model: "x",
      defaultMetrics: false,
      source: () =>
        calls < failures.length
          ? failures[calls++]!()
          : { workers: [{ worker: "MainThread", stats: stats({ accepted: 3 }) }] },
    });
    await expect(metrics.metrics()).rejects.toThrow("at once");
    await expect(metrics.metrics()).rejects.toThrow("later");
    expect(value(parseProm(await metrics.metrics()), "echo_connections_accepted_total", { worker: "all" })).toBe(3);
  });

  it("validates its options, naming them", () => {
    const source = () => ({ workers: [] });
    expect(() => new EchoMetrics({ model: "", source })).toThrow("options.model must be a non-empty string");
    expect(() => new EchoMetrics({ model: "a", source: 1 as never })).toThrow("options.source must be a function");
    expect(() => new EchoMetrics({ model: "a", source, lifetimeBuckets: [2, 1] })).toThrow(
      "options.lifetimeBuckets must be finite positive numbers in ascending order",
    );
    expect(() => new EchoMetrics({ model: "a", source, processWorker: "" })).toThrow(
      "options.processWorker must be a non-empty string",
    );
  });
});
