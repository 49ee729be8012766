// The echo-server CLI with --user: bind port 7 as root, drop, serve. Spawns the built CLI
// (turbo builds core, and @echo/privdrop before it, ahead of `test`).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const cli = join(packageDir, "dist/cli/echo-server.js");
const isRoot = process.getuid?.() === 0;
const linux = process.platform === "linux";
const needsRoot = isRoot ? "" : ` [skipped: needs root, running as uid ${process.getuid?.() ?? "?"}]`;

interface CliRun {
  child: ChildProcess;
  /** Resolves with the first stdout line matching `pattern`; rejects if the CLI exits first. */
  line(pattern: RegExp): Promise<RegExpMatchArray>;
  stdout(): string;
  stderr(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<CliRun>();
const dirs: string[] = [];

afterEach(async () => {
  const runs = [...running];
  for (const run of runs) run.child.kill("SIGKILL");
  await Promise.all(runs.map((run) => run.exit));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function runCli(args: string[], script = cli): CliRun {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let exited = false;
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void; reject: (e: Error) => void }[] = [];
  const check = (): void => {
    for (const waiter of [...waiters]) {
      const match = stdout
        .split("\n")
        .map((l) => l.match(waiter.pattern))
        .find(Boolean);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    check();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("close", (code, signal) => {
      exited = true;
      running.delete(run);
      check();
      for (const waiter of waiters.splice(0))
        waiter.reject(
          new Error(
            `echo-server exited (${code ?? signal}) before printing ${waiter.pattern}; stdout: ${stdout}; stderr: ${stderr}`,
          ),
        );
      resolve({ code, signal });
    });
  });
  const run: CliRun = {
    child,
    exit,
    stdout: () => stdout,
    stderr: () => stderr,
    line(pattern) {
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve, reject });
        check();
        if (exited && waiters.length > 0) {
          waiters.splice(0);
          reject(new Error(`echo-server exited before printing ${pattern}; stdout: ${stdout}; stderr: ${stderr}`));
        }
      });
    },
  };
  running.add(run);
  return run;
}

/**
 * Starts the CLI on port 7 of 127.0.0.1; if another process on this machine holds that port,
 * retries on other loopback addresses (a bounded number of times).
 */
async function runOnPort7(extra: string[]): Promise<{ run: CliRun; host: string; listening: RegExpMatchArray }> {
  const octet = (): number => 2 + Math.floor(Math.random() * 250);
  const hosts = ["127.0.0.1", `127.${octet()}.${octet()}.${octet()}`, `127.${octet()}.${octet()}.${octet()}`];
  for (const host of hosts) {
    const run = runCli(["--port", "7", "--host", host, ...extra]);
    try {
      return {
        run,
        host,
        listening: await run.line(/^echo-server listening on (\S+) \(model async, handler echo, pid (\d+)\)$/),
      };
    } catch (error) {
      await run.exit;
      if (!/ECHO_ERR_ADDR_IN_USE|EADDRINUSE/.test(run.stderr())) throw error;
    }
  }
  throw new Error(`port 7 is in use on ${hosts.join(", ")}`);
}

function echoRoundTrip(host: string, port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = "";
    socket.setEncoding("utf8");
    socket.on("error", reject);
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (received.length >= payload.length) socket.end();
    });
    socket.on("close", () => resolve(received));
    socket.write(payload);
  });
}

function getentGid(name: string): number | undefined {
  try {
    return Number(execFileSync("getent", ["group", name], { encoding: "utf8" }).split(":")[2]);
  } catch {
    return undefined;
  }
}

function statusLine(pid: number, key: string): string {
  return (
    readFileSync(`/proc/${pid}/status`, "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${key}:`)) ?? ""
  );
}

describe.skipIf(!isRoot || !linux)(`echo-server --user (as root)${needsRoot}`, () => {
  it("binds port 7 as root, drops to nobody, echoes, and exits 0 on SIGTERM", async () => {
    const { run, host, listening } = await runOnPort7(["--user", "nobody"]);
    const pid = run.child.pid!;
    expect(listening[1]).toBe(`${host}:7`);
    expect(Number(listening[2])).toBe(pid);
    const drop = await run.line(
      /^echo-server: dropped privileges: uid 0→65534 \(nobody\), gid 0→(\d+) \((\w+)\), groups \[[\d,]*\]→\[\], umask \d{4}→0007$/,
    );
    const gid = getentGid("nogroup") ?? getentGid("nobody");
    expect(Number(drop[1])).toBe(gid);

    expect(await echoRoundTrip(host, 7, "through the CLI\n")).toBe("through the CLI\n");

    expect(statusLine(pid, "Uid")).toBe("Uid:\t65534\t65534\t65534\t65534");
    expect(statusLine(pid, "Gid")).toBe(`Gid:\t${gid}\t${gid}\t${gid}\t${gid}`);
    expect(statusLine(pid, "Groups")).toMatch(/^Groups:\s*$/);
    expect(statusLine(pid, "Umask")).toBe("Umask:\t0007");

    run.child.kill("SIGTERM");
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.stderr()).toBe("echo-server: SIGTERM, closing\n");
  });

  it("applies --group and --umask", async () => {
    const users = getentGid("users");
    const run = runCli(["--port", "0", "--user", "nobody", "--group", String(users ?? 100), "--umask", "0027"]);
    const drop = await run.line(/^echo-server: dropped privileges: .*, gid 0→(\d+)\b.*umask \d{4}→0027$/);
    expect(Number(drop[1])).toBe(users ?? 100);
    expect(statusLine(run.child.pid!, "Gid")).toBe(`Gid:\t${drop[1]}\t${drop[1]}\t${drop[1]}\t${drop[1]}`);
    expect(statusLine(run.child.pid!, "Umask")).toBe("Umask:\t0027");
  });

  it("exits 1 naming an unknown user, and never serves", async () => {
    const run = runCli(["--port", "0", "--user", "no-such-user-privdrop"]);
    expect((await run.exit).code).toBe(1);
    expect(run.stderr()).toBe(
      'echo-server: error: ECHO_ERR_PRIVDROP_UNKNOWN_USER: unknown user "no-such-user-privdrop": not in the user database (getent passwd, /etc/passwd)\n',
    );
    expect(run.stdout()).toBe("");
  });
});

describe("echo-server without @echo/privdrop installed", () => {
  /** A copy of the built core in a fresh node_modules tree that holds nothing else. */
  function isolatedCore(): string {
    const root = mkdtempSync(join(tmpdir(), "core-no-privdrop-"));
    dirs.push(root);
    const target = join(root, "node_modules", "@echo", "core");
    mkdirSync(target, { recursive: true });
    cpSync(join(packageDir, "dist"), join(target, "dist"), { recursive: true });
    cpSync(join(packageDir, "package.json"), join(target, "package.json"));
    return join(target, "dist/cli/echo-server.js");
  }

  it("explains ECHO_ERR_PRIVDROP_MISSING when --user is given, before binding anything", async () => {
    // The port is taken: a CLI that tried to bind first would fail with ECHO_ERR_ADDR_IN_USE instead.
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen({ host: "127.0.0.1", port: 0 }, resolve));
    const port = (taken.address() as net.AddressInfo).port;
    const run = runCli(["--port", String(port), "--user", "nobody"], isolatedCore());
    const exit = await run.exit;
    await new Promise((resolve) => taken.close(resolve));
    expect(exit.code).toBe(1);
    expect(run.stderr()).toBe(
      "echo-server: error: ECHO_ERR_PRIVDROP_MISSING: --user/--group/--umask need the package @echo/privdrop: npm install @echo/privdrop\n",
    );
    expect(run.stdout()).toBe("");
  });

  it("runs without it when no drop is asked for", async () => {
    const run = runCli(["--port", "0"], isolatedCore());
    await run.line(/^echo-server listening on 127\.0\.0\.1:\d+ /);
    run.child.kill("SIGTERM");
    expect(await run.exit).toEqual({ code: 0, signal: null });
  });
});
