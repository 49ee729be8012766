#!/usr/bin/env node
// What does --metrics cost? Runs an async EchoServer in a child process in three arms, interleaved
// (the order rotates every round), and reads the child's CPU time from /proc around each load run:
//   plain    no metrics at all
//   metrics  EchoMetrics (with prom-client's default process metrics) and its endpoint, never scraped
//   scraped  the same, scraped over HTTP once a second for the whole run
// It prints each run and the median ratios of server CPU per round trip (scraped/plain, metrics/plain).
// Loopback only; every run is bounded (--duration seconds of load, --rounds rounds, at most 20 × 30 s).
//
// Needs a built core (`pnpm --filter @echo/core run build`) and a load generator: ref-echo-load
// (`sh /work/shared/tools/build.sh /tmp/echo-ref`, used when found) or @echo/client's echo-load.
//
// Usage: node scripts/metrics-cost.mjs [--rounds 5] [--duration 5] [--connections 50] [--size 64] [--load ref|node]
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const REF_LOAD = process.env.REF_ECHO_LOAD ?? "/tmp/echo-ref/ref-echo-load";
const NODE_LOAD = here("../../client/dist/cli/echo-load.js");

/** The child: an async EchoServer on 127.0.0.1, with or without metrics; prints its ports, exits on SIGTERM. */
async function serve(mode) {
  const { EchoServer } = await import(here("../dist/index.js"));
  const quiet = { info() {}, error() {} };
  const server = new EchoServer({ model: "async", logger: quiet });
  const address = await server.listen();
  let metricsPort = 0;
  let endpoint;
  const renders = [];
  if (mode === "metrics") {
    const { EchoMetrics } = await import(here("../dist/observability/metrics.js"));
    const { ObservabilityEndpoint } = await import(here("../dist/observability/endpoint.js"));
    const metrics = new EchoMetrics({
      model: "async",
      source: () => ({ workers: [{ worker: "MainThread", stats: server.stats() }] }),
    });
    // Counts the CPU of rendering each scrape (synchronous but for microtasks, so nothing else
    // runs in between): the scrape's own cost, without the HTTP around it.
    const timed = {
      contentType: metrics.contentType,
      async metrics() {
        const start = process.cpuUsage();
        const text = await metrics.metrics();
        const spent = process.cpuUsage(start);
        renders.push(spent.user + spent.system);
        return text;
      },
    };
    endpoint = new ObservabilityEndpoint({ metrics: timed, stats: () => server.stats() });
    metricsPort = (await endpoint.listen()).port;
    endpoint.setReady();
  }
  process.once("SIGTERM", () => {
    endpoint?.setDraining();
    process.stdout.write(`${JSON.stringify({ renderUs: renders })}\n`);
    void Promise.all([server.close({ timeout: 0 }), endpoint?.close()]).then(() => process.exit(0));
  });
  process.stdout.write(`${JSON.stringify({ port: address.port, metricsPort })}\n`);
}

function cpuTicks(pid) {
  // Fields after the command name (which may hold spaces): utime and stime are the 14th and 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false, timeout: 5000 }, (res) => {
      let bytes = 0;
      res.on("data", (c) => (bytes += c.length));
      res.on("end", () => resolve({ status: res.statusCode, bytes }));
    });
    req.on("timeout", () => req.destroy(new Error("scrape timed out")));
    req.on("error", reject);
    req.end();
  });
}

function run(cmd, args, limitMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited with ${code}: ${out}`));
    });
  });
}

/** Runs the load for `seconds`; resolves with the round trips it completed. */
async function load(kind, port, seconds, connections, size) {
  if (kind === "ref") {
    const out = await run(
      REF_LOAD,
      ["-h", "127.0.0.1", "-p", String(port), "-c", String(connections), "-s", String(size), "-d", String(seconds)],
      (seconds + 30) * 1000,
    );
    const fields = Object.fromEntries(
      out
        .trim()
        .split(/\s+/)
        .map((kv) => kv.split("=")),
    );
    if (Number(fields.errors) !== 0 || Number(fields.mismatch) !== 0) throw new Error(`load saw errors: ${out.trim()}`);
    return Number(fields.done);
  }
  const out = await run(
    process.execPath,
    [
      NODE_LOAD,
      "--port",
      String(port),
      "--connections",
      String(connections),
      "--size",
      String(size),
      "--duration",
      String(seconds),
      "--json",
    ],
    (seconds + 30) * 1000,
  );
  const result = JSON.parse(out);
  if (result.errors !== 0 || result.mismatches !== 0) throw new Error(`load saw errors: ${out.trim()}`);
  return result.roundTrips;
}

async function once(arm, o) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), "--serve", arm === "plain" ? "plain" : "metrics"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    const rl = createInterface({ input: child.stdout });
    const drained = new Promise((resolve) => rl.once("close", resolve));
    const lines = [];
    let onLine;
    rl.on("line", (l) => (lines.push(l), onLine?.()));
    const line = await new Promise((resolve, reject) => {
      onLine = () => resolve(lines[0]);
      child.once("exit", (code) => reject(new Error(`server exited with ${code} before listening`)));
    });
    const { port, metricsPort } = JSON.parse(line);
    // Warm-up, not measured. The scraped arm is scraped during it too: a process's first scrapes
    // compile prom-client's and node:http's code once, a cost a long-running server pays once.
    const warmScrapes =
      arm === "scraped" ? [get(metricsPort, "/metrics"), delay(500).then(() => get(metricsPort, "/metrics"))] : [];
    await load(o.load, port, 1, o.connections, o.size);
    await Promise.all(warmScrapes);
    let scrapes = 0;
    let scrapeBytes = 0;
    let scrapeFailure;
    let scraping;
    const inflight = new Set();
    const scrape = () => {
      const p = get(metricsPort, "/metrics").then(
        (answer) => {
          if (answer.status !== 200) scrapeFailure ??= new Error(`scrape answered ${answer.status}`);
          scrapes++;
          scrapeBytes = answer.bytes;
        },
        (error) => (scrapeFailure ??= error),
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    };
    const before = cpuTicks(child.pid);
    if (arm === "scraped") {
      scrape();
      scraping = setInterval(scrape, 1000);
    }
    const roundTrips = await load(o.load, port, o.duration, o.connections, o.size);
    clearInterval(scraping);
    const ticks = cpuTicks(child.pid) - before;
    await Promise.all(inflight); // before the server goes, so no scrape is cut off
    if (scrapeFailure) throw scrapeFailure;
    const cpuSeconds = ticks / o.hz;
    child.kill("SIGTERM");
    await drained;
    const all = lines[1] ? JSON.parse(lines[1]).renderUs : [];
    const coldUs = all[0];
    const renderUs = all.slice(warmScrapes.length); // those of the measured window
    return {
      arm,
      roundTrips,
      cpuSeconds,
      usPerRoundTrip: (cpuSeconds * 1e6) / roundTrips,
      rps: roundTrips / o.duration,
      scrapes,
      scrapeBytes,
      renderUs,
      coldUs,
    };
  } finally {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "5" },
      duration: { type: "string", default: "5" },
      connections: { type: "string", default: "50" },
      size: { type: "string", default: "64" },
      load: { type: "string" },
    },
  });
  const bounded = (name, raw, min, max) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${raw}`);
    return n;
  };
  const o = {
    rounds: bounded("rounds", values.rounds, 1, 20),
    duration: bounded("duration", values.duration, 1, 30),
    connections: bounded("connections", values.connections, 1, 1000),
    size: bounded("size", values.size, 1, 65536),
    load: values.load ?? (existsSync(REF_LOAD) ? "ref" : "node"),
    hz: Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100,
  };
  if (o.load !== "ref" && o.load !== "node") throw new Error(`--load must be ref or node, got ${o.load}`);
  if (!existsSync(here("../dist/observability/metrics.js")))
    throw new Error("build @echo/core first (dist/observability/metrics.js is missing)");
  const arms = ["plain", "metrics", "scraped"];
  console.log(
    `metrics-cost: async EchoServer, ${o.connections} connections × ${o.size} B, ${o.duration} s per run, ${o.rounds} rounds, load ${o.load === "ref" ? "ref-echo-load" : "echo-load"}, node ${process.version}`,
  );
  const results = [];
  for (let round = 0; round < o.rounds; round++) {
    const order = arms.map((_, i) => arms[(i + round) % arms.length]);
    for (const arm of order) {
      const r = await once(arm, o);
      results.push({ round, ...r });
      console.log(
        `round ${round + 1} ${arm.padEnd(8)} ${r.usPerRoundTrip.toFixed(3).padStart(7)} µs CPU/round trip  ${Math.round(r.rps).toString().padStart(7)} rt/s  cpu ${r.cpuSeconds.toFixed(2)} s` +
          (arm === "scraped"
            ? `  scrapes ${r.scrapes} (${r.scrapeBytes} B each, render ${Math.round(median(r.renderUs))} µs CPU, first one ${Math.round(r.coldUs)} µs)`
            : ""),
      );
    }
  }
  const by = (arm) => results.filter((r) => r.arm === arm);
  for (const arm of arms) {
    const rs = by(arm);
    console.log(
      `${arm.padEnd(8)} median ${median(rs.map((r) => r.usPerRoundTrip)).toFixed(3)} µs CPU/round trip, median ${Math.round(median(rs.map((r) => r.rps)))} rt/s`,
    );
  }
  const renders = by("scraped").flatMap((r) => r.renderUs);
  const render = median(renders);
  const serverCpuPerSecond = median(by("scraped").map((r) => r.cpuSeconds / o.duration));
  console.log(
    `one warm scrape renders in ${Math.round(render)} µs CPU (median of ${renders.length}); at one a second that is ${((render / 1e6 / serverCpuPerSecond) * 100).toFixed(3)}% of the server's median CPU per second under this load`,
  );
  for (const arm of ["scraped", "metrics"]) {
    const ratios = [];
    for (let round = 0; round < o.rounds; round++) {
      const a = results.find((r) => r.round === round && r.arm === arm);
      const b = results.find((r) => r.round === round && r.arm === "plain");
      ratios.push(a.usPerRoundTrip / b.usPerRoundTrip);
    }
    const m = median(ratios);
    console.log(
      `${arm}/plain CPU per round trip: median of per-round ratios ${m.toFixed(4)} (${((m - 1) * 100).toFixed(2)}%), ratios ${ratios.map((x) => x.toFixed(3)).join(" ")}`,
    );
  }
}

if (process.argv[2] === "--serve") await serve(process.argv[3]);
else await main();
