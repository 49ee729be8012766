import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { ThreadedServer } from "@echo/threaded";
import { LineClient, fixture } from "./helpers.js";
import { runLoad } from "./fixtures/load.mjs";

const quiet = { info: () => {}, error: () => {} };
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function rendezvous(threads: number, waitMs: number): Promise<string[]> {
  const buffer = new SharedArrayBuffer(4);
  const server = new ThreadedServer({ threads, handler: fixture("rendezvous.mjs"), handlerOptions: { buffer, waitMs }, logger: quiet });
  cleanup.push(() => server.close({ timeout: 0 }));
  const address = await server.listen();
  if (address.kind !== "tcp") throw new Error("expected TCP");
  // One connection served by each of two different threads (or two on the only thread).
  const byThread = new Map<string, LineClient>();
  for (let i = 0; i < 200 && byThread.size < Math.min(threads, 2); i++) {
    const client = await LineClient.open(address.port);
    cleanup.push(() => client.close());
    byThread.set(await client.request("who"), client);
  }
  const clients = threads === 1 ? [byThread.values().next().value!, await LineClient.open(address.port)] : [...byThread.values()];
  cleanup.push(() => clients[1]!.close());
  return Promise.all(clients.map((c) => c.request("meet")));
}

/** Fixed CPU work on `threads` plain worker threads; returns wall milliseconds. */
async function rawWork(threads: number, totalIterations: number): Promise<number> {
  const code = `const { workerData, parentPort } = require("node:worker_threads");
    let x = 0; for (let i = 0; i < workerData; i++) x = (Math.imul(x, 31) + i) | 0; parentPort.postMessage(x);`;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: threads }, () => {
      const worker = new Worker(code, { eval: true, workerData: totalIterations / threads });
      return new Promise((resolve, reject) => worker.once("message", resolve).once("error", reject));
    }),
  );
  return performance.now() - started;
}

async function throughput(threads: number): Promise<number> {
  const server = new ThreadedServer({ threads, handler: fixture("cpu.mjs"), logger: quiet });
  try {
    const address = await server.listen();
    if (address.kind !== "tcp") throw new Error("expected TCP");
    return (await runLoad({ port: address.port, connections: 8, requests: 500, maxMs: 20_000 })).perSecond;
  } finally {
    await server.close({ timeout: 0 });
  }
}

describe("parallelism", () => {
  it("runs handlers of two threads at the same time (and those of one thread one after the other)", async () => {
    expect(await rendezvous(2, 20_000)).toEqual(expect.arrayContaining([expect.stringMatching(/^Thread-1 together$/), expect.stringMatching(/^Thread-2 together$/)]));
    expect(await rendezvous(1, 300)).toEqual(["Thread-1 alone", "Thread-1 together"]);
  });

  // Wall-clock throughput needs a free second core, which a shared 2-core machine does not
  // always have. Each round first measures what the machine offers to plain threads doing fixed
  // work; a round counts only when two plain threads were 1.5x faster than one. The check is
  // coarse (1.2x, against ~1.9x measured by scripts/measure.mjs on a quiet machine).
  it("two threads serve a CPU-heavy handler faster than one", async (context) => {
    const rounds: string[] = [];
    let counted = 0;
    for (let round = 0; round < 5; round++) {
      const raw = (await rawWork(1, 300e6)) / (await rawWork(2, 300e6));
      const one = await throughput(1);
      const two = await throughput(2);
      rounds.push(`raw ${raw.toFixed(2)}x, 1 thread ${Math.round(one)}/s, 2 threads ${Math.round(two)}/s`);
      if (raw < 1.5) continue;
      counted++;
      if (two / one > 1.2) return;
    }
    if (counted === 0) context.skip(`no free second core during the test: ${rounds.join("; ")}`);
    expect.fail(`2 threads were not 1.2x faster than 1 in any round with a free core: ${rounds.join("; ")}`);
  });
});
