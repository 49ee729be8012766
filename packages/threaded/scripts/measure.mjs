#!/usr/bin/env node
// Measures @echo/threaded (build it first: turbo run build --filter=@echo/threaded).
//
//   node scripts/measure.mjs throughput [rounds]   1 vs 2 threads, CPU-heavy handler (~1 ms/request)
//   node scripts/measure.mjs spread [rounds]       100 connections over 4 threads: who got how many
//   node scripts/measure.mjs side [rounds]         1 and 2 threads at the same time, same load, 3 s
//   node scripts/measure.mjs all                   throughput, side and spread
//
// Runs are interleaved (1, 2, 1, 2, …) and medians are reported, because the machine is shared.
// Each throughput round also times fixed work on 1 and 2 plain worker threads (no server) as a
// baseline of what the machine offered at that moment. Traffic goes to 127.0.0.1 only; every
// run is bounded in requests and time.
import { connect } from "node:net";
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { ThreadedServer } from "../dist/index.js";
import { runLoad } from "../test/fixtures/load.mjs";

const cpuHandler = fileURLToPath(new URL("../test/fixtures/cpu.mjs", import.meta.url));
const quiet = { info() {}, error() {} };
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function throughput(threads, requests) {
  const server = new ThreadedServer({ threads, handler: cpuHandler, logger: quiet });
  const { port } = await server.listen();
  try {
    await runLoad({ port, connections: 8, requests: 100 }); // warm up the JIT in every thread
    return (await runLoad({ port, connections: 8, requests, maxMs: 60_000 })).perSecond;
  } finally {
    await server.close({ timeout: 0 });
  }
}

/** The same work as the handler (SHA-256 of 2 MiB, `total` times) split over plain worker threads. */
async function rawWork(threads, total) {
  const code = `const { workerData, parentPort } = require("node:worker_threads");
    const { createHash } = require("node:crypto");
    const work = Buffer.alloc(2 * 1024 * 1024, 0x5a);
    for (let i = 0; i < workerData; i++) createHash("sha256").update(work).digest();
    parentPort.postMessage(0);`;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: threads }, () => {
      const worker = new Worker(code, { eval: true, workerData: total / threads });
      return new Promise((resolve, reject) => worker.once("message", resolve).once("error", reject));
    }),
  );
  return performance.now() - started;
}

async function measureThroughput(rounds) {
  const one = [];
  const two = [];
  const raw = [];
  console.log(
    `throughput: CPU handler (SHA-256 of 2 MiB per request, ~1 ms), 8 connections, 2000 requests/run, ${rounds} interleaved rounds, node ${process.version}`,
  );
  for (let round = 1; round <= rounds; round++) {
    raw.push((await rawWork(1, 400)) / (await rawWork(2, 400)));
    one.push(await throughput(1, 2000));
    two.push(await throughput(2, 2000));
    console.log(
      `  round ${round}: 1 thread ${one.at(-1).toFixed(0)} req/s, 2 threads ${two.at(-1).toFixed(0)} req/s (ratio ${(two.at(-1) / one.at(-1)).toFixed(2)}), plain threads 2 vs 1: ${raw.at(-1).toFixed(2)}x`,
    );
  }
  console.log(
    `  median: 1 thread ${median(one).toFixed(0)} req/s, 2 threads ${median(two).toFixed(0)} req/s, ratio of medians ${(median(two) / median(one)).toFixed(2)}, median per-round ratio ${median(two.map((t, i) => t / one[i])).toFixed(2)}; plain-thread baseline median ${median(raw).toFixed(2)}x`,
  );
}

async function measureSideBySide(rounds) {
  const ratios = [];
  console.log(
    `side by side: a 1-thread and a 2-thread server under the same load (8 connections each) for 3 s, ${rounds} rounds, node ${process.version}`,
  );
  for (let round = 1; round <= rounds; round++) {
    const servers = [1, 2].map((threads) => new ThreadedServer({ threads, handler: cpuHandler, logger: quiet }));
    try {
      const [a, b] = await Promise.all(servers.map((s) => s.listen()));
      const load = { connections: 8, requests: 1_000_000, maxMs: 3_000 };
      const [one, two] = await Promise.all([runLoad({ port: a.port, ...load }), runLoad({ port: b.port, ...load })]);
      ratios.push(two.requests / one.requests);
      console.log(
        `  round ${round}: 1 thread ${one.requests} requests, 2 threads ${two.requests} requests (ratio ${ratios.at(-1).toFixed(2)})`,
      );
    } finally {
      await Promise.all(servers.map((s) => s.close({ timeout: 0 })));
    }
  }
  console.log(`  median ratio ${median(ratios).toFixed(2)}`);
}

/** Opens 100 connections (all at once, or one after another) held open; returns per-thread accepted counts. */
async function spread(accept, mode) {
  const server = new ThreadedServer({ threads: 4, accept, handler: "whoami", logger: quiet });
  const { port } = await server.listen();
  const sockets = [];
  try {
    const open = async () => {
      const socket = connect({ port, host: "127.0.0.1" });
      sockets.push(socket);
      await once(socket, "connect");
      socket.write("hi");
      await once(socket, "data");
    };
    if (mode === "burst") await Promise.all(Array.from({ length: 100 }, open));
    else for (let i = 0; i < 100; i++) await open();
    return server.threadStats().map((t) => t.stats.accepted);
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.close({ timeout: 0 });
  }
}

async function measureSpread(rounds) {
  const probe = new ThreadedServer({ threads: 1, accept: "reusePort", logger: quiet });
  const hasReusePort = await probe.listen().then(
    () => true,
    () => false,
  );
  await probe.close();
  const paths = hasReusePort ? ["reusePort", "shared"] : ["shared"];
  console.log(
    `spread: 100 connections held open over 4 threads (Thread-1..4 accepted), node ${process.version}, reusePort ${hasReusePort ? "supported" : "not supported"}`,
  );
  for (const accept of paths) {
    for (const mode of ["burst", "sequential"]) {
      const mins = [];
      for (let round = 1; round <= rounds; round++) {
        const counts = await spread(accept, mode);
        mins.push(Math.min(...counts));
        console.log(`  ${accept.padEnd(9)} ${mode.padEnd(10)} round ${round}: [${counts.join(", ")}]`);
      }
      console.log(
        `  ${accept.padEnd(9)} ${mode.padEnd(10)} smallest share per round: [${mins.join(", ")}] (fair share 25, half of it 12.5)`,
      );
    }
  }
}

const [what = "all", roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? (what === "spread" ? 5 : 7));
if (what === "throughput" || what === "all") await measureThroughput(rounds);
if (what === "side" || what === "all") await measureSideBySide(what === "all" ? 5 : rounds);
if (what === "spread" || what === "all") await measureSpread(what === "all" ? 5 : rounds);
