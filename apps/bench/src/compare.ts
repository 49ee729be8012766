/**
 * `--compare a.json b.json`: what changed between two runs, and whether beyond the noise of
 * their repeated rounds.
 * @module
 */
import { readFileSync } from "node:fs";
import { textTable } from "./report.js";
import { validateResults, type BenchResults, type RunRecord } from "./results.js";
import { median, noiseVerdict, type Verdict } from "./stats.js";
import { formatNumber } from "./svg.js";

/** One figure of one (scenario, model) in both runs. */
export interface Change {
  scenario: string;
  model: string;
  figure: "cpuUsPerRt" | "rps";
  before: number;
  after: number;
  /** after / before − 1. */
  change: number;
  verdict: Verdict;
}

/** Reads and validates a results.json. */
export function readResults(path: string): BenchResults {
  const value: unknown = JSON.parse(readFileSync(path, "utf8"));
  const problems = validateResults(value);
  if (problems.length)
    throw new Error(`${path} is not a valid echo-bench results file: ${problems.slice(0, 3).join("; ")}`);
  return value as BenchResults;
}

/** The changes of every (scenario, model) present in both runs. */
export function compareResults(a: BenchResults, b: BenchResults): Change[] {
  const group = (runs: readonly RunRecord[]): Map<string, RunRecord[]> => {
    const map = new Map<string, RunRecord[]>();
    for (const r of runs) {
      const key = `${r.scenario}\u0000${r.model}`;
      map.set(key, [...(map.get(key) ?? []), r]);
    }
    return map;
  };
  const before = group(a.runs);
  const after = group(b.runs);
  const out: Change[] = [];
  for (const [key, runsB] of after) {
    const runsA = before.get(key);
    if (!runsA) continue;
    const [scenario, model] = key.split("\u0000") as [string, string];
    for (const figure of ["cpuUsPerRt", "rps"] as const) {
      const va = runsA.map((r) => r[figure] ?? Number.NaN);
      const vb = runsB.map((r) => r[figure] ?? Number.NaN);
      const ma = median(va);
      const mb = median(vb);
      out.push({ scenario, model, figure, before: ma, after: mb, change: mb / ma - 1, verdict: noiseVerdict(va, vb) });
    }
  }
  return out;
}

/** The comparison as a terminal table. */
export function formatComparison(changes: readonly Change[], a: string, b: string): string {
  const rows = changes.map((c) => {
    const better = c.figure === "rps" ? c.verdict === "higher" : c.verdict === "lower";
    const meaning = c.verdict === "higher" || c.verdict === "lower" ? (better ? "better" : "worse") : c.verdict;
    return [
      c.scenario,
      c.model,
      c.figure === "rps" ? "rt/s" : "µs/rt",
      formatNumber(c.before),
      formatNumber(c.after),
      Number.isFinite(c.change) ? `${c.change >= 0 ? "+" : ""}${(c.change * 100).toFixed(1)}%` : "–",
      meaning,
    ];
  });
  const head = `before: ${a}\nafter:  ${b}\nbeyond the noise = every round of one run is on the same side of every round of the other.\n\n`;
  return head + textTable(["scenario", "model", "figure", "before", "after", "change", "verdict"], rows) + "\n";
}
