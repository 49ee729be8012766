/**
 * HTTP keep-alive load with autocannon, in this process.
 * @module
 */
import autocannon from "autocannon";
import type { LoadResult } from "./types.js";

/** Runs autocannon against `http://127.0.0.1:PORT/` for `seconds` with keep-alive connections. */
export async function autocannonLoad(port: number, connections: number, seconds: number): Promise<LoadResult> {
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
  });
  const done = r.totalCompletedRequests ?? r.requests.total;
  const taken = r.duration || seconds;
  return {
    tool: "autocannon",
    done,
    seconds: taken,
    rps: done / taken,
    // autocannon reports milliseconds.
    p50Us: r.latency.p50 * 1000,
    p99Us: r.latency.p99 * 1000,
    maxUs: r.latency.max * 1000,
    errors: r.errors + r.timeouts + r.non2xx,
    mismatches: 0,
  };
}
