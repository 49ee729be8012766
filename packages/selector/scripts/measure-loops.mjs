#!/usr/bin/env node
// Measures --loops (build first: turbo run build --filter=@echo/selector).
//
//   node scripts/measure-loops.mjs spread [rounds] [loops]   100 connections over N loops (default 4): who got how many
//   node scripts/measure-loops.mjs throughput [rounds]        loops 1 vs 2, CPU-bound handler (~1 ms/request)
//
// Runs are interleaved (1, 2, 1, 2, …) and medians are reported, because the machine is shared.
// Each throughput round also times the same work on 1 and 2 plain worker threads (no server): what
// the machine offered at that moment. The server CPU per round trip of 2 loops against 1 is
// scripts/measure.mjs (`--only "selector epoll"`). Traffic goes to 127.0.0.1 only; every run is
// bounded in requests and time.
import { connect } from "node:net";
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { SelectorServer } from "../dist/index.js";

const cpuHandler = fileURLToPath(new URL("../test/fixtures/cpu.mjs", import.meta.url));
const quiet = { info() {}, error() {} };
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A closed loop: `connections` clients each send one byte and wait for the reply, `requests` in all or `maxMs`. */
async function runLoad({ port, connections, requests, maxMs = 60_000 }) {
  const sockets = await Promise.all(
    Array.from({ length: connections }, async () => {
      const socket = connect({ port, host: "127.0.0.1", noDelay: true });
      await once(socket, "connect");
      return socket;
    }),
  );
  let sent = 0;
  const started = performance.now();
  const deadline = started + maxMs;
  let done = 0;
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise((resolve, reject) => {
          const next = () => {
            if (sent >= requests || performance.now() > deadline) return resolve();
            sent++;
            socket.write("x");
          };
          socket.on("data", (d) => {
            done += d.length;
            next();
          });
          socket.once("error", reject);
          next();
        }),
    ),
  );
  const ms = performance.now() - started;
  for (const socket of sockets) socket.destroy();
  return { done, perSecond: (done * 1000) / ms };
}

async function throughput(loops, requests) {
  const server = new SelectorServer({ loops, handler: cpuHandler, logger: quiet, selector: "epoll" });
  const { port } = await server.listen();
  try {
    await runLoad({ port, connections: 8, requests: 100 }); // warm up the JIT in every loop
    return (await runLoad({ port, connections: 8, requests })).perSecond;
  } finally {
    await server.close({ timeout: 0 });
  }
}

/** The handler's work (SHA-256 of 2 MiB, `total` times) split over plain worker threads. */
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
    `throughput: CPU handler (SHA-256 of 2 MiB per request, ~1 ms), epoll, 8 connections, 2000 requests/run, ${rounds} interleaved rounds, node ${process.version}`,
  );
  for (let round = 1; round <= rounds; round++) {
    raw.push((await rawWork(1, 400)) / (await rawWork(2, 400)));
    one.push(await throughput(1, 2000));
    two.push(await throughput(2, 2000));
    console.log(
      `  round ${round}: 1 loop ${one.at(-1).toFixed(0)} req/s, 2 loops ${two.at(-1).toFixed(0)} req/s (ratio ${(two.at(-1) / one.at(-1)).toFixed(2)}), plain threads 2 vs 1: ${raw.at(-1).toFixed(2)}x`,
    );
  }
  console.log(
    `  median: 1 loop ${median(one).toFixed(0)} req/s, 2 loops ${median(two).toFixed(0)} req/s, median per-round ratio ${median(two.map((t, i) => t / one[i])).toFixed(2)}; plain-thread baseline median ${median(raw).toFixed(2)}x`,
  );
}

async function spread(loops, accept, selector, mode) {
  const server = new SelectorServer({ loops, accept, selector, handler: "whoami", logger: quiet });
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
    return server.loopStats().map((l) => l.stats.accepted);
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.close({ timeout: 0 });
  }
}

async function measureSpread(rounds, loops) {
  const fair = 100 / loops;
  console.log(`spread: 100 connections held open over ${loops} loops (accepted per loop), node ${process.version}`);
  for (const [accept, selector] of [
    ["reusePort", "epoll"],
    ["shared", "epoll"],
    ["shared", "poll"],
  ]) {
    for (const mode of ["burst", "sequential"]) {
      const mins = [];
      const rows = [];
      for (let round = 1; round <= rounds; round++) {
        const counts = await spread(loops, accept, selector, mode);
        mins.push(Math.min(...counts));
        rows.push(`[${counts.join(", ")}]`);
      }
      console.log(
        `  ${accept.padEnd(9)} ${selector.padEnd(5)} ${mode.padEnd(10)} ${rows.join(" ")} smallest per round [${mins.join(", ")}] (fair share ${fair})`,
      );
    }
  }
}

const [what = "spread", roundsArg, loopsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 5);
if (what === "spread") await measureSpread(rounds, Number(loopsArg ?? 4));
else if (what === "throughput") await measureThroughput(rounds);
else throw new Error(`unknown measurement ${what}: spread or throughput`);
