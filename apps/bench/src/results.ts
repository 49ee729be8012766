/**
 * The results.json schema (`echo-bench/1`), documented in the README, and its validator.
 * @module
 */
import type { Summary } from "./stats.js";

/** The schema identifier written into every results.json. */
export const SCHEMA = "echo-bench/1";

/** One measured run: one model under one scenario in one round. */
export interface RunRecord {
  scenario: string;
  model: string;
  /** 1-based round. */
  round: number;
  /** Position in the scenario's interleaved schedule (0-based). */
  order: number;
  /** The load tool that produced the figures. */
  tool: string;
  /** Round trips (HTTP: responses) completed, including those in flight at the end. */
  done: number;
  seconds: number;
  /** Round trips per second within the duration. */
  rps: number;
  latencyUs: { p50: number | null; p99: number | null; max: number | null };
  errors: number;
  mismatches: number;
  /** Server CPU time of every process of the server during the load, µs (see `cpuSource`). */
  cpuUs: number;
  /** The two sources of cpuUs: /proc/PID/stat utime+stime, and the live threads' schedstat run time. */
  cpuSource: { statUs: number; schedUs: number };
  /** cpuUs / done; null when nothing was done. */
  cpuUsPerRt: number | null;
  /** Server processes accounted. */
  processes: number;
  /** Server RSS (all processes) at the end of the run, bytes. */
  rssBytes: number;
  /** C10k only: idle connections held, and server RSS per idle connection (bytes). */
  idle?: { connections: number; rssPerConnBytes: number | null };
}

/** The figures of one model in one scenario over all rounds. */
export interface SummaryRecord {
  scenario: string;
  model: string;
  rounds: number;
  rps: Summary;
  cpuUsPerRt: Summary;
  p50Us: Summary;
  p99Us: Summary;
  maxUs: Summary;
  rssBytes: Summary;
  rssPerIdleConnBytes?: Summary;
  /** Sums over the rounds. */
  errors: number;
  mismatches: number;
  /** Ratios of medians against the scenario's baseline model in the same run (null when absent). */
  vsBaseline: { model: string; cpuUsPerRt: number | null; rps: number | null } | null;
}

/** A model the run knew about. */
export interface ModelRecord {
  name: string;
  group: string;
  description: string;
  /** The command line of the first start (null when it did not run). */
  command: string | null;
  available: boolean;
  note?: string;
}

/** A scenario of the run. */
export interface ScenarioRecord {
  name: string;
  description: string;
  tool: string;
  connections: number;
  size: number | null;
  idle: number | null;
  rounds: number;
  durationS: number;
}

/** The whole results.json. */
export interface BenchResults {
  schema: typeof SCHEMA;
  createdAt: string;
  /** What the run was asked to do. */
  settings: { preset: string; rounds: number; durationS: number; warmupS: number; baseline: string; argv: string[] };
  /** The machine: `node` is Node's version (`v20.20.2`), `python` python3's (`3.11.7`, null without python3). */
  machine: {
    node: string;
    platform: string;
    arch: string;
    cpus: number;
    cpuModel: string;
    loadavg: number[];
    python: string | null;
  };
  models: ModelRecord[];
  scenarios: ScenarioRecord[];
  /** Things skipped or gone wrong, one sentence each. */
  notes: string[];
  runs: RunRecord[];
  summary: SummaryRecord[];
}

type Check = (value: unknown, path: string, errors: string[]) => void;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const num: Check = (v, p, e) =>
  void (typeof v === "number" && Number.isFinite(v) ? 0 : e.push(`${p} must be a finite number`));
const numOrNull: Check = (v, p, e) =>
  void (v === null || (typeof v === "number" && Number.isFinite(v))
    ? 0
    : e.push(`${p} must be a finite number or null`));
const str: Check = (v, p, e) => void (typeof v === "string" ? 0 : e.push(`${p} must be a string`));
const strOrNull: Check = (v, p, e) =>
  void (v === null || typeof v === "string" ? 0 : e.push(`${p} must be a string or null`));
const bool: Check = (v, p, e) => void (typeof v === "boolean" ? 0 : e.push(`${p} must be a boolean`));
const optional =
  (check: Check): Check =>
  (v, p, e) =>
    void (v === undefined ? 0 : check(v, p, e));
const arrayOf =
  (check: Check): Check =>
  (v, p, e) => {
    if (!Array.isArray(v)) return void e.push(`${p} must be an array`);
    v.forEach((item, i) => check(item, `${p}[${i}]`, e));
  };
const shape =
  (fields: Record<string, Check>): Check =>
  (v, p, e) => {
    if (!isObject(v)) return void e.push(`${p} must be an object`);
    for (const [key, check] of Object.entries(fields)) check(v[key], `${p}.${key}`, e);
  };
// Summaries of figures a run may lack (latency from a tool that gives none) hold NaN, which
// JSON writes as null.
const summary: Check = shape({
  median: numOrNull,
  min: numOrNull,
  max: numOrNull,
  q1: numOrNull,
  q3: numOrNull,
  n: num,
});

const runCheck = shape({
  scenario: str,
  model: str,
  round: num,
  order: num,
  tool: str,
  done: num,
  seconds: num,
  rps: num,
  latencyUs: shape({ p50: numOrNull, p99: numOrNull, max: numOrNull }),
  errors: num,
  mismatches: num,
  cpuUs: num,
  cpuSource: shape({ statUs: num, schedUs: num }),
  cpuUsPerRt: numOrNull,
  processes: num,
  rssBytes: num,
  idle: optional(shape({ connections: num, rssPerConnBytes: numOrNull })),
});

const resultsCheck = shape({
  schema: (v, p, e) => void (v === SCHEMA ? 0 : e.push(`${p} must be "${SCHEMA}"`)),
  createdAt: str,
  settings: shape({ preset: str, rounds: num, durationS: num, warmupS: num, baseline: str, argv: arrayOf(str) }),
  machine: shape({
    node: str,
    platform: str,
    arch: str,
    cpus: num,
    cpuModel: str,
    loadavg: arrayOf(num),
    python: strOrNull,
  }),
  models: arrayOf(
    shape({ name: str, group: str, description: str, command: strOrNull, available: bool, note: optional(str) }),
  ),
  scenarios: arrayOf(
    shape({
      name: str,
      description: str,
      tool: str,
      connections: num,
      size: numOrNull,
      idle: numOrNull,
      rounds: num,
      durationS: num,
    }),
  ),
  notes: arrayOf(str),
  runs: arrayOf(runCheck),
  summary: arrayOf(
    shape({
      scenario: str,
      model: str,
      rounds: num,
      rps: summary,
      cpuUsPerRt: summary,
      p50Us: summary,
      p99Us: summary,
      maxUs: summary,
      rssBytes: summary,
      rssPerIdleConnBytes: optional(summary),
      errors: num,
      mismatches: num,
      vsBaseline: (v, p, e) =>
        void (v === null ? 0 : shape({ model: str, cpuUsPerRt: numOrNull, rps: numOrNull })(v, p, e)),
    }),
  ),
});

/** Checks a parsed results.json against the schema; returns the problems (empty when valid). */
export function validateResults(value: unknown): string[] {
  const errors: string[] = [];
  resultsCheck(value, "results", errors);
  if (errors.length === 0) {
    const r = value as BenchResults;
    const scenarios = new Set(r.scenarios.map((s) => s.name));
    const models = new Set(r.models.map((m) => m.name));
    r.runs.forEach((run, i) => {
      if (!scenarios.has(run.scenario))
        errors.push(`results.runs[${i}].scenario "${run.scenario}" is not in results.scenarios`);
      if (!models.has(run.model)) errors.push(`results.runs[${i}].model "${run.model}" is not in results.models`);
    });
  }
  return errors;
}

/** JSON with NaN and ±Infinity written as null. */
export function toJson(results: BenchResults): string {
  return `${JSON.stringify(results, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`;
}
