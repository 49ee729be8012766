/**
 * The selector comparison: the cost of one round trip on epoll, poll and select, with no other
 * connection and then with many idle ones, which poll and select scan on every call and epoll
 * does not. select() refuses every descriptor at or above FD_SETSIZE (1024): the server's own
 * counters show how many it turned away.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { EchoClient } from "@echo/client";
import { FD_SETSIZE, SelectorServer } from "@echo/selector";

/** One selector's row. */
export interface CompareRow {
  selector: "epoll" | "poll" | "select";
  /** Median microseconds of one round trip with only the measuring connection open. */
  usAlone: number;
  /** Median microseconds of one round trip with the idle connections open too. */
  usWithIdle: number;
  /** Idle connections the server holds (its `active` count, less the measuring one). */
  held: number;
  /** Idle connections the server refused (select: descriptors at or above FD_SETSIZE). */
  refused: number;
}

/** What the page shows of a comparison. */
export interface CompareState {
  idle: number;
  fdSetSize: number;
  running: boolean;
  /** The selector being measured now. */
  current: string | null;
  rows: CompareRow[];
  error: string | null;
}

// Paths are relative to the bundle, dist/cli.js.
const HOLDER = fileURLToPath(new URL("./idle-holder.js", import.meta.url));
const MEASURE_MS = 400;

/**
 * Sequential 64-byte round trips for `ms` milliseconds (at most 5,000 of them); the median
 * microseconds of one. The median, not the mean: on a shared machine a round trip now and then
 * waits for the CPU, and those would swamp what the selector costs.
 */
async function costPerRoundTrip(client: EchoClient, ms: number): Promise<number> {
  const payload = Buffer.alloc(64, 0x61);
  // Warm up: the first round trips pay for JIT and cold caches.
  for (let i = 0; i < 50; i++) await client.request(payload, { timeout: 10_000 });
  const samples: number[] = [];
  const start = performance.now();
  while (performance.now() - start < ms && samples.length < 5000) {
    const t0 = performance.now();
    await client.request(payload, { timeout: 10_000 });
    samples.push((performance.now() - t0) * 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** A running comparison; `children` are the idle holders alive now. */
export class SelectorComparison {
  readonly state: CompareState;
  private readonly holders = new Set<ChildProcess>();
  private stopped = false;
  /** Resolves when the comparison has ended. */
  readonly done: Promise<void>;

  constructor(idle: number) {
    this.state = { idle, fdSetSize: FD_SETSIZE, running: true, current: null, rows: [], error: null };
    this.done = this.run()
      .then(
        () => undefined,
        (error: Error) => void (this.state.error = error.message),
      )
      .finally(() => {
        this.state.running = false;
        this.state.current = null;
      });
  }

  /** Child processes alive now. */
  childPids(): number[] {
    return [...this.holders].map((h) => h.pid!).filter((pid) => pid !== undefined);
  }

  /** Stops at once; resolves when every holder has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const holder of this.holders) holder.kill("SIGKILL");
    await this.done;
  }

  private async run(): Promise<void> {
    for (const selector of ["epoll", "poll", "select"] as const) {
      if (this.stopped) return;
      this.state.current = selector;
      this.state.rows.push(await this.measure(selector));
    }
  }

  private async measure(selector: CompareRow["selector"]): Promise<CompareRow> {
    const server = new SelectorServer({ selector, logger: { info: () => undefined, error: () => undefined } });
    const address = await server.listen();
    if (address.kind !== "tcp") throw new Error("the comparison listens on TCP");
    let holder: ChildProcess | undefined;
    try {
      // The measuring connection comes first: its descriptor is low, so select() serves it.
      const client = await EchoClient.connect({ host: address.host, port: address.port });
      try {
        const usAlone = await costPerRoundTrip(client, MEASURE_MS);
        const before = server.stats();
        holder = spawn(process.execPath, [HOLDER, address.host, String(address.port), String(this.state.idle)], {
          stdio: ["pipe", "pipe", "inherit"],
        });
        this.holders.add(holder);
        const line = await new Promise<string>((resolve, reject) => {
          createInterface({ input: holder!.stdout! }).once("line", resolve);
          holder!.once("exit", (code, signal) =>
            reject(new Error(`the idle-connection holder exited (${signal ?? code}) before opening its connections`)),
          );
        });
        const { failed } = JSON.parse(line) as { opened: number; failed: number };
        // Wait until the server has accepted (or refused) every one.
        const settled = (): boolean => {
          const s = server.stats();
          return s.accepted - before.accepted + (s.errors - before.errors) + failed >= this.state.idle;
        };
        await waitFor(settled, 10_000);
        const usWithIdle = await costPerRoundTrip(client, MEASURE_MS);
        const after = server.stats();
        return { selector, usAlone, usWithIdle, held: after.active - 1, refused: after.errors - before.errors };
      } finally {
        await client.close();
      }
    } finally {
      if (holder) {
        if (holder.exitCode === null && holder.signalCode === null) {
          const exited = once(holder, "exit");
          holder.kill("SIGKILL");
          await exited;
        }
        this.holders.delete(holder);
      }
      await server.close({ timeout: 0 });
    }
  }
}
