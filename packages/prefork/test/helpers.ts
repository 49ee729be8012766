// Test helpers: loopback clients, a bounded load generator, process checks.
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { PreforkServer, WorkerInfo } from "@echo/prefork";

export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Sends `payload`, half-closes, resolves with everything the server sent back. */
export function roundTrip(port: number, payload: string | Buffer, host = "127.0.0.1"): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks)));
    socket.on("error", reject);
    // Bounded: a connection that hangs counts as a failure instead of stalling a test.
    socket.setTimeout(15_000, () => socket.destroy(new Error("no answer within 15 s")));
    socket.on("close", (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks));
    });
    socket.end(payload);
  });
}

/** The worker name a `whoami` server answers with. */
export async function whoami(port: number): Promise<string> {
  const reply = (await roundTrip(port, "x")).toString();
  const name = reply.split(":")[0];
  if (!name || !/^Process-\d+$/.test(name)) throw new Error(`unexpected whoami reply ${JSON.stringify(reply)}`);
  return name;
}

/** A persistent connection speaking lines: `ask(line)` resolves with the next line received. */
export class LineClient {
  readonly socket: net.Socket;
  private buffer = "";
  private waiters: ((line: string) => void)[] = [];
  closed = false;
  readonly done: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (data: string) => {
      this.buffer += data;
      let i: number;
      while ((i = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        this.waiters.shift()?.(line);
      }
    });
    socket.on("error", () => {});
    this.done = new Promise((resolve) =>
      socket.on("close", () => {
        this.closed = true;
        for (const w of this.waiters.splice(0)) w("<closed>");
        resolve();
      }),
    );
  }

  static async open(port: number): Promise<LineClient> {
    const socket = net.connect({ port, host: "127.0.0.1" });
    await once(socket, "connect");
    return new LineClient(socket);
  }

  ask(line: string): Promise<string> {
    if (this.closed) return Promise.resolve("<closed>");
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.socket.write(`${line}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface LoadResult {
  attempted: number;
  ok: number;
  failed: number;
  errors: string[];
}

/**
 * A bounded echo load: `concurrency` loops each open a connection, send `size` bytes, half-close
 * and check the echo, until `stop()` is called, `total` connections were made or `deadlineMs`
 * passed. `reached(n)` resolves once n connections succeeded.
 */
export function startLoad(
  port: number,
  opts: { concurrency?: number; total?: number; deadlineMs?: number; size?: number; reply?: "echo" | "lines" } = {},
) {
  const { concurrency = 8, total = 20_000, deadlineMs = 30_000, size = 256, reply: mode = "echo" } = opts;
  const result: LoadResult = { attempted: 0, ok: 0, failed: 0, errors: [] };
  const deadline = Date.now() + deadlineMs;
  let stopped = false;
  const goals: { n: number; resolve: () => void }[] = [];
  const loop = async (id: number): Promise<void> => {
    let i = 0;
    while (!stopped && result.attempted < total && Date.now() < deadline) {
      result.attempted++;
      const payload = Buffer.alloc(size, `${id}:${i++};`);
      try {
        const reply = await roundTrip(port, payload);
        if (
          mode === "echo"
            ? !reply.equals(payload)
            : !new RegExp(`^Process-\\d+: ${payload.toString()}\n$`).test(reply.toString())
        ) {
          throw new Error(`reply mismatch: ${reply.length} bytes for ${payload.length}`);
        }
        result.ok++;
        for (const g of goals.filter((g) => result.ok >= g.n)) {
          goals.splice(goals.indexOf(g), 1);
          g.resolve();
        }
      } catch (error) {
        result.failed++;
        if (result.errors.length < 20) result.errors.push((error as Error).message);
      }
    }
  };
  const running = Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)));
  return {
    result,
    reached(n: number): Promise<void> {
      if (result.ok >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        goals.push({ n, resolve });
        void running.then(() => reject(new Error(`load ended before ${n} successes: ${JSON.stringify(result)}`)));
      });
    },
    async stop(): Promise<LoadResult> {
      stopped = true;
      await running;
      return result;
    },
  };
}

/** Whether a process exists (a zombie counts as gone only once reaped: check /proc state). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Pids of the live children of `parent` (from /proc). */
export function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === parent && fields[0] !== "Z") out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Records every worker a server forks, to check later that none is left. */
export function trackWorkers(server: PreforkServer): { pids: Set<number>; names: WorkerInfo[] } {
  const seen = { pids: new Set<number>(), names: [] as WorkerInfo[] };
  server.on("fork", (info: WorkerInfo) => {
    seen.pids.add(info.pid);
    seen.names.push(info);
  });
  return seen;
}

/** Asserts that none of `pids` is still running. */
export function expectNoOrphans(pids: Iterable<number>): void {
  const alive = [...pids].filter(isAlive);
  expect(alive, `worker processes still alive: ${alive.join(", ")}`).toEqual([]);
}

/** Resolves with the first event `name` whose arguments satisfy `test`. */
export function waitFor<T extends unknown[]>(
  emitter: NodeJS.EventEmitter,
  name: string,
  test: (...args: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const listener = (...args: unknown[]): void => {
      if (!test(...(args as T))) return;
      emitter.off(name, listener);
      resolve(args as T);
    };
    emitter.on(name, listener);
  });
}

/** Counts connections per worker name with a `whoami` server until every name in `want` appeared. */
export async function spreadUntilAll(
  port: number,
  want: number,
  opts: { batch?: number; maxBatches?: number } = {},
): Promise<Map<string, number>> {
  const { batch = 24, maxBatches = 40 } = opts;
  const counts = new Map<string, number>();
  for (let b = 0; b < maxBatches && counts.size < want; b++) {
    const names = await Promise.all(Array.from({ length: batch }, () => whoami(port)));
    for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return counts;
}
