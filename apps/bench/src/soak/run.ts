/**
 * The soak (`echo-bench --soak`): every model serves a mixed load at once for a long time
 * (10 minutes by default) — echoes, random disconnects, half-closes and slow readers, every byte
 * checked — while the RSS and open descriptors of every server process (the root and all its
 * descendants, from /proc) are sampled at fixed points. It passes with zero mismatches, zero
 * failed conversations, no growth in descriptors and under 10% growth in RSS between the second
 * sample (the start of minute 2 in the default run) and the last.
 *
 * Samples are taken at quiet points: the clients finish their conversations in flight and start
 * no new ones until the sample is read, so the descriptor counts compare like with like (the
 * server's own descriptors, no client connections).
 * @module
 */
import { availableParallelism, loadavg } from "node:os";
import { builtinModels, parallelism, type ModelDefinition } from "../models.js";
import { countDescriptors, processTree, sampleServer } from "../proc.js";
import { startServer, type RunningServer } from "../server-process.js";
import { conversationKinds, converse, type ConversationKind } from "./conversation.js";
import { seededRandom, type Random } from "./random.js";

/** The models the soak runs by default: every model, prefork under both schedules, selector with epoll and poll. */
export function soakModelNames(): string[] {
  const n = parallelism;
  return [
    "core-iterative",
    "core-async",
    `threaded-${n}`,
    `prefork-${n}-os`,
    `prefork-${n}-rr`,
    "selector-epoll",
    "selector-poll",
  ];
}

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /** Length of the load, seconds (600 by default). */
  seconds: number;
  /** Seconds between samples: 60 for runs of two minutes or more, else a sixth of the run. */
  sampleEveryS?: number;
  /** Concurrent clients per model (3); a model serving one connection at a time gets 1. */
  clients?: number;
  /** The models (default {@link soakModelNames}); all must be available. */
  models?: readonly ModelDefinition[];
  /** Seed of the conversation mix and payloads (default: from the clock, written in the report). */
  seed?: number;
  /** The bench's command line, for the report. */
  argv?: readonly string[];
  /** Lines of progress. */
  onNote?: (line: string) => void;
}

/** One reading of a server's whole process tree at a quiet point. */
export interface SoakSample {
  /** Seconds since the load started. */
  t: number;
  rssBytes: number;
  descriptors: number;
  processes: number;
}

/** One model's soak. */
export interface SoakModelResult {
  name: string;
  description: string;
  command: string;
  clients: number;
  conversations: Record<ConversationKind, number>;
  /** Bytes echoed back and checked. */
  bytes: number;
  mismatches: number;
  failed: number;
  /** The first few failures, for the report. */
  failures: string[];
  samples: SoakSample[];
  /** Descriptors at the last sample minus at the reference (second) sample. */
  descriptorGrowth: number;
  /** RSS growth from the reference sample to the last, as a fraction (0.05 = 5%). */
  rssGrowth: number;
  pass: boolean;
  /** Why it did not pass. */
  reasons: string[];
}

/** A soak's results (what soak.json holds). */
export interface SoakResults {
  schema: "echo-soak/1";
  startedAt: string;
  finishedAt: string;
  settings: {
    seconds: number;
    sampleEveryS: number;
    clients: number;
    seed: number;
    argv: string[];
    rssGrowthLimit: number;
  };
  machine: { node: string; platform: string; cpus: number; loadavgStart: number[]; loadavgEnd: number[] };
  models: SoakModelResult[];
  pass: boolean;
}

/** The RSS growth a passing model stays under. */
export const RSS_GROWTH_LIMIT = 0.1;

const CONVERSATION_TIMEOUT_MS = 60_000;
const SETTLE_TIMEOUT_MS = 10_000;

/**
 * A model's verdict from its counts and samples: growth between the reference sample (the second:
 * the start of minute 2 in the default run) and the last, and why it fails, if it does.
 */
export function soakVerdict(
  r: Pick<SoakModelResult, "mismatches" | "failed" | "samples" | "conversations">,
  rssGrowthLimit = RSS_GROWTH_LIMIT,
): Pick<SoakModelResult, "descriptorGrowth" | "rssGrowth" | "pass" | "reasons"> {
  const ref = r.samples[1] ?? r.samples[0];
  const last = r.samples.at(-1);
  const reasons: string[] = [];
  if (!ref || !last || r.samples.length < 2)
    return { descriptorGrowth: 0, rssGrowth: 0, pass: false, reasons: ["fewer than two samples"] };
  const descriptorGrowth = last.descriptors - ref.descriptors;
  const rssGrowth = (last.rssBytes - ref.rssBytes) / ref.rssBytes;
  if (r.mismatches > 0) reasons.push(`${r.mismatches} mismatched conversations`);
  if (r.failed > 0) reasons.push(`${r.failed} failed conversations`);
  if (descriptorGrowth > 0) reasons.push(`descriptors grew by ${descriptorGrowth}`);
  if (rssGrowth >= rssGrowthLimit) reasons.push(`RSS grew ${(rssGrowth * 100).toFixed(1)}%`);
  if (conversationKinds.some((k) => r.conversations[k] === 0)) reasons.push("a kind of conversation never ran");
  return { descriptorGrowth, rssGrowth, pass: reasons.length === 0, reasons };
}

/** The sample times in seconds: 0, every `every`, and the end. */
export function sampleTimes(seconds: number, every: number): number[] {
  const times: number[] = [];
  for (let t = 0; t < seconds - 1e-9; t += every) times.push(Math.round(t * 1000) / 1000);
  times.push(seconds);
  return times;
}

/** The default sampling interval for a run of `seconds`. */
export function defaultSampleEvery(seconds: number): number {
  return seconds >= 120 ? 60 : Math.max(1, seconds / 6);
}

/** Picks a conversation kind: 40% echo, 20% each of the others. */
function pickKind(random: Random): ConversationKind {
  const r = random.int(0, 9);
  return r < 4 ? "echo" : r < 6 ? "disconnect" : r < 8 ? "half-close" : "slow-reader";
}

interface Lane {
  model: ModelDefinition;
  server: RunningServer;
  clients: number;
  result: SoakModelResult;
}

/**
 * Waits until a server's descriptors settle after its clients went quiet: connections the clients
 * dropped are closed by the server as it reads their FIN or RST. Done when the count is at most
 * `target`, or when it has not moved across three reads; bounded by a timeout.
 */
async function settledDescriptors(pid: number, target: number | undefined): Promise<number> {
  const end = Date.now() + SETTLE_TIMEOUT_MS;
  let count = countDescriptors(pid);
  let same = 0;
  while (Date.now() < end) {
    if (target !== undefined && count <= target) return count;
    await new Promise((r) => setTimeout(r, 100));
    const next = countDescriptors(pid);
    same = next === count ? same + 1 : 0;
    count = next;
    if (target === undefined && same >= 3) return count;
  }
  return count;
}

/** Runs the soak; resolves with its results (servers stopped). */
export async function runSoak(options: SoakOptions): Promise<SoakResults> {
  const seconds = options.seconds;
  const every = options.sampleEveryS ?? defaultSampleEvery(seconds);
  const perModel = options.clients ?? 3;
  const seed = options.seed ?? Date.now() & 0x7fffffff;
  const note = options.onNote ?? (() => {});
  const models = options.models ?? builtinModels().filter((m) => soakModelNames().includes(m.name));
  const unavailable = models.map((m) => [m.name, m.available()] as const).filter(([, a]) => !a.ok);
  if (unavailable.length)
    throw new Error(`soak: ${unavailable.map(([n, a]) => `${n}: ${a.ok ? "" : a.note}`).join("; ")}`);

  const startedAt = new Date().toISOString();
  const loadavgStart = loadavg();
  const lanes: Lane[] = [];
  try {
    for (const model of models) {
      const server = await startServer(model.command("echo", 0));
      const clients = model.noC10k ? 1 : perModel;
      note(
        `soak: ${model.name} listening on ${server.host}:${server.port} (pid ${server.pid}), ${clients} client${clients === 1 ? "" : "s"}`,
      );
      lanes.push({
        model,
        server,
        clients,
        result: {
          name: model.name,
          description: model.description,
          command: server.commandLine,
          clients,
          conversations: Object.fromEntries(conversationKinds.map((k) => [k, 0])) as Record<ConversationKind, number>,
          bytes: 0,
          mismatches: 0,
          failed: 0,
          failures: [],
          samples: [],
          descriptorGrowth: 0,
          rssGrowth: 0,
          pass: false,
          reasons: [],
        },
      });
    }

    const root = seededRandom(seed);
    // The clients start paused: the first sample is of the servers as they started.
    let paused = true;
    let stopped = false;
    const waiters: (() => void)[] = [];
    const loops: Promise<void>[] = [];
    // Each client loop reports when it is between conversations, so a sample waits for quiet.
    const idle = new Set<number>();
    let idleChanged: (() => void) | undefined;
    let loopId = 0;
    const clientLoop = async (lane: Lane, random: Random, id: number): Promise<void> => {
      for (;;) {
        while (paused && !stopped) {
          idle.add(id);
          idleChanged?.();
          await new Promise<void>((r) => waiters.push(r));
        }
        idle.delete(id);
        if (stopped) break;
        const kind = pickKind(random);
        const r = await converse({
          host: lane.server.host,
          port: lane.server.port,
          kind,
          random,
          timeoutMs: CONVERSATION_TIMEOUT_MS,
        });
        const res = lane.result;
        res.conversations[kind]++;
        res.bytes += r.bytes;
        if (r.mismatch) res.mismatches++;
        if (r.failure) {
          res.failed++;
          if (res.failures.length < 5) res.failures.push(`${kind}: ${r.failure}`);
        }
      }
      idle.add(id);
      idleChanged?.();
    };
    const quiet = async (): Promise<void> => {
      paused = true;
      while (idle.size < loopId) await new Promise<void>((r) => (idleChanged = r));
      idleChanged = undefined;
    };
    const resume = (): void => {
      paused = false;
      for (const wake of waiters.splice(0)) wake();
    };
    const sampleAll = async (t: number): Promise<void> => {
      for (const lane of lanes) {
        const reference = lane.result.samples[1]?.descriptors;
        const descriptors = await settledDescriptors(lane.server.pid, reference);
        const s = sampleServer(lane.server.pid);
        lane.result.samples.push({
          t,
          rssBytes: s.rssBytes,
          descriptors,
          processes: processTree(lane.server.pid).length,
        });
      }
      note(
        `soak: t=${t}s ${lanes.map((l) => `${l.model.name} ${(l.result.samples.at(-1)!.rssBytes / 1048576).toFixed(1)} MiB ${l.result.samples.at(-1)!.descriptors} fds`).join(", ")}`,
      );
    };

    const start = Date.now();
    for (const lane of lanes) {
      for (let i = 0; i < lane.clients; i++) loops.push(clientLoop(lane, seededRandom(root.uint32()), loopId++));
    }
    for (const t of sampleTimes(seconds, every)) {
      const due = start + t * 1000;
      if (t > 0) {
        resume();
        while (Date.now() < due) await new Promise((r) => setTimeout(r, Math.min(1000, due - Date.now())));
      }
      await quiet();
      for (const lane of lanes) {
        if (lane.server.exited())
          throw new Error(
            `soak: ${lane.model.name} exited: ${lane.server.stderr().trim().split("\n").slice(-3).join(" | ")}`,
          );
      }
      await sampleAll(Math.round((Date.now() - start) / 100) / 10);
    }
    stopped = true;
    resume();
    await Promise.all(loops);

    for (const { result } of lanes) Object.assign(result, soakVerdict(result));
  } finally {
    await Promise.all(lanes.map((l) => l.server.stop()));
  }
  return {
    schema: "echo-soak/1",
    startedAt,
    finishedAt: new Date().toISOString(),
    settings: {
      seconds,
      sampleEveryS: every,
      clients: perModel,
      seed,
      argv: [...(options.argv ?? [])],
      rssGrowthLimit: RSS_GROWTH_LIMIT,
    },
    machine: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: availableParallelism(),
      loadavgStart,
      loadavgEnd: loadavg(),
    },
    models: lanes.map((l) => l.result),
    pass: lanes.length > 0 && lanes.every((l) => l.result.pass),
  };
}
