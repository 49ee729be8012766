// Test helpers: `echo-demo web` as a real child process, its event stream read like a page reads
// it, and checks on process ids.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { get, type IncomingMessage } from "node:http";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

/** A running `echo-demo web`. */
export interface WebProcess {
  url: string;
  child: ChildProcess;
  /** Its stderr so far. */
  stderr(): string;
  /** SIGTERM (unless it has exited) and wait for the exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `echo-demo web --port 0` and resolves with the URL it prints. */
export async function startWeb(args: string[] = []): Promise<WebProcess> {
  const child = spawn(process.execPath, [CLI, "web", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = once(child, "exit");
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const match = /open (http:\/\/\S+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) =>
      reject(new Error(`echo-demo web exited (${code}) before printing its URL: ${stderr}`)),
    );
  });
  return {
    url,
    child,
    stderr: () => stderr,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** A page's event stream: its session, and every `state` event. */
export interface EventStream {
  session: string;
  /** The latest state. */
  latest(): Record<string, unknown> | undefined;
  /** Resolves with the first state (from now on, or the latest) that passes `check`. */
  until<T = Record<string, unknown>>(check: (state: T) => boolean, what: string, ms?: number): Promise<T>;
  /** Closes the stream, as closing the page does. */
  close(): void;
}

/** Opens `/events` the way the page's EventSource does. */
export async function openEvents(url: string): Promise<EventStream> {
  const res = await new Promise<IncomingMessage>((resolve, reject) =>
    get(new URL("/events", url), resolve).once("error", reject),
  );
  res.setEncoding("utf8");
  let latest: Record<string, unknown> | undefined;
  let waiters: (() => void)[] = [];
  let session = "";
  let buffer = "";
  const gotSession = new Promise<void>((resolve) => {
    res.on("data", (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null") as
          (Record<string, unknown> & { session?: string }) | null;
        if (event === "hello") {
          session = data?.session ?? "";
          resolve();
        } else if (event === "state") {
          latest = data ?? undefined;
          for (const wake of waiters.splice(0)) wake();
        }
      }
    });
  });
  await gotSession;
  return {
    session,
    latest: () => latest,
    async until<T>(check: (state: T) => boolean, what: string, ms = 30_000): Promise<T> {
      const deadline = Date.now() + ms;
      while (latest === undefined || !check(latest as T)) {
        if (Date.now() > deadline)
          throw new Error(`timed out after ${ms} ms waiting for ${what}; last state: ${JSON.stringify(latest)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return latest as T;
    },
    close() {
      waiters = [];
      res.destroy();
    },
  };
}

/** POSTs a JSON body; resolves with the status and the parsed answer. */
export async function post(
  url: string,
  path: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(new URL(path, url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Whether `pid` is a live process (a zombie waiting to be reaped counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the command name in parentheses: "1234 (node) S ...".
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Polls until none of `pids` is alive; rejects naming the survivors after `ms`. */
export async function allGone(pids: number[], ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`still alive after ${ms} ms: ${pids.filter(alive).join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
