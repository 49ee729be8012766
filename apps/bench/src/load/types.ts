/** What every load generator reports for one run. */
export interface LoadResult {
  /** Which tool produced it: `runLoad`, `internal`, `ref-echo-load`, `autocannon`, `ab`, `wrk`. */
  tool: string;
  /** Round trips (or HTTP responses) completed, including those in flight at the end. */
  done: number;
  /** Seconds the load ran. */
  seconds: number;
  /** Round trips completed within the duration, per second. */
  rps: number;
  /** Latency percentiles in microseconds (NaN when the tool gave none). */
  p50Us: number;
  p99Us: number;
  maxUs: number;
  /** Connection errors, timeouts and non-2xx responses. */
  errors: number;
  /** Echoes that differed from what was sent. */
  mismatches: number;
}
