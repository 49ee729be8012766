/**
 * Datagram counters: what came in, what went out, and every drop by its reason.
 * @module
 */

/** Why a datagram got no reply. */
export const datagramDropReasons = [
  "reflection",
  "truncated",
  "rateLimited",
  "overflow",
  "replyTooLarge",
  "closing",
] as const;

/** One of {@link datagramDropReasons}. */
export type DatagramDropReason = (typeof datagramDropReasons)[number];

/** A snapshot of a server's datagram counters (the `datagram` section of its stats). */
export interface DatagramStatsSnapshot {
  /** Datagrams received (dropped ones included). */
  received: number;
  /** Datagrams sent back. */
  replied: number;
  /** Bytes received. */
  bytesIn: number;
  /** Bytes sent back. */
  bytesOut: number;
  /** Handler failures and send errors. */
  errors: number;
  /** Datagrams waiting for the handler (the `iterative` model). */
  queued: number;
  /**
   * Drops by reason: `reflection` (source port 0 or a small-service port), `truncated` (over
   * `maxDatagram`), `rateLimited` (over `maxDatagramsPerAddress`), `overflow` (too many waiting
   * for the handler), `replyTooLarge` (a reply over `maxDatagram`), `closing` (arrived during close).
   */
  dropped: Record<DatagramDropReason, number>;
}

const scalarKeys = ["received", "replied", "bytesIn", "bytesOut", "errors", "queued"] as const;
type ScalarKey = (typeof scalarKeys)[number];

/** Bytes of the memory behind one {@link DatagramStats}. */
export const DATAGRAM_STATS_BYTES = (scalarKeys.length + datagramDropReasons.length) * Float64Array.BYTES_PER_ELEMENT;

/**
 * Mutable datagram counters; `snapshot()` returns a copy. They live in one `Float64Array`,
 * which may be a `SharedArrayBuffer` so that a thread writes them (one writer) and another reads.
 */
export class DatagramStats {
  private readonly cells: Float64Array;

  /** @param buffer - memory of {@link DATAGRAM_STATS_BYTES} bytes to count in (shared between threads). */
  constructor(buffer: ArrayBufferLike = new ArrayBuffer(DATAGRAM_STATS_BYTES)) {
    this.cells = new Float64Array(buffer, 0, scalarKeys.length + datagramDropReasons.length);
  }

  /** The memory the counters live in. */
  get buffer(): ArrayBufferLike {
    return this.cells.buffer;
  }

  declare received: number;
  declare replied: number;
  declare bytesIn: number;
  declare bytesOut: number;
  declare errors: number;
  declare queued: number;

  /** Counts one drop. */
  drop(reason: DatagramDropReason): void {
    this.cells[scalarKeys.length + datagramDropReasons.indexOf(reason)]!++;
  }

  /** A plain copy of the counters now. */
  snapshot(): DatagramStatsSnapshot {
    const c = this.cells;
    const dropped = {} as Record<DatagramDropReason, number>;
    datagramDropReasons.forEach((reason, i) => (dropped[reason] = c[scalarKeys.length + i]!));
    return { received: c[0]!, replied: c[1]!, bytesIn: c[2]!, bytesOut: c[3]!, errors: c[4]!, queued: c[5]!, dropped };
  }
}

scalarKeys.forEach((key: ScalarKey, i) => {
  Object.defineProperty(DatagramStats.prototype, key, {
    get(this: { cells: Float64Array }) {
      return this.cells[i]!;
    },
    set(this: { cells: Float64Array }, value: number) {
      this.cells[i] = value;
    },
  });
});

/** Sums datagram snapshots (threads, processes); undefined when none has a datagram section. */
export function sumDatagramStats(
  parts: readonly (DatagramStatsSnapshot | undefined)[],
): DatagramStatsSnapshot | undefined {
  const present = parts.filter((p): p is DatagramStatsSnapshot => p !== undefined);
  if (present.length === 0) return undefined;
  const total: DatagramStatsSnapshot = {
    received: 0,
    replied: 0,
    bytesIn: 0,
    bytesOut: 0,
    errors: 0,
    queued: 0,
    dropped: {} as Record<DatagramDropReason, number>,
  };
  for (const reason of datagramDropReasons) total.dropped[reason] = 0;
  for (const p of present) {
    for (const key of scalarKeys) total[key] += p[key];
    for (const reason of datagramDropReasons) total.dropped[reason] += p.dropped[reason] ?? 0;
  }
  return total;
}
