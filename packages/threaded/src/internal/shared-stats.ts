/**
 * Counters in shared memory. A thread's `serveSocket` writes them (one writer per slot); the main
 * thread reads them at any time, synchronously, and they survive the thread when it crashes.
 * @internal
 */
import type { StatsSnapshot } from "@echo/core";
import { statsKeys } from "@echo/core/model-kit";

type Key = (typeof statsKeys)[number];

/** One thread's counters over a `SharedArrayBuffer`; has the shape of core's `ServerStats`. */
export class SharedStats implements StatsSnapshot {
  readonly buffer: SharedArrayBuffer;
  private readonly cells: Float64Array;
  declare accepted: number;
  declare active: number;
  declare queued: number;
  declare closed: number;
  declare rejected: number;
  declare bytesIn: number;
  declare bytesOut: number;
  declare errors: number;
  declare timeouts: number;
  declare buffered: number;
  declare acceptErrors: number;
  declare proxyRejected: number;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(statsKeys.length * Float64Array.BYTES_PER_ELEMENT)) {
    this.buffer = buffer;
    this.cells = new Float64Array(buffer);
  }

  /** A plain copy of the counters now. */
  snapshot(): StatsSnapshot {
    const out = {} as StatsSnapshot;
    statsKeys.forEach((key, i) => (out[key] = this.cells[i]!));
    return out;
  }
}

statsKeys.forEach((key: Key, i) => {
  Object.defineProperty(SharedStats.prototype, key, {
    get(this: { cells: Float64Array }) {
      return this.cells[i]!;
    },
    set(this: { cells: Float64Array }, value: number) {
      this.cells[i] = value;
    },
    enumerable: true,
  });
});

/** Cells of the server-wide `Int32Array` every thread shares. */
export const SharedCell = {
  /** Connections open across all threads, for the server-wide `maxConnections`. */
  ACTIVE: 0,
  /** Threads serving now, for the fair-share check. */
  LIVE: 1,
  /** Connections accepted by any thread (wraps), so a backing-off thread knows when to stop. */
  ACCEPTS: 2,
} as const;

/** Length of the server-wide `Int32Array`. */
export const SHARED_CELLS = 3;
