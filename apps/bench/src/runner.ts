/**
 * Runs the bench: for each scenario, every model's server, interleaved rounds, measurements.
 * @module
 */
import { cpus, loadavg } from "node:os";
import { echoLoad } from "./load/echo.js";
import { autocannonLoad } from "./load/http.js";
import { freePort, startServer, type RunningServer } from "./server-process.js";
import type { ModelDefinition, Workload } from "./models.js";
import { portableResults, python3Version } from "./portable.js";
import { planFor, type Plan, type Preset } from "./presets.js";
import {
  SCHEMA,
  type BenchResults,
  type ModelRecord,
  type RunRecord,
  type ScenarioRecord,
  type SummaryRecord,
} from "./results.js";
import type { Measurement, ScenarioDefinition } from "./scenarios.js";
import { interleave } from "./schedule.js";
import { median, ratio, summarize } from "./stats.js";

/** What the runner reports while it works. */
export interface Progress {
  /** 1-based index of the run about to start (or just done). */
  index: number;
  total: number;
  scenario: string;
  model: string;
  round: number;
  rounds: number;
  /** The run just measured (absent when announcing a start). */
  measured?: RunRecord;
}

/** Options of {@link runBench}. */
export interface BenchOptions {
  preset: Preset;
  scenarios: readonly ScenarioDefinition[];
  models: readonly ModelDefinition[];
  /** Command-line overrides of every scenario's plan. */
  overrides?: Partial<Plan>;
  /** Overrides the preset's warm-up seconds. */
  warmupS?: number;
  /** Overrides the preset's C10k idle count. */
  idle?: number;
  /** The model every ratio is taken against. */
  baseline?: string;
  argv?: string[];
  onProgress?: (progress: Progress) => void;
  /** A note as soon as it is known (skips, failures). */
  onNote?: (note: string) => void;
}

/** Starts a model's server for a workload. */
async function start(model: ModelDefinition, workload: Workload): Promise<RunningServer> {
  const port = model.needsPort ? await freePort() : 0;
  return startServer(model.command(workload, port));
}

async function warmUp(server: RunningServer, workload: Workload, seconds: number): Promise<void> {
  if (seconds <= 0) return;
  if (workload === "http") await autocannonLoad(server.port, 50, seconds);
  else
    await echoLoad({
      host: server.host,
      port: server.port,
      connections: workload === "cpu" ? 20 : 50,
      size: 64,
      durationMs: seconds * 1000,
    });
}

function toRecord(scenario: string, model: string, round: number, order: number, m: Measurement): RunRecord {
  const nanToNull = (v: number): number | null => (Number.isFinite(v) ? v : null);
  return {
    scenario,
    model,
    round,
    order,
    tool: m.load.tool,
    done: m.load.done,
    seconds: m.load.seconds,
    rps: m.load.rps,
    latencyUs: { p50: nanToNull(m.load.p50Us), p99: nanToNull(m.load.p99Us), max: nanToNull(m.load.maxUs) },
    errors: m.load.errors,
    mismatches: m.load.mismatches,
    cpuUs: m.cpu.cpuUs,
    cpuSource: { statUs: m.cpu.statUs, schedUs: m.cpu.schedUs },
    cpuUsPerRt: m.load.done > 0 ? m.cpu.cpuUs / m.load.done : null,
    processes: m.processes,
    rssBytes: m.rssBytes,
    ...(m.idle ? { idle: m.idle } : {}),
  };
}

/** Medians, spread and baseline ratios of every (scenario, model). */
export function summarizeRuns(runs: readonly RunRecord[], baseline: string): SummaryRecord[] {
  const groups = new Map<string, RunRecord[]>();
  for (const run of runs) {
    const key = `${run.scenario}\u0000${run.model}`;
    const list = groups.get(key) ?? [];
    list.push(run);
    groups.set(key, list);
  }
  const out: SummaryRecord[] = [];
  for (const list of groups.values()) {
    const { scenario, model } = list[0]!;
    const n = (v: number | null | undefined): number => v ?? Number.NaN;
    const record: SummaryRecord = {
      scenario,
      model,
      rounds: list.length,
      rps: summarize(list.map((r) => r.rps)),
      cpuUsPerRt: summarize(list.map((r) => n(r.cpuUsPerRt))),
      p50Us: summarize(list.map((r) => n(r.latencyUs.p50))),
      p99Us: summarize(list.map((r) => n(r.latencyUs.p99))),
      maxUs: summarize(list.map((r) => n(r.latencyUs.max))),
      rssBytes: summarize(list.map((r) => r.rssBytes)),
      errors: list.reduce((a, r) => a + r.errors, 0),
      mismatches: list.reduce((a, r) => a + r.mismatches, 0),
      vsBaseline: null,
    };
    if (list.some((r) => r.idle)) record.rssPerIdleConnBytes = summarize(list.map((r) => n(r.idle?.rssPerConnBytes)));
    out.push(record);
  }
  for (const record of out) {
    const base = runs.filter((r) => r.scenario === record.scenario && r.model === baseline);
    if (base.length === 0) continue;
    const baseCpu = median(base.map((r) => r.cpuUsPerRt ?? Number.NaN));
    const baseRps = median(base.map((r) => r.rps));
    const nullIfNaN = (v: number): number | null => (Number.isFinite(v) ? v : null);
    record.vsBaseline = {
      model: baseline,
      cpuUsPerRt: nullIfNaN(ratio(record.cpuUsPerRt.median, baseCpu)),
      rps: nullIfNaN(ratio(record.rps.median, baseRps)),
    };
  }
  return out;
}

/** Runs every scenario over every model that can take it, and returns the results. */
export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const { preset, scenarios, models } = options;
  const baseline = options.baseline ?? "node-net";
  const warmupS = options.warmupS ?? preset.warmupS;
  const idle = options.idle ?? preset.idle;
  const notes: string[] = [];
  const note = (text: string): void => {
    if (notes.includes(text)) return;
    notes.push(text);
    options.onNote?.(text);
  };
  const modelRecords = new Map<string, ModelRecord>();
  for (const model of models) {
    const availability = model.available();
    modelRecords.set(model.name, {
      name: model.name,
      group: model.group,
      description: model.description,
      command: null,
      available: availability.ok,
      ...(availability.ok ? {} : { note: availability.note }),
    });
    if (!availability.ok) note(`skipped ${model.name}: ${availability.note}`);
  }
  const usable = models.filter((m) => modelRecords.get(m.name)!.available);

  // Decide the plan of each scenario and its models first, for the progress total.
  const plans: { scenario: ScenarioDefinition; plan: Plan; models: ModelDefinition[] }[] = [];
  for (const scenario of scenarios) {
    const availability = scenario.available();
    if (!availability.ok) {
      note(`skipped scenario ${scenario.name}: ${availability.note}`);
      continue;
    }
    const only = preset.only?.[scenario.name];
    if (only) note(`${scenario.name}: the ${preset.name} preset runs it against ${only.join(", ")} only`);
    const takers = usable.filter((m) => {
      if (only && !only.includes(m.name) && m.group !== "external") return false;
      const a = scenario.applies(m);
      if (!a.ok && m.workloads.includes(scenario.workload)) note(`${scenario.name}: skipped ${a.note}`);
      return a.ok;
    });
    plans.push({ scenario, plan: planFor(preset, scenario.name, options.overrides ?? {}), models: takers });
  }
  const total = plans.reduce((a, p) => a + p.plan.rounds * p.models.length, 0);

  const runs: RunRecord[] = [];
  const scenarioRecords: ScenarioRecord[] = [];
  // Servers are shared by the scenarios of one workload (echo and connect; the HTTP tools) and
  // stopped once no later scenario needs them.
  const pool = new Map<string, RunningServer>();
  const failed = new Set<string>();
  const stopPool = async (keep: (workload: Workload) => boolean): Promise<void> => {
    for (const [key, server] of pool) {
      if (keep(key.split("\u0000")[1] as Workload)) continue;
      pool.delete(key);
      await server.stop();
    }
  };
  const serverFor = async (
    model: ModelDefinition,
    workload: Workload,
    fresh: boolean,
  ): Promise<RunningServer | undefined> => {
    const key = `${model.name}\u0000${workload}`;
    if (failed.has(key)) return undefined;
    if (!fresh && pool.has(key)) return pool.get(key);
    try {
      const server = await start(model, workload);
      const record = modelRecords.get(model.name)!;
      record.command ??= server.commandLine;
      if (!fresh) {
        pool.set(key, server);
        await warmUp(server, workload, warmupS);
      }
      return server;
    } catch (error) {
      failed.add(key);
      note(`${model.name} (${workload}) failed to start: ${(error as Error).message}`);
      return undefined;
    }
  };

  let index = 0;
  try {
    for (let p = 0; p < plans.length; p++) {
      const { scenario, plan, models: takers } = plans[p]!;
      scenarioRecords.push({
        name: scenario.name,
        // C10k's description names the default 10,000; say what this run held.
        description: scenario.fresh
          ? scenario.description.replace("10,000", idle.toLocaleString("en-US"))
          : scenario.description,
        tool: await scenario.tool(),
        connections: scenario.connections,
        size: scenario.size,
        idle: scenario.fresh ? idle : null,
        rounds: plan.rounds,
        durationS: plan.durationS,
      });
      const byName = new Map(takers.map((m) => [m.name, m]));
      for (const item of interleave(
        takers.map((m) => m.name),
        plan.rounds,
      )) {
        index++;
        const model = byName.get(item.model)!;
        options.onProgress?.({
          index,
          total,
          scenario: scenario.name,
          model: model.name,
          round: item.round,
          rounds: plan.rounds,
        });
        const server = await serverFor(model, scenario.workload, scenario.fresh);
        if (!server) continue;
        try {
          if (server.exited())
            throw new Error(
              `the server exited${server.stderr() ? `: ${server.stderr().trim().split("\n").slice(-2).join(" | ")}` : ""}`,
            );
          const m = await scenario.measure(server, plan.durationS, idle);
          const record = toRecord(scenario.name, model.name, item.round, item.order, m);
          runs.push(record);
          if (m.note) note(`${scenario.name}, ${model.name}, round ${item.round}: ${m.note}`);
          options.onProgress?.({
            index,
            total,
            scenario: scenario.name,
            model: model.name,
            round: item.round,
            rounds: plan.rounds,
            measured: record,
          });
        } catch (error) {
          note(`${scenario.name}, ${model.name}, round ${item.round}: ${(error as Error).message}`);
        } finally {
          if (scenario.fresh) await server.stop();
        }
      }
      const later = new Set(
        plans
          .slice(p + 1)
          .filter((x) => !x.scenario.fresh)
          .map((x) => x.scenario.workload),
      );
      await stopPool((w) => later.has(w));
    }
  } finally {
    await stopPool(() => false);
  }

  return portableResults({
    schema: SCHEMA,
    createdAt: new Date().toISOString(),
    settings: {
      preset: preset.name,
      rounds: options.overrides?.rounds ?? preset.plan.rounds,
      durationS: options.overrides?.durationS ?? preset.plan.durationS,
      warmupS,
      baseline,
      argv: options.argv ?? [],
    },
    machine: {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      loadavg: loadavg(),
      python: python3Version(),
    },
    models: [...modelRecords.values()],
    scenarios: scenarioRecords,
    notes,
    runs,
    summary: summarizeRuns(runs, baseline),
  });
}
