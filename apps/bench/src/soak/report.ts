/**
 * The soak's report: soak.json (the figures) and soak.md (tables), paths made portable as the
 * bench's other reports are.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { portableText } from "../portable.js";
import { markdownTable } from "../report.js";
import { conversationKinds } from "./conversation.js";
import type { SoakResults } from "./run.js";

const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);
const pct = (x: number): string => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;

/**
 * RSS growth from the sample at the middle of the run to the last: not a criterion, but it tells
 * a heap still warming up early in the run (flat in the second half) from a leak (growing in both).
 */
export function secondHalfGrowth(m: SoakResults["models"][number]): number {
  const last = m.samples.at(-1);
  if (!last || m.samples.length < 2) return 0;
  const mid = m.samples.find((s) => s.t >= last.t / 2) ?? last;
  return (last.rssBytes - mid.rssBytes) / mid.rssBytes;
}

/** A copy of the results with every path made portable. */
export function portableSoak(results: SoakResults): SoakResults {
  return {
    ...results,
    settings: { ...results.settings, argv: results.settings.argv.map((a) => portableText(a)) },
    models: results.models.map((m) => ({
      ...m,
      command: portableText(m.command),
      description: portableText(m.description),
      failures: m.failures.map((f) => portableText(f)),
    })),
  };
}

/** The markdown report; `heading` is the level of its title (`#` or `##`). */
export function soakMarkdown(input: SoakResults, heading = "#"): string {
  const r = portableSoak(input);
  const s = r.settings;
  const sub = `${heading}#`;
  const ref = (m: SoakResults["models"][number]) => m.samples[1] ?? m.samples[0]!;
  const lines = [
    `${heading} Soak: ${r.pass ? "PASS" : "FAIL"}`,
    "",
    `${s.seconds} s of mixed load on every model at once (${s.clients} clients per model, 1 for a model serving one connection at a time): echoes of 1 B–16 KiB, random disconnects (FIN or RST, after 0–4 KiB of echo), half-closes (up to 128 KiB, then the client's write side shut), slow readers (64 KiB–2 MiB read in bites with pauses). Every echoed byte checked. RSS and open descriptors of each server's whole process tree (root and descendants, from /proc) sampled every ${s.sampleEveryS} s at quiet points (clients between conversations). Pass: zero mismatches, zero failed conversations, no growth in descriptors and RSS growth under ${s.rssGrowthLimit * 100}% from the second sample (t=${r.models[0] ? ref(r.models[0]).t : "–"} s) to the last. "RSS growth, 2nd half" (from the sample at half-time to the last) is not a criterion: it tells a heap still growing to its working size early in the run from a leak.`,
    "",
    `Started ${r.startedAt}, finished ${r.finishedAt}; Node ${r.machine.node}, ${r.machine.platform}, ${r.machine.cpus} CPUs, load average ${r.machine.loadavgStart.map((x) => x.toFixed(2)).join(" ")} at the start and ${r.machine.loadavgEnd.map((x) => x.toFixed(2)).join(" ")} at the end; seed ${s.seed}. Command: \`echo-bench ${s.argv.join(" ")}\`.`,
    "",
    markdownTable(
      [
        "model",
        "conversations",
        ...conversationKinds,
        "MiB checked",
        "mismatches",
        "failed",
        "fds ref → last",
        "RSS MiB ref → last",
        "RSS growth",
        "RSS growth, 2nd half",
        "verdict",
      ],
      r.models.map((m) => {
        const total = conversationKinds.reduce((a, k) => a + m.conversations[k], 0);
        const last = m.samples.at(-1)!;
        return [
          m.name,
          total.toLocaleString("en-US"),
          ...conversationKinds.map((k) => m.conversations[k].toLocaleString("en-US")),
          mib(m.bytes),
          String(m.mismatches),
          String(m.failed),
          `${ref(m).descriptors} → ${last.descriptors}`,
          `${mib(ref(m).rssBytes)} → ${mib(last.rssBytes)}`,
          pct(m.rssGrowth),
          pct(secondHalfGrowth(m)),
          m.pass ? "pass" : `FAIL: ${m.reasons.join("; ")}`,
        ];
      }),
    ),
    "",
    `${sub} Samples (RSS MiB / descriptors)`,
    "",
    markdownTable(
      ["t s", ...r.models.map((m) => m.name)],
      (r.models[0]?.samples ?? []).map((sample, i) => [
        String(sample.t),
        ...r.models.map((m) => (m.samples[i] ? `${mib(m.samples[i].rssBytes)} / ${m.samples[i].descriptors}` : "–")),
      ]),
    ),
    "",
    `${sub} Servers`,
    "",
    markdownTable(
      ["model", "processes", "command"],
      r.models.map((m) => [m.name, String(m.samples.at(-1)?.processes ?? "–"), `\`${m.command}\``]),
    ),
  ];
  const failures = r.models.flatMap((m) => m.failures.map((f) => `- ${m.name}: ${f}`));
  if (failures.length) lines.push("", `${sub} Failures (first few per model)`, "", ...failures);
  return `${lines.join("\n")}\n`;
}

/** Writes soak.json and soak.md into `dir`; returns their paths. */
export function writeSoak(results: SoakResults, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "soak.json");
  const md = join(dir, "soak.md");
  writeFileSync(json, `${JSON.stringify(portableSoak(results), null, 2)}\n`);
  writeFileSync(md, soakMarkdown(results));
  return [json, md];
}
