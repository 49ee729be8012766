/**
 * Latency percentiles out of an HDR histogram, the same way for every load result.
 * @internal
 */
import type { Histogram } from "hdr-histogram-js";
import type { LatencySummary } from "../load.js";

/**
 * Summarizes `histogram` (µs). A percentile is reported as the top of its bucket, which may lie
 * above the largest value recorded: clamped, so p50 <= p90 <= p99 <= p99.9 <= max always holds.
 */
export function summarizeLatency(histogram: Histogram): LatencySummary {
  const empty = histogram.totalCount === 0;
  const max = empty ? 0 : histogram.maxValue;
  const at = (p: number): number => (empty ? 0 : Math.min(histogram.getValueAtPercentile(p), max));
  return {
    min: empty ? 0 : histogram.minNonZeroValue,
    mean: empty ? 0 : Math.round(histogram.mean * 10) / 10,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max,
  };
}
