/**
 * The descriptor-exhaustion part of the suite: a model's CLI, run in a child process with a low
 * descriptor limit, must not spin while `accept` fails with EMFILE, and must serve again once
 * its clients leave.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { expect, it } from "vitest";
import { roundTrip } from "./net-helpers.js";

/** How to start a model's CLI: the command and arguments before `--port 0`. */
export interface CliCommand {
  command: string;
  args: readonly string[];
}

/** The descriptor limit the server starts with (the operator's `ulimit -n 200`). */
const START_LIMIT = 200;
/** Clients opened first: twice what the server can hold. */
const FIRST_CLIENTS = 400;
/**
 * The limit is then lowered below every descriptor number the server holds, on every process of
 * the server: no descriptor can be opened at all, not even libuv's (or the C loop's) spare once
 * freed, the state where a listener with a pending connection used to spin (threads racing for
 * the spare reach it under the start limit alone, but not reliably). It is raised back before
 * the clients leave, and the server must then accept again by itself.
 */
const LOWERED_LIMIT = 8;
const MORE_CLIENTS = 50;
const WINDOW_MS = 3000;
/** CPU the whole server may use while exhausted, in cores: coarse, a spin uses ~0.3–1. */
const MAX_CORES = 0.2;

function descendants(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks: string[] = [];
    try {
      tasks = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    } catch {
      // gone
    }
    for (const t of tasks) out.push(Number(t));
  }
  return out;
}

/** User+system CPU ticks of every process of the server (all threads), now. */
function cpuTicks(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // a process that ended meanwhile adds nothing more
    }
  }
  return ticks;
}

const TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

function startCli(cli: CliCommand): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(
    "bash",
    ["-c", `ulimit -n ${START_LIMIT} && exec "$@"`, "bash", cli.command, ...cli.args, "--port", "0"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 20 s: ${output}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), output: () => output });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening: ${output}`));
    });
  });
}

/** Opens `n` connections and resolves once each has connected or failed. */
function openClients(port: number, n: number, into: Socket[]): Promise<void> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve) => {
          const socket = connect(port, "127.0.0.1");
          into.push(socket);
          socket.once("connect", () => resolve());
          socket.once("error", () => resolve());
        }),
    ),
  ).then(() => undefined);
}

/**
 * Waits until the server has finished with the first clients (accepted, served or closed): two
 * consecutive 250 ms samples with at most 2 ticks of CPU each, within 15 s. Exhaustion only
 * starts after this, so the window measures the exhausted server and not that work.
 */
async function settled(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  let quiet = 0;
  let last = cpuTicks(pids);
  while (quiet < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = cpuTicks(pids);
    quiet = now - last <= 2 ? quiet + 1 : 0;
    last = now;
  }
}

async function servesAgain(port: number, deadlineMs: number): Promise<string> {
  const deadline = Date.now() + deadlineMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      last = (await roundTrip({ host: "127.0.0.1", port }, "back again")).toString();
      if (last === "back again") return last;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return `no reply within ${deadlineMs} ms: ${last}`;
}

/** Registers the exhaustion test (inside the target's describe block). */
export function exhaustionTest(cli: CliCommand): void {
  it(`uses under ${MAX_CORES * 100}% of a core while out of descriptors, then serves again`, async () => {
    const { child, port, output } = await startCli(cli);
    const clients: Socket[] = [];
    try {
      await openClients(port, FIRST_CLIENTS, clients);
      const pids = descendants(child.pid!);
      await settled(pids);
      for (const pid of pids) spawnSync("prlimit", ["--pid", String(pid), `--nofile=${LOWERED_LIMIT}:${START_LIMIT}`]);
      await openClients(port, MORE_CLIENTS, clients);
      const before = cpuTicks(pids);
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
      const cores = (cpuTicks(pids) - before) / TICKS_PER_SECOND / ((performance.now() - started) / 1000);
      expect(cores, `server CPU while exhausted (cores); output:\n${output().slice(0, 2000)}`).toBeLessThan(MAX_CORES);
      for (const pid of descendants(child.pid!))
        spawnSync("prlimit", ["--pid", String(pid), `--nofile=${START_LIMIT}:${START_LIMIT}`]);
      for (const socket of clients.splice(0)) socket.destroy();
      // Descriptors free up as the server sees its clients go; it must accept again by itself.
      expect(await servesAgain(port, 15_000)).toBe("back again");
    } finally {
      for (const socket of clients) socket.destroy();
      child.kill("SIGKILL");
    }
  }, 60_000);
}
