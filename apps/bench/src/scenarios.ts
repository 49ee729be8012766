/**
 * The scenarios: what load each model is put under, and how its cost is measured.
 * @module
 */
import { abLoad, refLoad, which, wrkLoad } from "./load/external.js";
import { echoLoad, echoLoadTool } from "./load/echo.js";
import { autocannonLoad } from "./load/http.js";
import { openIdle } from "./load/idle.js";
import type { LoadResult } from "./load/types.js";
import type { Availability, ModelDefinition, Workload } from "./models.js";
import { refTools } from "./paths.js";
import { countDescriptors, cpuByPid, cpuDelta, sampleServer, type CpuDelta, type CpuReading } from "./proc.js";
import type { RunningServer } from "./server-process.js";

/** The figures of one run before they become a {@link RunRecord}. */
export interface Measurement {
  load: LoadResult;
  /** Server CPU during the load, µs (and its two sources). */
  cpu: CpuDelta;
  processes: number;
  rssBytes: number;
  idle?: { connections: number; rssPerConnBytes: number | null };
  /** Something worth a note (idle connections that did not all open…). */
  note?: string;
}

/** One scenario. */
export interface ScenarioDefinition {
  name: string;
  description: string;
  workload: Workload;
  connections: number;
  /** Payload bytes (echo scenarios). */
  size: number | null;
  /** A new server for every run (C10k: RSS per idle connection needs a fresh process). */
  fresh: boolean;
  /** The load tool's name, for the results. */
  tool(): string | Promise<string>;
  /** Whether it can run here at all (its tool installed). */
  available(): Availability;
  /** Whether `model` can take it. */
  applies(model: ModelDefinition): Availability;
  /** Runs the load once against a listening server and measures it. */
  measure(server: RunningServer, durationS: number, idle: number): Promise<Measurement>;
}

/** CPU and RSS of the server's process tree around `load()`. */
export async function measureAround(server: RunningServer, load: () => Promise<LoadResult>): Promise<Measurement> {
  const before = cpuByPid(server.pid);
  const result = await load();
  const after = cpuByPid(server.pid);
  const sample = sampleServer(server.pid);
  return { load: result, cpu: cpuDelta(before, after), processes: after.size, rssBytes: sample.rssBytes };
}

const ok: Availability = { ok: true };
const serves =
  (workload: Workload) =>
  (model: ModelDefinition): Availability =>
    model.workloads.includes(workload) ? ok : { ok: false, note: `${model.name} does not serve ${workload}` };
const installed = (tool: string): Availability =>
  which(tool)
    ? ok
    : { ok: false, note: `${tool} is not installed (apt-get install -y ${tool === "ab" ? "apache2-utils" : tool})` };

/** The echo-scenarios' round trip: 64 bytes. */
export const ECHO_SIZE = 64;

type Fields = Pick<ScenarioDefinition, "name" | "description" | "workload" | "connections">;

/** An echo-load scenario (persistent or a new connection per round trip). */
function echoScenario(fields: Fields, newConnection = false): ScenarioDefinition {
  return {
    ...fields,
    size: ECHO_SIZE,
    fresh: false,
    tool: echoLoadTool,
    available: () => ok,
    applies: serves(fields.workload),
    measure: (server, durationS) =>
      measureAround(server, () =>
        echoLoad({
          host: server.host,
          port: server.port,
          connections: fields.connections,
          size: ECHO_SIZE,
          durationMs: durationS * 1000,
          newConnection,
        }),
      ),
  };
}

/** An HTTP keep-alive hello scenario driven by `tool`. */
function httpScenario(
  name: string,
  description: string,
  tool: string,
  available: () => Availability,
  load: (port: number, seconds: number) => Promise<LoadResult>,
): ScenarioDefinition {
  return {
    name,
    description,
    workload: "http",
    connections: 50,
    size: null,
    fresh: false,
    tool: () => tool,
    available,
    applies: serves("http"),
    measure: (server, durationS) => measureAround(server, () => load(server.port, durationS)),
  };
}

/** Every scenario, in the order they run and are reported. */
export function builtinScenarios(): ScenarioDefinition[] {
  return [
    echoScenario({
      name: "echo",
      description: `persistent connections: 50 clients, ${ECHO_SIZE} B echo, one round trip in flight each`,
      workload: "echo",
      connections: 50,
    }),
    echoScenario(
      {
        name: "connect",
        description: `a new connection per round trip (what the article's ab run did): 20 at a time, ${ECHO_SIZE} B`,
        workload: "echo",
        connections: 20,
      },
      true,
    ),
    httpScenario(
      "http",
      "HTTP/1.1 keep-alive hello (the http-hello handler) under autocannon, 50 connections",
      "autocannon",
      () => ok,
      (port, s) => autocannonLoad(port, 50, s),
    ),
    httpScenario(
      "http-ab",
      "cross-check: the same HTTP hello under ab -k (HTTP/1.0 keep-alive), 50 connections",
      "ab",
      () => installed("ab"),
      (port, s) => abLoad(which("ab")!, port, 50, s),
    ),
    httpScenario(
      "http-wrk",
      "cross-check: the same HTTP hello under wrk (1 thread), 50 connections",
      "wrk",
      () => installed("wrk"),
      (port, s) => wrkLoad(which("wrk")!, port, 50, s),
    ),
    echoScenario({
      name: "cpu",
      description: `CPU-bound handler: about 1 ms of work per request, 20 persistent connections, ${ECHO_SIZE} B`,
      workload: "cpu",
      connections: 20,
    }),
    {
      name: "c10k",
      description: `C10k: 10,000 idle connections held open (--idle), then 50 active clients, ${ECHO_SIZE} B echo`,
      workload: "echo",
      connections: 50,
      size: ECHO_SIZE,
      fresh: true,
      tool: () => (refTools.load() ? "ref-echo-load -i" : `idle opener + ${echoLoadTool()}`),
      available: () => ok,
      applies: (model) => (model.noC10k ? { ok: false, note: `${model.name} ${model.noC10k}` } : serves("echo")(model)),
      measure: measureC10k,
    },
  ];
}

/**
 * Waits until the server holds `target` descriptors (a connection the client sees as open may
 * not be accepted yet), the loader ends, or `timeoutMs` passes. Resolves with the count.
 */
export async function waitForDescriptors(
  pid: number,
  target: number,
  timeoutMs: number,
  stillLoading: () => boolean,
): Promise<number> {
  const end = Date.now() + timeoutMs;
  let count = countDescriptors(pid);
  while (count < target && Date.now() < end && stillLoading()) {
    await new Promise((r) => setTimeout(r, 50));
    count = countDescriptors(pid);
  }
  return count;
}

/**
 * C10k: RSS before, idle connections opened (and accepted: the server's descriptor count rises
 * by that many), RSS again, then the active load with CPU accounted from that moment.
 */
async function measureC10k(server: RunningServer, durationS: number, idle: number): Promise<Measurement> {
  const rssBefore = sampleServer(server.pid).rssBytes;
  const fdsBefore = countDescriptors(server.pid);
  const ref = refTools.load();
  if (ref) {
    let loaderDone = false;
    let started!: () => void;
    const spawned = new Promise<void>((resolve) => (started = resolve));
    const run = refLoad({
      binary: ref,
      port: server.port,
      connections: 50,
      size: ECHO_SIZE,
      seconds: durationS,
      idle,
      onSpawn: () => started(),
    }).finally(() => {
      loaderDone = true;
    });
    run.catch(() => {});
    // If it cannot start, `run` rejects and so does this measurement below.
    await Promise.race([
      spawned,
      run.then(
        () => {},
        () => {},
      ),
    ]);
    const fdsIdle = await waitForDescriptors(server.pid, fdsBefore + idle, 30_000, () => !loaderDone);
    const ticksIdle: Map<number, CpuReading> = cpuByPid(server.pid);
    const rssIdle = sampleServer(server.pid).rssBytes;
    const load = await run;
    const after = cpuByPid(server.pid);
    const accepted = Math.max(0, fdsIdle - fdsBefore);
    return {
      load,
      cpu: cpuDelta(ticksIdle, after),
      processes: after.size,
      rssBytes: sampleServer(server.pid).rssBytes,
      idle: { connections: accepted, rssPerConnBytes: accepted > 0 ? (rssIdle - rssBefore) / accepted : null },
      ...(accepted < idle ? { note: `${accepted} of ${idle} idle connections were accepted` } : {}),
    };
  }
  const held = await openIdle(server.host, server.port, idle);
  try {
    const fds = await waitForDescriptors(server.pid, fdsBefore + held.opened, 10_000, () => true);
    const accepted = Math.max(0, fds - fdsBefore);
    const rssIdle = sampleServer(server.pid).rssBytes;
    const m = await measureAround(server, () =>
      echoLoad({
        host: server.host,
        port: server.port,
        connections: 50,
        size: ECHO_SIZE,
        durationMs: durationS * 1000,
      }),
    );
    return {
      ...m,
      idle: { connections: accepted, rssPerConnBytes: accepted > 0 ? (rssIdle - rssBefore) / accepted : null },
      ...(accepted < idle ? { note: `${accepted} of ${idle} idle connections were accepted` } : {}),
    };
  } finally {
    held.close();
  }
}
