/**
 * What a run shows a person: the terminal table, the Markdown report with its SVG charts, and
 * the files of an output directory.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchResults, SummaryRecord } from "./results.js";
import { toJson } from "./results.js";
import { portableResults } from "./portable.js";
import type { Summary } from "./stats.js";
import { barChart, formatNumber, groupedChart } from "./svg.js";

/** The article's `ab` figures (requests/s), and the model of ours that corresponds. */
export const articleNumbers = [
  { server: "plain accept loop (`while True: accept, recv, sendall`)", rps: 1745.88, ours: ["core-iterative"] },
  { server: "`socketserver.TCPServer`", rps: 1992.99, ours: ["python-tcpserver"] },
  { server: "`selectors` loop (epoll)", rps: 6217, ours: ["python-selectors", "selector-epoll"] },
] as const;

const fmt = formatNumber;
const spread = (s: Summary): string => (s.n > 1 ? `${fmt(s.min)}–${fmt(s.max)}` : "");
const withSpread = (s: Summary): string => (s.n > 1 ? `${fmt(s.median)} (${spread(s)})` : fmt(s.median));
const times = (v: number | null | undefined): string => (v === null || v === undefined ? "" : `${v.toFixed(2)}×`);
const kib = (bytes: number): string => (Number.isFinite(bytes) ? fmt(bytes / 1024) : "–");
const ms = (us: number): string => (Number.isFinite(us) ? fmt(us / 1000) : "–");

/** The summary rows of one scenario, in the order models were declared. */
export function rowsOf(results: BenchResults, scenario: string): SummaryRecord[] {
  const order = results.models.map((m) => m.name);
  return results.summary
    .filter((s) => s.scenario === scenario)
    .sort((a, b) => order.indexOf(a.model) - order.indexOf(b.model));
}

interface Column {
  head: string;
  cell(row: SummaryRecord): string;
}

function columnsFor(results: BenchResults, scenario: string): Column[] {
  const unit = scenario.startsWith("http") ? "req" : scenario === "connect" ? "conn" : "rt";
  const cols: Column[] = [
    { head: "model", cell: (r) => r.model },
    { head: `${unit}/s median (min–max)`, cell: (r) => withSpread(r.rps) },
    { head: `server CPU µs/${unit} (min–max)`, cell: (r) => withSpread(r.cpuUsPerRt) },
    { head: `µs/${unit} vs ${results.settings.baseline}`, cell: (r) => times(r.vsBaseline?.cpuUsPerRt) },
    { head: `${unit}/s vs ${results.settings.baseline}`, cell: (r) => times(r.vsBaseline?.rps) },
    { head: "p50 ms", cell: (r) => ms(r.p50Us.median) },
    { head: "p99 ms", cell: (r) => ms(r.p99Us.median) },
    { head: "max ms", cell: (r) => ms(r.maxUs.median) },
    { head: "errors", cell: (r) => String(r.errors) },
    { head: "mismatches", cell: (r) => String(r.mismatches) },
    { head: "RSS KiB", cell: (r) => kib(r.rssBytes.median) },
  ];
  if (scenario === "c10k")
    cols.push({
      head: "RSS B/idle conn",
      cell: (r) => (r.rssPerIdleConnBytes ? fmt(r.rssPerIdleConnBytes.median) : ""),
    });
  return cols;
}

/** A Markdown table. */
export function markdownTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** A plain-text table for the terminal. */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The terminal summary: one table per scenario, then the notes. */
export function terminalReport(results: BenchResults): string {
  const out: string[] = [];
  for (const scenario of results.scenarios) {
    const rows = rowsOf(results, scenario.name);
    if (rows.length === 0) continue;
    const cols = columnsFor(results, scenario.name);
    out.push(
      `\n${scenario.name}: ${scenario.description} [${scenario.tool}; ${scenario.rounds} × ${scenario.durationS} s]`,
    );
    out.push(
      textTable(
        cols.map((c) => c.head),
        rows.map((r) => cols.map((c) => c.cell(r))),
      ),
    );
  }
  if (results.notes.length) out.push(`\nnotes:\n${results.notes.map((n) => `  - ${n}`).join("\n")}`);
  return `${out.join("\n")}\n`;
}

/** The charts of a run: file name → SVG. */
export function charts(results: BenchResults): Map<string, string> {
  const files = new Map<string, string>();
  const base = results.settings.baseline;
  for (const scenario of results.scenarios) {
    const rows = rowsOf(results, scenario.name).filter((r) => Number.isFinite(r.cpuUsPerRt.median));
    if (rows.length === 0) continue;
    const unit = scenario.name.startsWith("http")
      ? "request"
      : scenario.name === "connect"
        ? "connection"
        : "round trip";
    files.set(
      `cpu-${scenario.name}.svg`,
      barChart(
        `${scenario.name}: server CPU per ${unit} (median, whiskers min–max)`,
        `µs per ${unit}`,
        rows.map((r) => ({
          label: r.model,
          value: r.cpuUsPerRt.median,
          min: r.cpuUsPerRt.min,
          max: r.cpuUsPerRt.max,
          highlight: r.model === base,
        })),
      ),
    );
  }
  const echo = rowsOf(results, "echo");
  if (echo.length) {
    files.set(
      "latency-echo.svg",
      groupedChart(
        "echo: latency percentiles (median of rounds)",
        "µs",
        ["p50", "p99", "max"],
        echo.map((r) => ({ label: r.model, values: [r.p50Us.median, r.p99Us.median, r.maxUs.median] })),
        true,
      ),
    );
  }
  const cpu = rowsOf(results, "cpu");
  if (cpu.length) {
    files.set(
      "scaling-cpu.svg",
      barChart(
        "cpu (1 ms per request): throughput by model (median, whiskers min–max)",
        "requests/s",
        cpu.map((r) => ({
          label: r.model,
          value: r.rps.median,
          min: r.rps.min,
          max: r.rps.max,
          highlight: r.model === base,
        })),
      ),
    );
  }
  const c10k = rowsOf(results, "c10k").filter(
    (r) => r.rssPerIdleConnBytes && Number.isFinite(r.rssPerIdleConnBytes.median),
  );
  if (c10k.length) {
    files.set(
      "c10k-rss.svg",
      barChart(
        "c10k: server memory per idle connection (median)",
        "bytes RSS per connection",
        c10k.map((r) => ({ label: r.model, value: r.rssPerIdleConnBytes!.median, highlight: r.model === base })),
      ),
    );
  }
  return files;
}

/** The article's numbers next to ours, from the new-connection scenario (what its `ab` run did). */
export function articleSection(results: BenchResults): string {
  const connect = rowsOf(results, "connect");
  const rows = articleNumbers.map((a) => {
    const ours = a.ours
      .map((name) => connect.find((r) => r.model === name))
      .filter((r): r is SummaryRecord => r !== undefined);
    const oursText = ours.length
      ? ours.map((r) => `${r.model}: ${fmt(r.rps.median)} conn/s, ${fmt(r.cpuUsPerRt.median)} µs/conn`).join("; ")
      : "not measured in this run";
    return [a.server, fmt(a.rps), oursText];
  });
  return [
    "The article measured with `ab -i -n 20` (20 HEAD requests, one connection each) against servers printing every request, across a Windows/WSL boundary; its figures are requests per second. Ours are the `connect` scenario (a new connection per 64-byte round trip, 20 at a time, on loopback), which is what its `ab` run exercised.",
    "",
    markdownTable(["article's server", "article: requests/s", "ours (connect scenario, medians)"], rows),
  ].join("\n");
}

/**
 * Scaling in the CPU-bound scenario: each threaded/prefork model's throughput against the same
 * group's single-thread or single-worker model (the selector with 2 loops against 1 loop), and
 * against core-async (one event loop).
 */
export function scalingRows(results: BenchResults): string[][] {
  const cpu = rowsOf(results, "cpu");
  const async = cpu.find((r) => r.model === "core-async");
  const rows: string[][] = [];
  for (const r of cpu) {
    const group = results.models.find((m) => m.name === r.model)?.group;
    // The selector's loops scale like threads: 2 loops against its 1-loop model.
    const base =
      r.model === "selector-epoll-2loops"
        ? "selector-epoll"
        : group === "threaded" || group === "prefork"
          ? `${group}-1`
          : undefined;
    if (base === undefined) continue;
    const one = cpu.find((x) => x.model === base);
    rows.push([
      r.model,
      fmt(r.rps.median),
      one && one !== r ? times(r.rps.median / one.rps.median) : "",
      async ? times(r.rps.median / async.rps.median) : "",
    ]);
  }
  return rows;
}

/** The Markdown report; `chartPrefix` is prepended to chart file names in image links. */
export function markdownReport(results: BenchResults, chartPrefix = "", chartFiles?: Iterable<string>): string {
  const files = new Set(chartFiles ?? charts(results).keys());
  const m = results.machine;
  const out: string[] = [];
  out.push(
    `Run of ${results.createdAt}: preset \`${results.settings.preset}\` (\`${["echo-bench", ...results.settings.argv].map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(" ")}\`), Node ${m.node}, ${m.cpus} × ${m.cpuModel}, load average at the end ${m.loadavg.map((v) => v.toFixed(2)).join(" ")}${m.python ? `, Python ${m.python}` : ""}. Every figure is the median of interleaved rounds (min–max in parentheses); ratios are against \`${results.settings.baseline}\` measured in the same run.`,
  );
  const main = rowsOf(results, "echo");
  if (main.length) {
    out.push("", "### Main table: persistent echo, server CPU per round trip", "");
    out.push(
      markdownTable(
        ["model", "µs/round trip", `vs ${results.settings.baseline}`, "round trips/s", "p99 ms", "errors"],
        main.map((r) => [
          r.model,
          withSpread(r.cpuUsPerRt),
          times(r.vsBaseline?.cpuUsPerRt),
          withSpread(r.rps),
          ms(r.p99Us.median),
          String(r.errors + r.mismatches),
        ]),
      ),
    );
  }
  for (const scenario of results.scenarios) {
    const rows = rowsOf(results, scenario.name);
    if (rows.length === 0) continue;
    const cols = columnsFor(results, scenario.name);
    out.push(
      "",
      `### ${scenario.name}`,
      "",
      `${scenario.description}. Load: ${scenario.tool}; ${scenario.rounds} round(s) of ${scenario.durationS} s.`,
      "",
    );
    out.push(
      markdownTable(
        cols.map((c) => c.head),
        rows.map((r) => cols.map((c) => c.cell(r))),
      ),
    );
    const scaling = scenario.name === "cpu" ? scalingRows(results) : [];
    if (scaling.length)
      out.push(
        "",
        "Scaling (throughput ratios of medians):",
        "",
        markdownTable(["model", "requests/s", "vs its 1-thread/1-worker/1-loop model", "vs core-async"], scaling),
      );
    for (const file of [
      `cpu-${scenario.name}.svg`,
      ...(scenario.name === "echo" ? ["latency-echo.svg"] : []),
      ...(scenario.name === "cpu" ? ["scaling-cpu.svg"] : []),
      ...(scenario.name === "c10k" ? ["c10k-rss.svg"] : []),
    ]) {
      if (files.has(file)) out.push("", `![${file.replace(/\.svg$/, "")}](${chartPrefix}${file})`);
    }
  }
  out.push("", "### The article's numbers beside ours", "", articleSection(results));
  out.push(
    "",
    "### Models",
    "",
    markdownTable(
      ["model", "what", "command"],
      results.models.map((mm) => [mm.name, mm.description, mm.command ? `\`${mm.command}\`` : (mm.note ?? "not run")]),
    ),
  );
  if (results.notes.length) out.push("", "### Notes", "", ...results.notes.map((n) => `- ${n}`));
  return `${out.join("\n")}\n`;
}

/** Writes results.json, report.md and the charts into `dir`, every path made portable ({@link portableResults}). Returns the paths written. */
export function writeOutputs(run: BenchResults, dir: string): string[] {
  const results = portableResults(run);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, text: string): void => {
    const path = join(dir, name);
    writeFileSync(path, text);
    written.push(path);
  };
  put("results.json", toJson(results));
  const svgs = charts(results);
  for (const [name, text] of svgs) put(name, text);
  put("report.md", `# echo bench report\n\n${markdownReport(results, "", svgs.keys())}`);
  return written;
}

/** How the bench measures, for the docs page. */
export const methodText = `## Method

- **Servers are child processes** started from their command lines (\`echo-server --mode async\`, \`echo-threaded --threads N\`, \`echo-prefork --workers N --schedule os|round-robin\`, \`echo-selector --selector epoll|poll|select\`, the baselines in \`apps/bench/baselines/\`, and any \`--baseline NAME=COMMAND\`). The bench reads the port from the \`listening on HOST:PORT\` line (or gives \`{port}\` to an external server).
- **Server CPU per round trip** is the figure to trust on a noisy 2-core machine: for every process of the server (the root and all its descendants, so prefork workers and Python's processes count; threads are inside their process's figure) the bench reads, before and after each run, utime + stime from \`/proc/PID/stat\` and the scheduler's run time of the live threads from \`/proc/PID/task/TID/schedstat\`, takes per process the larger of the two deltas, and divides the sum by the round trips done. Why both: on this VM \`/proc/PID/stat\` is sampled at 10 ms clock ticks and misses most of the time of processes that run in short bursts (the 20-process Python server showed 1 tick for 49 ms of run time), while schedstat is exact but forgets threads that ended during the run (Python's thread per connection). results.json keeps both sums (\`cpuSource\`).
- **Throughput is shared** between the server and the load generator on 2 cores, so round trips/s says as much about the client as the server; ratios are only taken between models measured in the same run.
- **Interleaved rounds**: every model runs once per round (A B C, A B C, …), so a disturbance (another build) lands on every model rather than one. Tables show the median of the rounds and their min–max; \`--compare\` calls a change real only when every round of one run is on the same side of every round of the other.
- **Warm-up**: each server gets a short unrecorded load after it starts (the JIT), then keeps running across the rounds and the scenarios of its workload; C10k starts a new server for every run so its memory per idle connection starts from a clean process.
- **Load**: persistent echo, new-connection echo and the CPU scenario use \`@echo/client\`'s \`runLoad\` (every echoed byte checked; \`--loader internal\` swaps in the bench's own loop as a cross-check, \`--loader ref\` the C \`ref-echo-load\`), HTTP uses autocannon with ab and wrk as cross-checks, C10k uses \`ref-echo-load -i\` when the reference tools are there (\`$ECHO_REF_DIR\`, else built into \`.cache/echo-ref\` from \`../shared/tools\`; without them the bench's idle opener and the echo loader). RSS per idle connection = (RSS with the idle connections accepted − RSS before) / connections accepted (counted from the server's descriptors in /proc).
- **CPU-bound handler**: a fixed ~1 ms of integer work per request (\`apps/bench/src/fixtures/cpu-handler.ts\`; Python: 1 ms of its thread's CPU time), 20 connections, to show what threads and processes buy.`;

/** Figures seen with the C instruments on a machine of this kind (shared/tools/README.md). */
export const referenceFigures = `For comparison, the figures the reference instruments' notes give for one machine of this kind (64-byte echo, 50 persistent connections, \`ref-echo-load\`, server CPU µs per round trip, medians of three interleaved runs): ref-echo-server 1 thread 4.1, Python \`selectors\` loop 5.3, Node \`net\` \`on('data') → write\` 7.6, Node \`net\` \`socket.pipe(socket)\` 8.4, Python \`ThreadingTCPServer\` 12.2 (one run); a new connection per round trip: ref-echo-server 19.8, Python \`selectors\` 32.6, Node \`net\` 49.4 µs per connection; HTTP hello under wrk: a minimal keep-alive responder on Node \`net\` 6.1 µs, \`node:http\` 12.0 µs per request.`;

/** The docs page: method, the run's report, the article beside ours. */
export function docPage(results: BenchResults, chartPrefix: string, chartFiles: Iterable<string>): string {
  return `# Benchmarks\n\nEvery echo server model under the same load, side by side with Node's own servers, the article's Python servers and the machine's floor (\`ref-echo-server\`). Produced by \`apps/bench\` (\`node tooling/scripts/pnpm.mjs bench\`); see [apps/bench/README.md](../apps/bench/README.md) for the flags and the results.json schema.\n\n${methodText}\n\n${referenceFigures}\n\n## Latest run\n\n${markdownReport(results, chartPrefix, chartFiles)}`;
}

/**
 * The line after which a docs page is written by hand (the UDP table, say): everything from it
 * on is kept when {@link writeDocPage} regenerates the page.
 */
export const keptSectionsMarker =
  "<!-- Sections from here on are not written by echo-bench: regenerating the page keeps them. -->";

/** The hand-written tail of an existing docs page, from {@link keptSectionsMarker} on ("" if none). */
function keptSections(file: string): string {
  if (!existsSync(file)) return "";
  const text = readFileSync(file, "utf8");
  const at = text.indexOf(keptSectionsMarker);
  return at < 0 ? "" : `\n${text.slice(at)}`;
}

/** Writes the docs page to `file` with its charts and results.json in a folder beside it named after it, every path made portable. */
export function writeDocPage(run: BenchResults, file: string): string[] {
  const results = portableResults(run);
  const dir = file.replace(/\.md$/, "");
  const prefix = `${dir.split("/").pop()}/`;
  mkdirSync(dir, { recursive: true });
  const svgs = charts(results);
  const written: string[] = [];
  for (const [name, text] of svgs) {
    writeFileSync(join(dir, name), text);
    written.push(join(dir, name));
  }
  writeFileSync(join(dir, "results.json"), toJson(results));
  written.push(join(dir, "results.json"));
  writeFileSync(file, `${docPage(results, prefix, svgs.keys())}${keptSections(file)}`);
  written.push(file);
  return written;
}
