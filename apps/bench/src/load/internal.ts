/**
 * The bench's own minimal echo load loop (`--loader internal`): N persistent connections each
 * sending SIZE bytes and waiting for the whole echo (checked byte for byte), or a new connection
 * per round trip. Bounded in time; stops by itself. Kept on purpose beside `@echo/client`'s
 * `runLoad` (the default): it shares no code with the client, so when figures move after a client
 * change, a run with it tells whether the server or the load generator changed.
 * @module
 */
import net from "node:net";
import type { LoadResult } from "./types.js";

/** Options of {@link internalLoad}. */
export interface InternalLoadOptions {
  host: string;
  port: number;
  connections: number;
  size: number;
  durationMs: number;
  /** A new connection per round trip (what `ab` without `-k` does). */
  newConnection?: boolean;
  /** How long to wait for round trips in flight at the end before giving up on them. */
  drainMs?: number;
}

/** Latencies in µs, appended to a growing typed array. */
class Latencies {
  private data = new Float64Array(1 << 16);
  length = 0;
  push(us: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = us;
  }
  percentiles(): { p50: number; p99: number; max: number } {
    if (this.length === 0) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
    const s = this.data.subarray(0, this.length).sort();
    const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
    return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
  }
}

/** The payload: printable bytes that differ along the message, so a shifted echo is caught. */
export function payload(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + ((i * 7 + 3) % 26);
  return b;
}

/** Runs the loop and resolves with its figures. */
export function internalLoad(options: InternalLoadOptions): Promise<LoadResult> {
  const { host, port, connections, size, durationMs, newConnection = false, drainMs = 500 } = options;
  const message = payload(size);
  const latencies = new Latencies();
  let done = 0;
  let inWindow = 0;
  let errors = 0;
  let mismatches = 0;
  const sockets = new Set<net.Socket>();
  const start = performance.now();
  const deadline = start + durationMs;
  let stopping = false;
  let finished = false;
  let running = connections;

  return new Promise<LoadResult>((resolve) => {
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(endTimer);
      if (drainTimer) clearTimeout(drainTimer);
      for (const s of sockets) s.destroy();
      sockets.clear();
      const p = latencies.percentiles();
      const seconds = durationMs / 1000;
      resolve({
        tool: "internal",
        done,
        seconds,
        rps: inWindow / seconds,
        p50Us: p.p50,
        p99Us: p.p99,
        maxUs: p.max,
        errors,
        mismatches,
      });
    };
    // One of the N loops has ended (only after the deadline).
    const retire = (): void => {
      if (--running === 0) finish();
    };
    const endTimer = setTimeout(() => {
      stopping = true;
      // Round trips still in flight get `drainMs` to complete, then everything is closed.
      drainTimer = setTimeout(finish, drainMs);
    }, durationMs);

    const loop = (): void => {
      if (stopping || finished) return retire();
      const socket = net.connect({ host, port, noDelay: true });
      sockets.add(socket);
      const reply = Buffer.alloc(size);
      let got = 0;
      let t0 = performance.now();
      let failed = false;
      const send = (): void => {
        got = 0;
        t0 = performance.now();
        socket.write(message);
      };
      socket.once("connect", send);
      socket.on("data", (chunk: Buffer) => {
        if (got + chunk.length > size) {
          mismatches++;
          failed = true;
          socket.destroy();
          return;
        }
        chunk.copy(reply, got);
        got += chunk.length;
        if (got < size) return;
        const now = performance.now();
        if (!reply.equals(message)) mismatches++;
        latencies.push((now - t0) * 1000);
        done++;
        if (now <= deadline) inWindow++;
        if (newConnection) socket.end();
        else if (stopping) socket.destroy();
        else send();
      });
      socket.on("error", () => {
        if (!stopping) errors++;
        failed = true;
      });
      socket.on("close", () => {
        sockets.delete(socket);
        if (finished) return;
        if (stopping) return retire();
        // A persistent connection the server closed counts as an error; either way go on.
        if (!newConnection && !failed) errors++;
        setImmediate(loop);
      });
    };
    for (let i = 0; i < connections; i++) loop();
  });
}
