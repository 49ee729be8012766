/**
 * A server under test is a child process started from a command line. The bench learns its
 * port from the `… listening on HOST:PORT …` line every echo CLI prints (or knows it, for an
 * external server given a port), and accounts every process of its tree.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { processTree } from "./proc.js";

/** How to start one server. */
export interface ServerCommand {
  command: string;
  args: string[];
  /**
   * The port when the command line fixes it (an external server started with `{port}`);
   * otherwise the port is read from the listening line.
   */
  port?: number;
}

/** A started server. */
export interface RunningServer {
  /** The root process (the master of a multi-process server). */
  pid: number;
  host: string;
  port: number;
  /** The command line, for the results. */
  commandLine: string;
  /** The pids of the whole process tree now. */
  pids(): number[];
  /** What the server printed on stderr (the last few KiB), for error notes. */
  stderr(): string;
  /** Whether the process has exited. */
  exited(): boolean;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const LISTENING = /listening on (?:\[([^\]]+)\]|([^\s:]+)):(\d+)/;

/** Parses `NAME listening on HOST:PORT (…)`; undefined when the line is not one. */
export function parseListeningLine(line: string): { host: string; port: number } | undefined {
  const match = LISTENING.exec(line);
  if (!match) return undefined;
  return { host: match[1] ?? match[2]!, port: Number(match[3]) };
}

/** A free TCP port on 127.0.0.1 (for external servers that need a port on their command line). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Children started and not yet known to have exited, for {@link killAllServers}. */
const live = new Set<ChildProcess>();

/**
 * Kills every server this process started that may still run, with their process groups.
 * Synchronous, for a signal handler: the servers run in their own process groups, so a Ctrl-C on
 * the bench does not reach them by itself.
 */
export function killAllServers(): void {
  for (const child of live) killGroup(child, "SIGKILL");
  live.clear();
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Starts a server and resolves once it listens. Rejects (after killing the child) when it exits
 * first or does not listen within `timeoutMs`.
 */
export async function startServer(spec: ServerCommand, timeoutMs = 15_000): Promise<RunningServer> {
  // Its own process group, so that stop() reaches workers that the master may leave behind.
  const child = spawn(spec.command, spec.args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  live.add(child);
  const commandLine = [spec.command, ...spec.args].join(" ");
  let stderr = "";
  let stdout = "";
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
      // The group may still hold workers: stop() ends them; until then keep it in `live`.
    }),
  );
  child.on("error", () => {});
  child.stderr.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4096);
  });

  const listening = new Promise<{ host: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not listen within ${timeoutMs} ms`)), timeoutMs);
    const done = (value: { host: string; port: number }): void => {
      clearTimeout(timer);
      resolve(value);
    };
    void exit.then(() => {
      clearTimeout(timer);
      reject(
        new Error(`exited before listening${stderr ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : ""}`),
      );
    });
    child.stdout.on("data", (d: Buffer) => {
      if (stdout.length > 65536) return; // only the first lines matter; keep draining the pipe
      stdout += d.toString();
      const found = spec.port === undefined ? parseListeningLine(stdout) : undefined;
      if (found) done(found);
    });
    if (spec.port !== undefined) {
      const port = spec.port;
      const poll = async (): Promise<void> => {
        while (!exited) {
          if (await canConnect(port)) return done({ host: "127.0.0.1", port });
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      void poll();
    }
  });

  const stop = async (graceMs = 3000): Promise<void> => {
    if (!exited) {
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
      await exit;
      clearTimeout(timer);
    }
    // Workers of a master that died first would be orphans: end the whole group.
    killGroup(child, "SIGKILL");
    live.delete(child);
  };

  let address: { host: string; port: number };
  try {
    address = await listening;
  } catch (error) {
    await stop(500);
    throw error;
  }
  const host =
    address.host === "0.0.0.0" || address.host === "localhost"
      ? "127.0.0.1"
      : address.host === "::"
        ? "::1"
        : address.host;
  return {
    pid: child.pid!,
    host,
    port: address.port,
    commandLine,
    pids: () => processTree(child.pid!),
    stderr: () => stderr,
    exited: () => exited,
    stop,
  };
}
