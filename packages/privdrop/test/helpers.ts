import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";

/** True when the tests can drop privileges for real. */
export const isRoot = process.getuid?.() === 0;
/** Appended to the titles of suites that need root, so a skip always says why. */
export const needsRoot = isRoot ? "" : ` [skipped: needs root, running as uid ${process.getuid?.() ?? "?"}]`;

/** The path of a fixture script. */
export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** One JSON line a fixture printed. */
export type FixtureEvent = Record<string, unknown> & { event: string };

/** A running fixture: its events as they arrive and its exit. */
export interface FixtureRun {
  child: ChildProcess;
  events: FixtureEvent[];
  /** Resolves with the first event named `name`; rejects when the child exits without it. */
  next(name: string): Promise<FixtureEvent>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

const running = new Set<FixtureRun>();

/** Spawns `node fixtures/<name> <json config>`, tracked for {@link killFixtures}. */
export function runFixture(name: string, config: unknown = {}, options: SpawnOptions = {}): FixtureRun {
  const child = spawn(process.execPath, [fixture(name), JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "pipe"],
    ...options,
  });
  const events: FixtureEvent[] = [];
  const waiters: { name: string; resolve: (e: FixtureEvent) => void; reject: (e: Error) => void }[] = [];
  let stderr = "";
  let buffered = "";
  let exited = false;
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const event = JSON.parse(line) as FixtureEvent;
      events.push(event);
      for (const waiter of waiters.filter((w) => w.name === event.event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null, why: string): void => {
      if (exited) return;
      exited = true;
      running.delete(run);
      for (const waiter of waiters.splice(0)) {
        waiter.reject(
          new Error(
            `${name} ${why} before printing ${waiter.name}; events ${JSON.stringify(events)}; stderr: ${stderr}`,
          ),
        );
      }
      resolve({ code, signal });
    };
    child.once("close", (code, signal) => finish(code, signal, `exited (${code ?? signal})`));
    // A child that cannot start (e.g. a node binary the target user may not execute) fails fast.
    child.once("error", (error) => finish(null, null, `could not start: ${error.message}`));
  });
  const run: FixtureRun = {
    child,
    events,
    exit,
    stderr: () => stderr,
    next(eventName) {
      const seen = events.find((e) => e.event === eventName);
      if (seen) return Promise.resolve(seen);
      if (exited)
        return Promise.reject(
          new Error(`${name} exited before printing ${eventName}; events ${JSON.stringify(events)}; stderr: ${stderr}`),
        );
      return new Promise((resolve, reject) => waiters.push({ name: eventName, resolve, reject }));
    },
  };
  running.add(run);
  return run;
}

/** Kills every fixture still running and waits for each to exit. */
export async function killFixtures(): Promise<void> {
  const runs = [...running];
  for (const run of runs) run.child.kill("SIGKILL");
  await Promise.all(runs.map((run) => run.exit));
}

/** Sends `payload` to an echo server and resolves with what came back before it closed. */
export function echoRoundTrip(host: string, port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const chunks: Buffer[] = [];
    let received = 0;
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= Buffer.byteLength(payload)) socket.end();
    });
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.write(payload);
  });
}

/** The gid `getent group NAME` gives, or undefined: independent of the code under test. */
export function getentGid(name: string): number | undefined {
  try {
    return Number(execFileSync("getent", ["group", name], { encoding: "utf8" }).split(":")[2]);
  } catch {
    return undefined;
  }
}

/** The default target group the README promises: nogroup, else nobody. */
export function defaultGroupGid(): number {
  const gid = getentGid("nogroup") ?? getentGid("nobody");
  if (gid === undefined) throw new Error("this machine has neither a nogroup nor a nobody group");
  return gid;
}

/** The `Uid:`, `Gid:` and `Groups:` lines of /proc/<pid>/status, verbatim. */
export function statusLines(pid: number): { uid: string; gid: string; groups: string } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const line = (key: string): string => text.split("\n").find((l) => l.startsWith(`${key}:`)) ?? "";
  return { uid: line("Uid"), gid: line("Gid"), groups: line("Groups") };
}

/** Loopback hosts to try for port 7: 127.0.0.1 first, then a random 127.x address. */
export function port7Hosts(): string[] {
  const octet = (): number => 2 + Math.floor(Math.random() * 250);
  return ["127.0.0.1", `127.${octet()}.${octet()}.${octet()}`];
}
