#!/usr/bin/env node
/**
 * `echo-bench`: every model under the same load. See the README for the flags.
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { setEchoLoader, type EchoLoader } from "./load/echo.js";
import { compareResults, formatComparison, readResults } from "./compare.js";
import { builtinModels, parseBaselineFlag, selectModels, type ModelDefinition } from "./models.js";
import { appFile, refTools } from "./paths.js";
import { presets, type Preset } from "./presets.js";
import { progressDisplay } from "./progress.js";
import { terminalReport, writeDocPage, writeOutputs } from "./report.js";
import { runBench } from "./runner.js";
import { killAllServers } from "./server-process.js";
import { builtinScenarios } from "./scenarios.js";
import { soakMarkdown, writeSoak } from "./soak/report.js";
import { runSoak, type SoakResults } from "./soak/run.js";

const HELP = `usage: echo-bench [--quick|--full|--smoke] [options]
       echo-bench --compare a.json b.json
       echo-bench --soak [--soak-seconds N] [--soak-sample S] [--models a,b]
       echo-bench --list

Runs every available server model under the same load and reports server CPU µs per round
trip, round trips/s, latency, errors and memory, as medians of interleaved rounds.

  --quick                 two to three minutes (default): 3 rounds of 0.3 s; ab, wrk and
                          c10k once, against a subset of models
  --full                  5 rounds of 3 s, every model everywhere (about 30 minutes)
  --smoke                 every scenario once, very briefly (CI); ab, wrk and c10k against a
                          few models only
  --models a,b            models or groups (core, threaded, prefork, selector, node, python, nginx)
  --scenarios x,y         echo, connect, http, http-ab, http-wrk, cpu, c10k
  --rounds N              rounds per scenario (overrides the preset)
  --duration S            seconds per run (overrides the preset)
  --warmup S              seconds of unrecorded load after each server starts
  --idle N                idle connections in c10k (default 10000; ulimit -n must allow it)
  --baseline NAME=CMD     add an external echo server; {port} is replaced by a free port and
                          {ref} by the reference tools' directory (ECHO_REF_DIR, else built into
                          .cache/echo-ref from ../shared/tools), e.g.
                          --baseline 'ref={ref}/ref-echo-server 1 {port}'
  --against NAME          the model ratios are taken against (default node-net)
  --loader KIND           echo load generator: client (@echo/client's runLoad, the default),
                          internal (the bench's own loop, a cross-check sharing no code with the
                          client), ref (the C ref-echo-load)
  --out DIR               write results.json, report.md and SVG charts (default results/latest)
  --doc FILE              also write a docs page (e.g. ../../docs/benchmarks.md), charts beside it
  --compare A B           compare two results.json: what changed, beyond the noise or not
  --report FILE           rewrite report.md, charts (--out) and the docs page (--doc) from a
                          results.json, without running anything
  --soak                  the soak: every model under a mixed load at once (echoes, random
                          disconnects, half-closes, slow readers, every byte checked) for
                          --soak-seconds (default 600), RSS and descriptors of every server
                          process sampled every --soak-sample seconds (default 60, or a sixth
                          of a run shorter than 2 minutes); writes soak.json and soak.md to --out
                          (default results/soak) and --doc; exits 1 unless it passed
  --soak-seconds N        length of the soak in seconds
  --soak-sample S         seconds between the soak's samples
  --soak-seed N           the seed of the soak's mix and payloads (default: from the clock)
  --soak-report FILE      rewrite soak.md (--out) and the docs page (--doc) from a soak.json,
                          without running anything
  --list                  list models and scenarios, whether they can run here, and where
                          the reference tools are
  -h, --help              this text
`;

function list(values: string | undefined): string[] | undefined {
  return values
    ? values
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
}

function positiveNumber(name: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(`--${name} must be a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(value)}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      quick: { type: "boolean" },
      full: { type: "boolean" },
      smoke: { type: "boolean" },
      models: { type: "string" },
      scenarios: { type: "string" },
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      idle: { type: "string" },
      baseline: { type: "string", multiple: true },
      against: { type: "string" },
      loader: { type: "string" },
      out: { type: "string" },
      doc: { type: "string" },
      compare: { type: "boolean" },
      report: { type: "string" },
      soak: { type: "boolean" },
      "soak-seconds": { type: "string" },
      "soak-sample": { type: "string" },
      "soak-seed": { type: "string" },
      "soak-report": { type: "string" },
      list: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.compare) {
    if (positionals.length !== 2) throw new Error("--compare needs two results.json files");
    const [a, b] = (positionals as [string, string]).map((p) => resolve(callerDir, p)) as [string, string];
    process.stdout.write(formatComparison(compareResults(readResults(a), readResults(b)), a, b));
    return 0;
  }
  if (positionals.length) throw new Error(`unexpected argument ${positionals[0]}`);
  if (values.report) {
    const results = readResults(resolve(callerDir, values.report));
    if (!values.out && !values.doc) throw new Error("--report needs --out DIR or --doc FILE");
    if (values.out)
      process.stdout.write(
        `wrote ${writeOutputs(results, resolve(callerDir, values.out)).length} files to ${resolve(callerDir, values.out)}\n`,
      );
    if (values.doc)
      process.stdout.write(
        `wrote ${writeDocPage(results, resolve(callerDir, values.doc)).length} files for ${resolve(callerDir, values.doc)}\n`,
      );
    return 0;
  }
  if (values["soak-report"]) {
    const results = JSON.parse(readFileSync(resolve(callerDir, values["soak-report"]), "utf8")) as SoakResults;
    if (results.schema !== "echo-soak/1")
      throw new Error(`--soak-report: not a soak.json (schema ${JSON.stringify(results.schema)})`);
    if (!values.out && !values.doc) throw new Error("--soak-report needs --out DIR or --doc FILE");
    if (values.out) process.stdout.write(`wrote ${writeSoak(results, resolve(callerDir, values.out)).join(", ")}\n`);
    if (values.doc) writeFileSync(resolve(callerDir, values.doc), soakMarkdown(results));
    return 0;
  }
  if (values.soak) return soak(values, argv);
  const presetCount = [values.quick, values.full, values.smoke].filter(Boolean).length;
  if (presetCount > 1) throw new Error("choose one of --quick, --full, --smoke");
  const preset: Preset = values.full ? presets.full : values.smoke ? presets.smoke : presets.quick;

  const externals: ModelDefinition[] = (values.baseline ?? []).map(parseBaselineFlag);
  const all = [...builtinModels(), ...externals];
  const names = new Set<string>();
  for (const m of all) {
    if (names.has(m.name)) throw new Error(`--baseline name ${m.name} is already a model's name`);
    names.add(m.name);
  }
  const wanted = list(values.models);
  // External baselines were asked for explicitly: they run whatever --models says.
  const models = [
    ...selectModels(
      all.filter((m) => m.group !== "external"),
      wanted,
    ),
    ...externals,
  ];
  const allScenarios = builtinScenarios();
  const wantedScenarios = list(values.scenarios);
  const unknown = (wantedScenarios ?? []).filter((s) => !allScenarios.some((x) => x.name === s));
  if (unknown.length)
    throw new Error(`--scenarios: unknown ${unknown.join(", ")}; known: ${allScenarios.map((s) => s.name).join(", ")}`);
  const scenarios = wantedScenarios ? allScenarios.filter((s) => wantedScenarios.includes(s.name)) : allScenarios;

  if (values.list) {
    for (const m of models) {
      const a = m.available();
      process.stdout.write(
        `model    ${m.name.padEnd(18)} ${a.ok ? "ok  " : "skip"} ${m.description}${a.ok ? "" : ` (${a.note})`}\n`,
      );
    }
    for (const s of scenarios) {
      const a = s.available();
      process.stdout.write(
        `scenario ${s.name.padEnd(18)} ${a.ok ? "ok  " : "skip"} ${s.description}${a.ok ? "" : ` (${a.note})`}\n`,
      );
    }
    const ref = refTools.load() ? `${refTools.display} (ref-echo-server, ref-echo-load)` : `absent: ${refTools.why()}`;
    process.stdout.write(`reference tools ${ref}\n`);
    return 0;
  }

  setEchoLoader((values.loader ?? "client") as EchoLoader);
  const against = values.against ?? "node-net";
  const progress = progressDisplay();
  const results = await runBench({
    preset,
    models,
    scenarios,
    overrides: {
      rounds: positiveNumber("rounds", values.rounds, true),
      durationS: positiveNumber("duration", values.duration, false),
    },
    warmupS: values.warmup === undefined ? undefined : Number(values.warmup),
    idle: positiveNumber("idle", values.idle, true),
    baseline: against,
    argv,
    onProgress: (p) => progress.update(p),
    onNote: (n) => progress.note(n),
  });
  progress.done();
  process.stdout.write(terminalReport(results));
  const out = values.out ? resolve(callerDir, values.out) : appFile("results/latest");
  const written = writeOutputs(results, out);
  process.stdout.write(`\nwrote ${written.length} files to ${out} (results.json, report.md, charts)\n`);
  if (values.doc) {
    const doc = resolve(callerDir, values.doc);
    const docFiles = writeDocPage(results, doc);
    process.stdout.write(`wrote ${doc} and ${docFiles.length - 1} files beside it\n`);
  }
  const mismatches = results.runs.reduce((a, r) => a + r.mismatches, 0);
  if (results.runs.length === 0) {
    process.stderr.write("echo-bench: no run was measured\n");
    return 1;
  }
  if (mismatches > 0) {
    process.stderr.write(`echo-bench: ${mismatches} echoed messages differed from what was sent\n`);
    return 1;
  }
  if (preset.name === "smoke") {
    const empty = results.scenarios.filter((s) => !results.runs.some((r) => r.scenario === s.name));
    if (empty.length) {
      process.stderr.write(`echo-bench: smoke: no run succeeded in ${empty.map((s) => s.name).join(", ")}\n`);
      return 1;
    }
  }
  return 0;
}

/** `--soak`: runs the soak, writes its report, and says whether it passed. */
async function soak(
  values: {
    models?: string;
    out?: string;
    doc?: string;
    "soak-seconds"?: string;
    "soak-sample"?: string;
    "soak-seed"?: string;
  },
  argv: string[],
): Promise<number> {
  const seconds = positiveNumber("soak-seconds", values["soak-seconds"], false) ?? 600;
  const sampleEveryS = positiveNumber("soak-sample", values["soak-sample"], false);
  const seed = positiveNumber("soak-seed", values["soak-seed"], true);
  const wanted = list(values.models);
  const models = wanted ? selectModels(builtinModels(), wanted) : undefined;
  const results = await runSoak({
    seconds,
    ...(sampleEveryS === undefined ? {} : { sampleEveryS }),
    ...(seed === undefined ? {} : { seed }),
    ...(models ? { models } : {}),
    argv,
    onNote: (line) => process.stderr.write(`${line}\n`),
  });
  const out = values.out ? resolve(callerDir, values.out) : appFile("results/soak");
  const written = writeSoak(results, out);
  process.stdout.write(soakMarkdown(results));
  process.stdout.write(`\nwrote ${written.join(", ")}\n`);
  if (values.doc) {
    const doc = resolve(callerDir, values.doc);
    writeFileSync(doc, soakMarkdown(results));
    process.stdout.write(`wrote ${doc}\n`);
  }
  if (!results.pass) process.stderr.write("echo-bench: the soak failed\n");
  return results.pass ? 0 : 1;
}

// `echo-bench --list | head` closes stdout early: not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
// `pnpm bench -- --smoke` passes the `--` through: drop it. Relative paths are the caller's,
// not apps/bench's (pnpm runs the script there and says where it was called from in INIT_CWD).
const callerDir = process.env.INIT_CWD ?? process.cwd();
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    killAllServers();
    process.stderr.write(`\necho-bench: ${signal}, servers stopped\n`);
    process.exit(130);
  });
}
main(process.argv.slice(2).filter((a) => a !== "--")).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`echo-bench: ${error.message}\n`);
    process.exitCode = 2;
  },
);
