import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareResults, formatComparison, readResults } from "../src/compare.js";
import { builtinModels, externalModel, python3 } from "../src/models.js";
import { appFile } from "../src/paths.js";
import { presets } from "../src/presets.js";
import { keptSectionsMarker, markdownReport, writeDocPage, writeOutputs } from "../src/report.js";
import { SCHEMA, toJson, validateResults, type BenchResults } from "../src/results.js";
import { runBench, type Progress } from "../src/runner.js";
import { builtinScenarios } from "../src/scenarios.js";
import { firstAbsolutePath, tempDir } from "./helpers.js";

// One small real run shared by the tests below: two scenarios, two rounds of 0.3 s, the Node
// baseline, an external server started from a command line with {port}, and Python's selectors
// loop when python3 is present.
const tmp = tempDir();
let results: BenchResults;
const progress: Progress[] = [];
const external = externalModel(
  "ext-net",
  `${process.execPath} ${appFile("baselines/node-net-echo.mjs")} --port {port}`,
);
const wanted = ["node-net", ...(python3() ? ["python-selectors"] : [])];

beforeAll(async () => {
  results = await runBench({
    preset: presets.smoke,
    models: [...builtinModels().filter((m) => wanted.includes(m.name)), external],
    scenarios: builtinScenarios().filter((s) => s.name === "echo" || s.name === "connect"),
    overrides: { rounds: 2, durationS: 0.3 },
    warmupS: 0.1,
    argv: ["--test"],
    onProgress: (p) => progress.push(p),
  });
}, 120_000);

afterAll(() => tmp.remove());

describe("a small real run", () => {
  it("measures every model in every scenario, in interleaved order", () => {
    const models = [...wanted, "ext-net"];
    for (const scenario of ["echo", "connect"]) {
      const runs = results.runs.filter((r) => r.scenario === scenario);
      expect(runs.map((r) => `${r.round}:${r.model}`)).toEqual(
        [1, 2].flatMap((round) => models.map((m) => `${round}:${m}`)),
      );
      for (const run of runs) {
        expect(run.done).toBeGreaterThan(0);
        expect(run.mismatches).toBe(0);
        expect(run.cpuUs).toBeGreaterThan(0);
        expect(run.cpuUsPerRt).toBeCloseTo(run.cpuUs / run.done);
        expect(run.processes).toBeGreaterThanOrEqual(1);
      }
    }
    const announced = progress.filter((p) => !p.measured);
    expect(announced.map((p) => p.index)).toEqual(announced.map((_, i) => i + 1));
    expect(announced[0]!.total).toBe(2 * 2 * models.length);
  });

  it("summarizes medians and spread, with ratios against node-net from the same run", () => {
    const echo = results.summary.find((s) => s.scenario === "echo" && s.model === "ext-net")!;
    const runs = results.runs.filter((r) => r.scenario === "echo" && r.model === "ext-net");
    expect(echo.rounds).toBe(2);
    expect(echo.cpuUsPerRt.median).toBeCloseTo((runs[0]!.cpuUsPerRt! + runs[1]!.cpuUsPerRt!) / 2);
    expect(echo.cpuUsPerRt.min).toBe(Math.min(...runs.map((r) => r.cpuUsPerRt!)));
    const base = results.summary.find((s) => s.scenario === "echo" && s.model === "node-net")!;
    expect(base.vsBaseline).toEqual({ model: "node-net", cpuUsPerRt: 1, rps: 1 });
    expect(echo.vsBaseline!.cpuUsPerRt).toBeCloseTo(echo.cpuUsPerRt.median / base.cpuUsPerRt.median);
  });

  it("records the command line of every model it started", () => {
    const ext = results.models.find((m) => m.name === "ext-net")!;
    expect(ext.command).toMatch(/node-net-echo\.mjs --port \d+$/);
    expect(results.models.find((m) => m.name === "node-net")!.command).toContain("--mode echo");
  });
});

describe("results.json", () => {
  it("validates against the schema once written and read back", () => {
    writeOutputs(results, tmp.dir);
    const parsed: unknown = JSON.parse(readFileSync(join(tmp.dir, "results.json"), "utf8"));
    expect(validateResults(parsed)).toEqual([]);
    expect((parsed as BenchResults).schema).toBe(SCHEMA);
  });

  it("names what is wrong with an invalid file", () => {
    const bad = JSON.parse(toJson(results)) as Record<string, unknown>;
    bad.schema = "something-else";
    (bad.runs as Record<string, unknown>[])[0]!.cpuUs = "fast";
    (bad.runs as Record<string, unknown>[])[1]!.model = "nobody";
    delete (bad.machine as Record<string, unknown>).node;
    const problems = validateResults(bad);
    expect(problems).toContain('results.schema must be "echo-bench/1"');
    expect(problems).toContain("results.runs[0].cpuUs must be a finite number");
    expect(problems).toContain("results.machine.node must be a string");
    expect(
      validateResults({ ...JSON.parse(toJson(results)), runs: [{ ...results.runs[0], model: "nobody" }] }),
    ).toEqual(['results.runs[0].model "nobody" is not in results.models']);
  });
});

describe("the report", () => {
  it("writes report.md with the main table and SVG charts it links to", () => {
    const written = writeOutputs(results, tmp.dir);
    const report = readFileSync(join(tmp.dir, "report.md"), "utf8");
    expect(report).toContain("### Main table: persistent echo, server CPU per round trip");
    for (const model of ["node-net", "ext-net"]) expect(report).toContain(`| ${model} |`);
    const links = [...report.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links).toContain("cpu-echo.svg");
    expect(links).toContain("latency-echo.svg");
    for (const link of links) {
      expect(written).toContain(join(tmp.dir, link));
      const svg = readFileSync(join(tmp.dir, link), "utf8");
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
      expect(svg).toContain("ext-net");
    }
    // One bar per model in the CPU chart, the baseline highlighted.
    const cpu = readFileSync(join(tmp.dir, "cpu-echo.svg"), "utf8");
    expect(cpu.match(/<rect x="170"/g)).toHaveLength(wanted.length + 1);
    expect(cpu.match(/fill="#e15759"/g)).toHaveLength(1);
  });

  it("puts the article's numbers beside the connect scenario's", () => {
    const md = markdownReport(results);
    expect(md).toContain("1,746");
    expect(md).toContain("6,217");
    if (python3()) expect(md).toMatch(/python-selectors: [\d,.]+ conn\/s/);
  });

  it("writes a docs page with its charts in a folder beside it", () => {
    const file = join(tmp.dir, "docs", "benchmarks.md");
    writeDocPage(results, file);
    const page = readFileSync(file, "utf8");
    expect(page).toContain("## Method");
    expect(page).toContain("](benchmarks/cpu-echo.svg)");
    expect(existsSync(join(tmp.dir, "docs", "benchmarks", "cpu-echo.svg"))).toBe(true);
  });

  it("keeps the hand-written sections after the marker when it rewrites the page", () => {
    const file = join(tmp.dir, "docs", "kept.md");
    mkdirSync(join(tmp.dir, "docs"), { recursive: true });
    writeFileSync(
      file,
      `# old page\n\n## Latest run\n\nold figures\n\n${keptSectionsMarker}\n\n## UDP echo\n\n| a | b |\n`,
    );
    writeDocPage(results, file);
    const page = readFileSync(file, "utf8");
    expect(page).not.toContain("old figures");
    expect(page).toContain("## Method");
    expect(page.endsWith(`${keptSectionsMarker}\n\n## UDP echo\n\n| a | b |\n`)).toBe(true);
  });
});

describe("paths in the reports", () => {
  it("writes no absolute path into results.json, report.md, the charts or the docs page", () => {
    const dir = join(tmp.dir, "portable");
    const written = [...writeOutputs(results, dir), ...writeDocPage(results, join(dir, "docs", "benchmarks.md"))];
    expect(written.filter((f) => f.endsWith(".svg")).length).toBeGreaterThan(0);
    for (const file of written) {
      expect([file, firstAbsolutePath(readFileSync(file, "utf8"))]).toEqual([file, ""]);
    }
    // The external server was started as `${process.execPath} ${apps/bench/…} --port N`.
    const saved = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as BenchResults;
    expect(saved.models.find((m) => m.name === "ext-net")!.command).toMatch(
      /^node apps\/bench\/baselines\/node-net-echo\.mjs --port \d+$/,
    );
    expect(saved.models.find((m) => m.name === "node-net")!.command).toMatch(
      /^node apps\/bench\/baselines\/node-net-echo\.mjs /,
    );
    if (python3()) {
      expect(saved.machine.python).toMatch(/^\d+\.\d+\.\d+/);
      expect(saved.models.find((m) => m.name === "python-selectors")!.command).toMatch(
        /^python3 apps\/bench\/baselines\/python_servers\.py /,
      );
      expect(readFileSync(join(dir, "report.md"), "utf8")).toContain(`Python ${saved.machine.python}.`);
    }
    expect(readFileSync(join(dir, "report.md"), "utf8")).toContain(`Node ${process.version},`);
  });
});

describe("--compare", () => {
  it("finds a doubled cost beyond the noise and an unchanged run within it", () => {
    const a = join(tmp.dir, "a.json");
    const b = join(tmp.dir, "b.json");
    // The measured rounds of one model can differ by more than 3× on a loaded machine: give
    // ext-net's rounds one cost in the "before" file, so the tripled "after" lies beyond the noise
    // by construction and the test checks the comparison, not the machine.
    const before: BenchResults = JSON.parse(toJson(results));
    const ext0 = before.runs.find((r) => r.model === "ext-net" && r.scenario === "echo")!;
    for (const run of before.runs) {
      if (run.model !== "ext-net") continue;
      run.cpuUs = (ext0.cpuUs / ext0.done) * run.done;
      run.cpuUsPerRt = run.cpuUs / run.done;
    }
    writeFileSync(a, toJson(before));
    const doubled: BenchResults = JSON.parse(toJson(before));
    for (const run of doubled.runs) {
      if (run.model !== "ext-net") continue;
      run.cpuUs *= 3;
      run.cpuUsPerRt = run.cpuUs / run.done;
    }
    writeFileSync(b, toJson(doubled));
    const changes = compareResults(readResults(a), readResults(b));
    const ext = changes.find((c) => c.scenario === "echo" && c.model === "ext-net" && c.figure === "cpuUsPerRt")!;
    const same = changes.find((c) => c.scenario === "echo" && c.model === "node-net" && c.figure === "cpuUsPerRt")!;
    expect(ext.change).toBeCloseTo(2);
    expect(ext.verdict).toBe("higher");
    expect(same.change).toBe(0);
    expect(same.verdict).toBe("within noise");
    const text = formatComparison(changes, a, b);
    expect(text).toMatch(/echo\s+ext-net\s+µs\/rt.*\+200\.0%\s+worse/);
  });

  it("refuses a file that is not a results file", () => {
    const bad = join(tmp.dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ schema: "nope" }));
    expect(() => readResults(bad)).toThrow(/not a valid echo-bench results file: results.schema must be/);
  });
});

describe("scaling", () => {
  it("puts each threaded and prefork model beside its single-thread model and core-async", async () => {
    const { summarizeRuns } = await import("../src/runner.js");
    const { scalingRows, markdownReport: report } = await import("../src/report.js");
    const synthetic: BenchResults = JSON.parse(toJson(results));
    const run = (model: string, rps: number) => ({ ...synthetic.runs[0]!, scenario: "cpu", model, rps });
    synthetic.models.push(
      { name: "core-async", group: "core", description: "", command: null, available: true },
      { name: "threaded-1", group: "threaded", description: "", command: null, available: true },
      { name: "threaded-2", group: "threaded", description: "", command: null, available: true },
    );
    synthetic.scenarios.push({ ...synthetic.scenarios[0]!, name: "cpu" });
    synthetic.runs = [run("core-async", 900), run("threaded-1", 1000), run("threaded-2", 1800)];
    synthetic.summary = summarizeRuns(synthetic.runs, "node-net");
    expect(validateResults(synthetic)).toEqual([]);
    expect(scalingRows(synthetic)).toEqual([
      ["threaded-1", "1,000", "", "1.11×"],
      ["threaded-2", "1,800", "1.80×", "2.00×"],
    ]);
    expect(report(synthetic)).toContain("| threaded-2 | 1,800 | 1.80× | 2.00× |");
  });
});
