/**
 * Server counters, readable in process at any time.
 * @module
 */

/** A snapshot of a server's counters. */
export interface StatsSnapshot {
  /** Connections accepted and served (not counting rejected ones). */
  accepted: number;
  /** Connections being served now. */
  active: number;
  /** Connections accepted and waiting their turn (the `iterative` model). */
  queued: number;
  /** Connections closed so far. */
  closed: number;
  /** Connections refused because `maxConnections` were open. */
  rejected: number;
  /** Bytes received from clients. */
  bytesIn: number;
  /** Bytes handlers wrote to clients. */
  bytesOut: number;
  /** Handler failures and connection errors. */
  errors: number;
  /** Connections closed for staying silent past `idleTimeout`. */
  timeouts: number;
  /** Bytes held now for clients that the kernel has not taken yet (sum over connections). */
  buffered: number;
}

/** The counter names of {@link StatsSnapshot}, in a fixed order. */
export const statsKeys = [
  "accepted",
  "active",
  "queued",
  "closed",
  "rejected",
  "bytesIn",
  "bytesOut",
  "errors",
  "timeouts",
  "buffered",
] as const;

/** Mutable counters owned by a server; `snapshot()` returns a copy. */
export class ServerStats implements StatsSnapshot {
  accepted = 0;
  active = 0;
  queued = 0;
  closed = 0;
  rejected = 0;
  bytesIn = 0;
  bytesOut = 0;
  errors = 0;
  timeouts = 0;
  buffered = 0;

  /** A plain copy of the counters now. */
  snapshot(): StatsSnapshot {
    const out = {} as StatsSnapshot;
    for (const key of statsKeys) out[key] = this[key];
    return out;
  }
}

/** Sums snapshots, for servers made of several threads or processes. */
export function sumStats(parts: readonly StatsSnapshot[]): StatsSnapshot {
  const total = new ServerStats();
  for (const part of parts) for (const key of statsKeys) total[key] += part[key];
  return total.snapshot();
}
