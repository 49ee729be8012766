/**
 * `ConnectionLifetimes`: a fixed-bucket histogram of how long connections lived, cheap enough
 * to update on every close and plain enough to cross a thread or process boundary.
 * @module
 */
import { InvalidArgumentError } from "../errors.js";

/**
 * The default upper bounds, in seconds, of the connection lifetime buckets: from a 1 ms round
 * trip on a new connection to an hour-long session. `+Inf` is implicit.
 */
export const defaultLifetimeBuckets: readonly number[] = Object.freeze([
  0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600,
]);

/**
 * A histogram's counts as plain data (`structuredClone`-able, JSON-able): what a worker sends
 * its master, or a thread its main thread.
 */
export interface LifetimeSnapshot {
  /** Upper bounds in seconds, ascending; `+Inf` is implicit. */
  readonly buckets: readonly number[];
  /** Observations per bucket (not cumulative): `buckets.length + 1` entries, the last for `+Inf`. */
  readonly counts: readonly number[];
  /** Sum of every observed lifetime, in seconds. */
  readonly sum: number;
  /** Number of observations. */
  readonly count: number;
}

/** Throws unless `buckets` are finite, ascending, distinct, positive numbers. */
export function checkLifetimeBuckets(name: string, buckets: unknown): readonly number[] {
  if (!Array.isArray(buckets) || buckets.length === 0)
    throw new InvalidArgumentError(`${name} must be a non-empty array of seconds`);
  for (let i = 0; i < buckets.length; i++) {
    const b: unknown = buckets[i];
    if (typeof b !== "number" || !Number.isFinite(b) || b <= 0 || (i > 0 && b <= (buckets[i - 1] as number))) {
      throw new InvalidArgumentError(
        `${name} must be finite positive numbers in ascending order, got ${JSON.stringify(buckets)}`,
      );
    }
  }
  return Object.freeze([...(buckets as number[])]);
}

/**
 * Counts connection lifetimes in fixed buckets. `observe` is a short loop and two additions: a
 * model calls it once per closed connection.
 *
 * The counts live in a `Float64Array` of {@link ConnectionLifetimes.memoryLength} entries. Pass
 * a view of a `SharedArrayBuffer` to let a serving thread observe while the main thread reads
 * `snapshot()` (the same way `@echo/selector` shares its counters); without one it owns its memory.
 */
export class ConnectionLifetimes {
  /** Upper bounds in seconds. */
  readonly buckets: readonly number[];
  private readonly cells: Float64Array;

  /** Entries the backing array needs for `buckets`: one per bucket, `+Inf`, sum and count. */
  static memoryLength(buckets: readonly number[] = defaultLifetimeBuckets): number {
    return buckets.length + 3;
  }

  /**
   * @param buckets - upper bounds in seconds, ascending. @default defaultLifetimeBuckets
   * @param memory - where the counts live, at least `memoryLength(buckets)` entries. @default a new array
   * @throws {InvalidArgumentError} bad buckets, or `memory` too short.
   */
  constructor(buckets: readonly number[] = defaultLifetimeBuckets, memory?: Float64Array) {
    this.buckets = buckets === defaultLifetimeBuckets ? buckets : checkLifetimeBuckets("buckets", buckets);
    const length = ConnectionLifetimes.memoryLength(this.buckets);
    if (memory !== undefined && (!(memory instanceof Float64Array) || memory.length < length)) {
      throw new InvalidArgumentError(`memory must be a Float64Array of at least ${length} entries`);
    }
    this.cells = memory ?? new Float64Array(length);
  }

  /** Counts one connection that lived `seconds` (negative or NaN values count as 0). */
  observe(seconds: number): void {
    const value = seconds > 0 ? seconds : 0;
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && value > buckets[i]!) i++;
    const cells = this.cells;
    cells[i]!++;
    cells[buckets.length + 1]! += value;
    cells[buckets.length + 2]!++;
  }

  /** A plain copy of the counts now. */
  snapshot(): LifetimeSnapshot {
    const n = this.buckets.length;
    return {
      buckets: this.buckets,
      counts: Array.from(this.cells.subarray(0, n + 1)),
      sum: this.cells[n + 1]!,
      count: this.cells[n + 2]!,
    };
  }

  /** Adds a snapshot's counts to these (a dead worker's last counts into a retired histogram). */
  add(snapshot: LifetimeSnapshot): void {
    checkSameBuckets(this.buckets, snapshot);
    const n = this.buckets.length;
    for (let i = 0; i <= n; i++) this.cells[i]! += snapshot.counts[i]!;
    this.cells[n + 1]! += snapshot.sum;
    this.cells[n + 2]! += snapshot.count;
  }
}

function checkSameBuckets(buckets: readonly number[], snapshot: LifetimeSnapshot): void {
  const other = snapshot.buckets;
  if (
    other.length !== buckets.length ||
    other.some((b, i) => b !== buckets[i]) ||
    snapshot.counts.length !== buckets.length + 1
  ) {
    throw new InvalidArgumentError(
      `lifetime buckets differ: expected ${JSON.stringify(buckets)}, got ${JSON.stringify(other)}`,
    );
  }
}
