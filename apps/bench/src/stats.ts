/**
 * Statistics for repeated rounds: medians, spread, and a noise test for comparing two runs.
 * @module
 */

/** Summary of the repeated rounds of one figure. */
export interface Summary {
  /** The median of the rounds. */
  median: number;
  min: number;
  max: number;
  /** First and third quartile (linear interpolation). */
  q1: number;
  q3: number;
  /** How many rounds (finite values) there were. */
  n: number;
}

function sorted(values: readonly number[]): number[] {
  return values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
}

/** The q-quantile (0…1) of already sorted values, linearly interpolated. NaN when empty. */
export function quantileSorted(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const pos = (values.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return values[lo]! + (values[hi]! - values[lo]!) * (pos - lo);
}

/** The median of the finite values; NaN when there are none. */
export function median(values: readonly number[]): number {
  return quantileSorted(sorted(values), 0.5);
}

/** Median, min–max and IQR of the finite values. */
export function summarize(values: readonly number[]): Summary {
  const s = sorted(values);
  return {
    median: quantileSorted(s, 0.5),
    min: s.length ? s[0]! : Number.NaN,
    max: s.length ? s[s.length - 1]! : Number.NaN,
    q1: quantileSorted(s, 0.25),
    q3: quantileSorted(s, 0.75),
    n: s.length,
  };
}

/** (max − min) / median: the spread of the rounds relative to their median. */
export function relativeSpread(summary: Summary): number {
  return summary.median === 0 ? Number.NaN : (summary.max - summary.min) / Math.abs(summary.median);
}

/** What the noise test says about a change. */
export type Verdict = "higher" | "lower" | "within noise" | "too few rounds";

/**
 * Whether a figure changed beyond the noise of repeated rounds. Each side needs at least two
 * rounds; the change is real only when the two min–max ranges do not overlap (every round of
 * one run is above every round of the other), which with 3 rounds a side happens by chance for
 * an unchanged figure with probability 2/20 = 10%, with 5 a side 2/252 < 1%.
 */
export function noiseVerdict(before: readonly number[], after: readonly number[]): Verdict {
  const a = summarize(before);
  const b = summarize(after);
  if (a.n < 2 || b.n < 2) return "too few rounds";
  if (b.min > a.max) return "higher";
  if (b.max < a.min) return "lower";
  return "within noise";
}

/** The ratio of two medians, NaN when the denominator is zero or missing. */
export function ratio(value: number, baseline: number): number {
  return baseline > 0 && Number.isFinite(value) ? value / baseline : Number.NaN;
}
