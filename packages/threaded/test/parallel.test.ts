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
  const server = new ThreadedServer({
    threads,
    handler: fixture("rendezvous.mjs"),
    handlerOptions: { buffer, waitMs },
    logger: quiet,
  });
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
  const clients =
    threads === 1 ? [byThread.values().next().value!, await LineClient.open(address.port)] : [...byThread.values()];
  cleanup.push(() => clients[1]!.close());
  return Promise.all(clients.map((c) => c.request("meet")));
}

async function startCpuServer(threads: number): Promise<number> {
  const server = new ThreadedServer({ threads, handler: fixture("cpu.mjs"), logger: quiet });
  cleanup.push(() => server.close({ timeout: 0 }));
  const address = await server.listen();
  if (address.kind !== "tcp") throw new Error("expected TCP");
  return address.port;
}

describe("parallelism", () => {
  it("runs handlers of two threads at the same time (and those of one thread one after the other)", async () => {
    expect(await rendezvous(2, 20_000)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Thread-1 together$/),
        expect.stringMatching(/^Thread-2 together$/),
      ]),
    );
    expect(await rendezvous(1, 300)).toEqual(["Thread-1 alone", "Thread-1 together"]);
  });

  // Wall-clock throughput on a shared 2-core machine swings with whatever else runs, so the two
  // servers run side by side under the same load for the same 2 s: both see the same machine.
  // Handler work only spreads over threads if every thread really serves, so the 2-thread server
  // completes about twice the requests when the scheduler shares the CPU per thread. It does not
  // always (three busy threads on two cores, other processes): a round can come out even, so up
  // to 6 rounds run and the first over a coarse 1.2x passes. The interleaved measurement with
  // medians is scripts/measure.mjs.
  it("two threads serve a CPU-heavy handler faster than one", async () => {
    const [onePort, twoPort] = await Promise.all([startCpuServer(1), startCpuServer(2)]);
    const load = { connections: 8, requests: 1_000_000, maxMs: 2_000 };
    const rounds: string[] = [];
    for (let round = 0; round < 6; round++) {
      const [one, two] = await Promise.all([runLoad({ port: onePort, ...load }), runLoad({ port: twoPort, ...load })]);
      rounds.push(`1 thread ${one.requests}, 2 threads ${two.requests}`);
      if (two.requests > 1.2 * one.requests) return;
    }
    expect.fail(`in no round did 2 threads complete 1.2x the requests of 1 thread in 2 s: ${rounds.join("; ")}`);
  });
});
