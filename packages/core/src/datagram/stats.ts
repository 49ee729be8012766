/**
 * Datagram counters: what came in, what went out, and every drop by its reason.
 * @module
 */

/** Why a datagram got no reply. */
export const datagramDropReasons = ["reflection", "truncated", "rateLimited", "overflow", "replyTooLarge", "closing"] as const;

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

function zeroDrops(): Record<DatagramDropReason, number> {
  const out = {} as Record<DatagramDropReason, number>;
  for (const reason of datagramDropReasons) out[reason] = 0;
  return out;
}

/** Mutable datagram counters; `snapshot()` returns a copy. */
export class DatagramStats implements DatagramStatsSnapshot {
  received = 0;
  replied = 0;
  bytesIn = 0;
  bytesOut = 0;
  errors = 0;
  queued = 0;
  dropped = zeroDrops();

  /** Counts one drop. */
  drop(reason: DatagramDropReason): void {
    this.dropped[reason]++;
  }

  /** A plain copy of the counters now. */
  snapshot(): DatagramStatsSnapshot {
    return { received: this.received, replied: this.replied, bytesIn: this.bytesIn, bytesOut: this.bytesOut, errors: this.errors, queued: this.queued, dropped: { ...this.dropped } };
  }
}

/** Sums datagram snapshots (threads, processes); undefined when none has a datagram section. */
export function sumDatagramStats(parts: readonly (DatagramStatsSnapshot | undefined)[]): DatagramStatsSnapshot | undefined {
  const present = parts.filter((p): p is DatagramStatsSnapshot => p !== undefined);
  if (present.length === 0) return undefined;
  const total = new DatagramStats();
  for (const p of present) {
    total.received += p.received;
    total.replied += p.replied;
    total.bytesIn += p.bytesIn;
    total.bytesOut += p.bytesOut;
    total.errors += p.errors;
    total.queued += p.queued;
    for (const reason of datagramDropReasons) total.dropped[reason] += p.dropped[reason] ?? 0;
  }
  return total.snapshot();
}
