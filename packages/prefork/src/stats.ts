/**
 * What the master reports about its workers.
 * @module
 */
import type { StatsSnapshot } from "@echo/core";

/** Where a worker is in its life. */
export type WorkerState = "starting" | "listening" | "stopping" | "exited";

/** One worker as the master sees it. */
export interface WorkerInfo {
  /** `Process-N`, what handlers see as `conn.worker`; N counts every fork, replacements included. */
  readonly name: string;
  readonly pid: number;
  readonly state: WorkerState;
  /** `Date.now()` at fork. */
  readonly startedAt: number;
  /** The worker's counters (`accepted` is its share of connections). */
  readonly stats: StatsSnapshot;
}

/**
 * Counters summed over all workers, those that have exited included, plus each live worker's
 * own: `workers[i].stats.accepted` shows how evenly connections are spread.
 */
export interface PreforkStats extends StatsSnapshot {
  readonly workers: WorkerInfo[];
}
