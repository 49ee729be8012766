/**
 * The tour's privilege-drop step: as root, `echo-server` binds a port below 1024 (7, the echo
 * port, when it is free), drops to `nobody` through `@echo/privdrop`, and the tour prints the
 * server's own `/proc/PID/status` lines to prove it.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { EchoClient } from "@echo/client";

/** What the step did, for the tour to print. */
export type PrivdropStepResult =
  | { ran: false; reason: string }
  | { ran: true; port: number; pid: number; dropLine: string; statusLines: string[]; reply: string };

const STATUS_FIELDS = ["Uid", "Gid", "Groups", "Umask"];

/** The `echo-server` CLI of the installed `@echo/core`. */
function echoServerBin(): string {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve("@echo/core/package.json"));
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { bin: Record<string, string> };
  return join(dir, manifest.bin["echo-server"]!);
}

/** Whether this process can bind 127.0.0.1:port now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host: "127.0.0.1", port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** Port 7 when free, else the highest free port below 1024. */
async function privilegedPort(skip: ReadonlySet<number>): Promise<number> {
  if (!skip.has(7) && (await portFree(7))) return 7;
  for (let port = 1023; port > 0; port--) if (!skip.has(port) && (await portFree(port))) return port;
  throw new Error("no free port below 1024 on 127.0.0.1");
}

interface Started {
  child: ChildProcess;
  pid: number;
  dropLine: string;
}

/** Starts `echo-server --user nobody` and waits for its listening and drop lines. */
async function startServer(port: number): Promise<Started | "in-use"> {
  const child = spawn(
    process.execPath,
    [echoServerBin(), "--port", String(port), "--handler", "upper", "--user", "nobody"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  let pid = 0;
  const exited = once(child, "exit");
  for await (const line of lines) {
    const listening = /listening on .* pid (\d+)\)$/.exec(line);
    if (listening) pid = Number(listening[1]);
    else if (pid !== 0 && line.startsWith("echo-server: "))
      return { child, pid, dropLine: line.slice("echo-server: ".length) };
  }
  await exited;
  if (/ECHO_ERR_ADDR_IN_USE/.test(stderr)) return "in-use";
  throw new Error(`echo-server did not start: ${stderr.trim() || `exit code ${child.exitCode}`}`);
}

/** The `Uid:`, `Gid:`, `Groups:` and `Umask:` lines of a process's `/proc/PID/status`. */
export function statusLines(pid: number): string[] {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  return text.split("\n").filter((line) => STATUS_FIELDS.some((field) => line.startsWith(`${field}:`)));
}

/**
 * Runs the step. Not root (or not Linux): returns why it was skipped. A privileged port taken
 * between the check and the server's bind is skipped and another one tried.
 */
export async function privdropStep(): Promise<PrivdropStepResult> {
  if (process.platform !== "linux")
    return { ran: false, reason: `it reads /proc/PID/status, which ${process.platform} does not have` };
  const uid = process.getuid?.();
  if (uid !== 0)
    return {
      ran: false,
      reason: `binding a port below 1024 and dropping to nobody needs root, and this runs as uid ${uid}`,
    };
  const tried = new Set<number>();
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await privilegedPort(tried);
    tried.add(port);
    const started = await startServer(port);
    if (started === "in-use") continue;
    const { child, pid, dropLine } = started;
    try {
      const lines = statusLines(pid);
      const client = await EchoClient.connect({ host: "127.0.0.1", port });
      const reply = (await client.request("dropped to nobody", { timeout: 10_000 })).toString();
      await client.close();
      return { ran: true, port, pid, dropLine, statusLines: lines, reply };
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exit = once(child, "exit");
        child.kill("SIGTERM");
        await exit;
      }
    }
  }
  throw new Error(`every privileged port tried was taken: ${[...tried].join(", ")}`);
}
