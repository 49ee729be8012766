import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { builtinModels } from "../src/models.js";
import { processTree } from "../src/proc.js";
import { appFile, refTools } from "../src/paths.js";
import { validateResults, type BenchResults } from "../src/results.js";
import { builtinScenarios } from "../src/scenarios.js";
import { firstAbsolutePath, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.remove());

async function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [appFile("dist/cli.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

describe("echo-bench --smoke", () => {
  it("runs every available scenario briefly, exits 0 and writes a valid results.json", async () => {
    const out = join(tmp.dir, "smoke");
    const { code, stdout, stderr } = await bench(["--smoke", "--out", out]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as BenchResults;
    expect(validateResults(results)).toEqual([]);
    const available = builtinScenarios()
      .filter((s) => s.available().ok)
      .map((s) => s.name);
    expect(results.scenarios.map((s) => s.name)).toEqual(available);
    for (const scenario of available) {
      expect(results.runs.filter((r) => r.scenario === scenario).length).toBeGreaterThan(0);
      expect(stdout).toContain(`\n${scenario}: `);
    }
    // Models whose package has not landed are skipped with a note, not an error.
    for (const model of builtinModels().filter((m) => !m.available().ok))
      expect(results.notes.join("\n")).toContain(`skipped ${model.name}`);
    expect(results.runs.reduce((a, r) => a + r.mismatches, 0)).toBe(0);
    // The reference tools, when this checkout has them (ECHO_REF_DIR or ../shared/tools), drive C10k.
    expect(results.scenarios.find((s) => s.name === "c10k")?.tool).toBe(
      refTools.load() ? "ref-echo-load -i" : "idle opener + @echo/client runLoad",
    );

    // --report rewrites the report and a docs page from that file without running anything.
    const doc = join(tmp.dir, "docs", "benchmarks.md");
    const again = await bench(["--report", join(out, "results.json"), "--doc", doc]);
    expect(again.code).toBe(0);
    const page = readFileSync(doc, "utf8");
    expect(page).toContain("## Method");
    expect(page).toContain(`Run of ${results.createdAt}`);
    expect(page).toContain("](benchmarks/cpu-echo.svg)");
    // What the CLI wrote names no path of this machine (it ran with --out and --doc absolute).
    for (const file of [
      join(out, "results.json"),
      join(out, "report.md"),
      doc,
      join(tmp.dir, "docs", "benchmarks", "results.json"),
    ]) {
      expect([file, firstAbsolutePath(readFileSync(file, "utf8"))]).toEqual([file, ""]);
    }

    // --compare of a run with itself: one round each, so no verdict either way.
    const same = await bench(["--compare", join(out, "results.json"), join(out, "results.json")]);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/echo\s+node-net\s+µs\/rt\s+\S+\s+\S+\s+\+0\.0%\s+too few rounds/);
    // Every scenario, ab and wrk included: about a minute on a busy 2-core machine.
  }, 240_000);
});

describe("echo-bench stopped by a signal", () => {
  it("takes its servers (in their own process groups) down with it", async () => {
    const child = spawn(
      process.execPath,
      [
        appFile("dist/cli.js"),
        "--models",
        "node-net",
        "--scenarios",
        "echo",
        "--duration",
        "60",
        "--out",
        join(tmp.dir, "signal"),
      ],
      { stdio: "ignore" },
    );
    const exited = once(child, "exit");
    // Wait until the server runs (the bench's child), then stop the bench.
    let servers: number[] = [];
    const deadline = Date.now() + 60_000;
    while (servers.length < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      servers = processTree(child.pid!).slice(1);
    }
    expect(servers).toHaveLength(1);
    child.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    expect(code).toBe(130);
    // SIGKILL is sent before the bench exits; the orphan is reaped by init shortly after.
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return false;
      }
    };
    const gone = Date.now() + 10_000;
    while (servers.some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    expect(servers.filter(alive)).toEqual([]);
  }, 120_000);
});

describe("echo-bench arguments", () => {
  it.each([
    [["--models", "nope"], /--models: unknown nope; known: node-net/],
    [["--scenarios", "echo,nope"], /--scenarios: unknown nope; known: echo/],
    [["--rounds", "0"], /--rounds must be a positive integer, got "0"/],
    [["--duration", "x"], /--duration must be a positive number, got "x"/],
    [["--baseline", "noequals"], /--baseline must be NAME=COMMAND, got "noequals"/],
    [["--baseline", "node-net=/bin/true {port}"], /--baseline name node-net is already a model's name/],
    [["--loader", "fast"], /--loader must be client, internal, ref, got "fast"/],
    [["--full", "--smoke"], /choose one of --quick, --full, --smoke/],
    [["--compare", "one.json"], /--compare needs two results.json files/],
    [["--report", "x.json"], /ENOENT|--report needs --out DIR or --doc FILE/],
  ])("%j fails with a message naming the flag", async (args, message) => {
    const { code, stderr } = await bench(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it("--list names every model and scenario with what it needs", async () => {
    const { code, stdout } = await bench(["--list"]);
    expect(code).toBe(0);
    for (const m of builtinModels()) expect(stdout).toContain(m.name);
    expect(stdout).toMatch(/scenario c10k/);
    expect(stdout).toContain(
      refTools.load()
        ? `reference tools ${refTools.display} (ref-echo-server, ref-echo-load)`
        : `reference tools absent: ${refTools.why()}`,
    );
  });

  it("--help prints the usage", async () => {
    const { code, stdout } = await bench(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("--compare A B");
  });
});
