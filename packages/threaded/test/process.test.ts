import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { LineClient, fixture, openUntilEveryThread } from "./helpers.js";

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** Runs a node script; resolves with its exit code and output, or fails if it outlives `ms`. */
async function run(
  args: string[],
  ms = 30_000,
  options: { uid?: number; gid?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
  clearTimeout(timer);
  if (signal)
    throw new Error(
      `the process did not exit by itself within ${ms} ms (killed by ${signal}); stdout: ${stdout}; stderr: ${stderr}`,
    );
  return { code, stdout, stderr };
}

const script = fixture("serve-and-close.mjs");

describe("process lifetime", () => {
  it.each(["auto", "shared"])("a process that serves and closes (accept %s) exits by itself", async (accept) => {
    const { code, stdout, stderr } = await run([script, accept]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { replies: string[] };
    expect(result).toMatchObject({ ok: true, stats: { accepted: 5, active: 0, closed: 5 } });
    expect(result.replies).toHaveLength(4);
    for (const reply of result.replies) expect(reply).toMatch(/^Thread-[12]: hello \d$/);
  });

  it("a process whose listen() fails on the handler exits by itself", async () => {
    const { code, stdout } = await run([script, "auto", fixture("throws-at-load.mjs")]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      ok: false,
      code: "ECHO_ERR_HANDLER_LOAD",
      message: expect.stringContaining("broken at load"),
    });
  });
});

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

describe("echo-threaded CLI", () => {
  it("listens with --threads, answers from each thread, and closes on SIGTERM", async () => {
    const child = spawn(process.execPath, [cli, "--threads", "2", "--port", "0", "--handler", "whoami"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stdout = "";
    child.stdout.setEncoding("utf8");
    const line = await new Promise<string>((resolve) => {
      child.stdout.on("data", (d: string) => {
        stdout += d;
        if (stdout.includes("\n")) resolve(stdout.split("\n")[0]!);
      });
    });
    expect(line).toMatch(
      /^echo-threaded listening on 127\.0\.0\.1:\d+ \(model threaded \(2 threads, accept (reusePort|shared)\), handler whoami, pid \d+\)$/,
    );
    const port = Number(/:(\d+) /.exec(line)![1]);
    const client = await LineClient.open(port);
    expect(await client.request("cli")).toMatch(/^Thread-[12]: cli$/);
    client.close();
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });

  it.each([
    // A bad flag value is a usage error (exit 2), as for every server CLI's flags.
    [["--threads", "0"], 2, '--threads must be an integer from 1 to 1024, got "0"'],
    [["--threads", "many"], 2, '--threads must be an integer from 1 to 1024, got "many"'],
    [["--path", "/tmp/echo-threaded.sock"], 1, "options.path is not supported by ThreadedServer"],
  ])("refuses %j", async (args, expected, message) => {
    const { code, stderr } = await run([cli, ...args]);
    expect(code).toBe(expected);
    expect(stderr).toContain(message);
  });

  it("documents --threads in --help", async () => {
    const { code, stdout } = await run([cli, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--threads N\s+serving threads/);
  });
});

describe("binding errors", () => {
  it.runIf(process.platform === "linux")(
    "a port below 1024 without privileges fails with PermissionDeniedError",
    async () => {
      const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const { code, stdout } = await run([fixture("listen-low-port.mjs")], 30_000, asNobody);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({
        name: "PermissionDeniedError",
        code: "ECHO_ERR_PERMISSION_DENIED",
        message: expect.stringContaining("ports below 1024"),
      });
    },
  );
});

describe("privileges", () => {
  // What the CLI does with --user: drop in the main thread once every thread listens. A thread
  // replaced afterwards must still get a listener as the unprivileged user.
  it.runIf(process.getuid?.() === 0).each(["auto", "shared"])(
    "replaces a crashed thread after dropping root (accept %s)",
    async (accept) => {
      const { code, stdout, stderr } = await run([fixture("drop-and-crash.mjs"), accept]);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({
        ok: true,
        uid: 65534,
        before: ["Thread-1", "Thread-2"],
        after: ["Thread-1", "Thread-2"],
      });
    },
  );
});

describe("echo-threaded --user", () => {
  // The CLI binds a port below 1024 as root in every thread, then drops in the main thread once
  // every thread listens; the drop is process-wide, so every thread then runs as nobody.
  it.runIf(process.getuid?.() === 0 && process.platform === "linux")(
    "binds a low port as root, drops every thread to nobody, and serves from each",
    async () => {
      const host = `127.${2 + Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
      const child = spawn(
        process.execPath,
        [cli, "--threads", "2", "--host", host, "--port", "7", "--handler", "whoami", "--user", "nobody"],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      children.push(child);
      let stdout = "";
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.stdout.setEncoding("utf8");
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d: string) => {
          stdout += d;
          if (stdout.split("\n").length > 2) resolve();
        });
        child.once("exit", () => reject(new Error(`the CLI exited: ${stdout} ${stderr}`)));
      });
      const [listening, dropped] = stdout.split("\n");
      expect(listening).toMatch(
        new RegExp(
          `^echo-threaded listening on ${host.replaceAll(".", "\\.")}:7 \\(model threaded \\(2 threads, accept (reusePort|shared)\\), handler whoami, pid \\d+\\)$`,
        ),
      );
      expect(dropped).toMatch(/^echo-threaded: dropped privileges: uid 0→65534 \(nobody\)/);
      const tasks = readdirSync(`/proc/${child.pid}/task`);
      expect(tasks.length).toBeGreaterThan(2);
      for (const task of tasks) {
        const uid = readFileSync(`/proc/${child.pid}/task/${task}/status`, "utf8")
          .split("\n")
          .find((l) => l.startsWith("Uid:"));
        expect(uid, `thread ${task}`).toBe("Uid:\t65534\t65534\t65534\t65534");
      }
      const { clients, names } = await openUntilEveryThread(7, 2, 200, 10, host);
      clients.forEach((c) => c.close());
      expect(new Set(names)).toEqual(new Set(["Thread-1", "Thread-2"]));
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      expect(code).toBe(0);
    },
  );
});
