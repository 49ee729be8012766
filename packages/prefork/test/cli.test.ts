// echo-prefork as a user runs it: a real master process, real signals.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { LineClient, childrenOf, expectNoOrphans, fixture, isAlive, roundTrip, whoami } from "./helpers.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

interface Cli {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  waitOut(stream: "stdout" | "stderr", pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

const started: Cli[] = [];

function run(args: string[]): Cli {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const out = { stdout: "", stderr: "" };
  const waiters: { stream: "stdout" | "stderr"; pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      const m = out[w.stream].match(w.pattern);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  for (const stream of ["stdout", "stderr"] as const) {
    child[stream].setEncoding("utf8");
    child[stream].on("data", (d: string) => {
      out[stream] += d;
      check();
    });
  }
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const cli: Cli = {
    child,
    out,
    exited,
    waitOut: (stream, pattern) =>
      new Promise((resolve, reject) => {
        waiters.push({ stream, pattern, resolve });
        check();
        void exited.then(() =>
          setImmediate(() => reject(new Error(`exited before ${pattern}: ${JSON.stringify(out)}`))),
        );
      }),
  };
  started.push(cli);
  return cli;
}

afterEach(async () => {
  for (const cli of started.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill("SIGKILL");
      await cli.exited;
    }
  }
});

async function listening(cli: Cli): Promise<number> {
  const [, port] = await cli.waitOut("stdout", /listening on 127\.0\.0\.1:(\d+) \(model prefork/);
  return Number(port);
}

describe("echo-prefork", () => {
  it("SIGTTIN/SIGTTOU change the worker count, SIGHUP reloads, SIGTERM shuts down with per-worker counts; no orphan", async () => {
    const cli = run(["--workers", "2", "--handler", "whoami", "--schedule", "round-robin"]);
    const port = await listening(cli);
    expect(cli.out.stdout).toMatch(/\(model prefork \(2 workers, schedule round-robin\), handler whoami, pid \d+\)/);
    const first = childrenOf(cli.child.pid!);
    expect(first.length).toBe(2);
    const seen = new Set(first);

    cli.child.kill("SIGTTIN");
    await cli.waitOut("stderr", /SIGTTIN\necho-prefork: 3 workers\n/);
    expect(childrenOf(cli.child.pid!).length).toBe(3);
    cli.child.kill("SIGTTOU");
    await cli.waitOut("stderr", /SIGTTOU\necho-prefork: 2 workers\n/);
    expect(childrenOf(cli.child.pid!).length).toBe(2);
    for (const pid of childrenOf(cli.child.pid!)) seen.add(pid);

    const before = childrenOf(cli.child.pid!);
    cli.child.kill("SIGHUP");
    await cli.waitOut("stderr", /reloaded: Process-\d+ pid \d+, Process-\d+ pid \d+\n/);
    const after = childrenOf(cli.child.pid!);
    expect(after.length).toBe(2);
    for (const pid of before) expect(after).not.toContain(pid);
    for (const pid of after) seen.add(pid);
    expect(await whoami(port)).toMatch(/^Process-\d+$/);

    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    expect(cli.out.stderr).toMatch(
      /SIGTERM, closing\necho-prefork: \d+ connections; per worker: Process-\d+ \d+, Process-\d+ \d+\n/,
    );
    expectNoOrphans(seen);
  });

  it("SIGQUIT: quick shutdown closes open connections at once", async () => {
    const cli = run(["--workers", "1"]);
    const port = await listening(cli);
    const workers = childrenOf(cli.child.pid!);
    const client = await LineClient.open(port);
    expect(await client.ask("hi")).toBe("hi");
    cli.child.kill("SIGQUIT");
    await client.done;
    expect(await cli.exited).toBe(0);
    expect(cli.out.stderr).toMatch(/SIGQUIT, quick shutdown/);
    expectNoOrphans(workers);
  });

  it("SIGKILL of the master: workers notice the lost channel and exit (no orphans)", async () => {
    const cli = run(["--workers", "2"]);
    const port = await listening(cli);
    const workers = childrenOf(cli.child.pid!);
    expect((await roundTrip(port, "x")).toString()).toBe("x");
    cli.child.kill("SIGKILL");
    await cli.exited;
    // Reparented workers send no event anyone can wait for: poll /proc (bounded by the test timeout).
    while (workers.some(isAlive)) await new Promise((r) => setTimeout(r, 50));
    expectNoOrphans(workers);
  });

  it("a handler that fails at boot: exit 1 with the typed error", async () => {
    const cli = run(["--workers", "2", "--handler", fixture("throws-at-import.mjs")]);
    expect(await cli.exited).toBe(1);
    expect(cli.out.stderr).toMatch(
      /^echo-prefork: error: ECHO_ERR_HANDLER_LOAD: cannot load handler ".*throws-at-import\.mjs": importing .* failed: boom at import\n$/,
    );
  });

  it("bad flags: a message naming the flag", async () => {
    // A bad flag value is a usage error (exit 2), as for every server CLI's flags.
    const cli = run(["--workers", "0"]);
    expect(await cli.exited).toBe(2);
    expect(cli.out.stderr).toBe(
      'echo-prefork: --workers must be an integer from 1 to 1024, got "0"\necho-prefork: try --help\n',
    );
    const schedule = run(["--schedule", "fifo"]);
    expect(await schedule.exited).toBe(2);
    expect(schedule.out.stderr).toMatch(/--schedule must be one of os, round-robin, got "fifo"/);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "--user nobody: every worker drops and says so; the master stays root",
    async () => {
      const cli = run(["--workers", "2", "--user", "nobody", "--handler", fixture("uid.mjs")]);
      const port = await listening(cli);
      await cli.waitOut(
        "stdout",
        /(Process-\d+ \(pid \d+\): dropped privileges: uid 0→65534 \(nobody\)[^\n]*\n[\s\S]*){2}/,
      );
      expect((await roundTrip(port, "?")).toString()).toMatch(/^Process-\d+ 65534:/);
      const status = readFileSync(`/proc/${cli.child.pid}/status`, "utf8");
      expect(status).toMatch(/^Uid:\s+0\s/m);
      cli.child.kill("SIGTERM");
      expect(await cli.exited).toBe(0);
    },
  );

  it("--help lists the prefork flags", async () => {
    const cli = run(["--help"]);
    expect(await cli.exited).toBe(0);
    expect(cli.out.stdout).toMatch(/--workers N/);
    expect(cli.out.stdout).toMatch(/--schedule os\|round-robin/);
    expect(cli.out.stdout).toMatch(/SIGHUP zero-downtime reload/);
  });
});
