import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { LoadResult } from "@echo/client";
import { closeAll, corrupt, echo, startServer, unusedPort } from "./helpers.js";

const bin = (name: string): string => fileURLToPath(new URL(`../dist/cli/${name}.js`, import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ReturnType<typeof spawn>>();

/** Runs a CLI as a real child process; `input` is piped to its stdin (closed otherwise). */
function run(
  name: string,
  args: string[],
  input?: string | Buffer,
  started?: (child: ReturnType<typeof spawn>) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin(name), ...args], { stdio: ["pipe", "pipe", "pipe"] });
    started?.(child);
    children.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) => {
      children.delete(child);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.end(input);
  });
}

afterEach(async () => {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
  await closeAll();
});

describe("echo-client", () => {
  it("sends the words joined by spaces and prints the echo", async () => {
    const server = await startServer(echo);
    const r = await run("echo-client", [
      "--host",
      "127.0.0.1",
      "--port",
      String(server.port),
      "hello",
      "echo",
      "world",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("hello echo world\n");
  });

  it("sends standard input when no MESSAGE is given", async () => {
    const server = await startServer(echo);
    const r = await run("echo-client", ["--port", String(server.port)], "line one\nline two\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("line one\nline two\n");
  });

  it("talks to a Unix socket with --path", async () => {
    const server = await startServer(echo, "unix");
    const r = await run("echo-client", ["--path", server.path as string, "over", "unix"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("over unix\n");
  });

  it("exits 1 with a clear error when the connection is refused", async () => {
    const port = await unusedPort();
    const r = await run("echo-client", ["--port", String(port), "hi"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      new RegExp(`^echo-client: connection refused by 127\\.0\\.0\\.1:${port} .*\\(ECHO_ERR_CONNECT_REFUSED\\)\\n$`),
    );
  });

  it("exits 1 with ECHO_ERR_TIMEOUT when the server never closes", async () => {
    const server = await startServer(() => undefined);
    const r = await run("echo-client", ["--port", String(server.port), "--timeout", "500", "hi"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/timed out after 500 ms \(ECHO_ERR_TIMEOUT\)/);
  });

  it("exits 2 on bad arguments", async () => {
    const missing = await run("echo-client", ["hi"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--port or --path is required/);
    const bad = await run("echo-client", ["--port", "abc", "hi"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--port must be a non-negative integer, got "abc" \(ECHO_ERR_INVALID_ARG\)/);
    const unknown = await run("echo-client", ["--bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/bogus/);
  });

  it("--help prints usage", async () => {
    const r = await run("echo-client", ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: echo-client/);
    expect(r.stdout).toContain("--timeout MS");
  });
});

describe("echo-load", () => {
  it("--json prints one JSON object with the run's numbers", async () => {
    const server = await startServer(echo);
    const r = await run("echo-load", [
      "--port",
      String(server.port),
      "-c",
      "4",
      "-n",
      "2000",
      "-s",
      "1k",
      "--threads",
      "2",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] as string) as LoadResult;
    expect(result.roundTrips).toBe(2000);
    expect(result.size).toBe(1024);
    expect(result.connections).toBe(4);
    expect(result.threads).toBe(2);
    expect(result.mismatches).toBe(0);
    expect(result.errors).toBe(0);
    expect(result.latency.p999).toBeGreaterThanOrEqual(result.latency.p50);
  });

  it("prints a human report (no progress line when stdout is not a TTY)", async () => {
    const server = await startServer(echo);
    const r = await run("echo-load", ["-p", String(server.port), "-c", "2", "-d", "0.3", "--new-connection"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^echo-load 127\.0\.0\.1:\d+: 2 connection\(s\), 64 B payload, pipeline 1, new connection per round trip/,
    );
    expect(r.stdout).toMatch(/round trips\/s/);
    expect(r.stdout).not.toContain("\r");
  });

  it("exits 1 and says so when the echo is corrupted", async () => {
    const server = await startServer(corrupt);
    const r = await run("echo-load", ["-p", String(server.port), "-c", "2", "-n", "50", "--json"]);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as LoadResult).mismatches).toBe(50);
    expect(r.stderr).toMatch(/50 mismatch\(es\)/);
  });

  it("exits 1 when the server is not there", async () => {
    const port = await unusedPort();
    const r = await run("echo-load", ["-p", String(port), "-d", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\(ECHO_ERR_CONNECT_REFUSED\)/);
  });

  it("refuses runs past the caps, naming the flag", async () => {
    const long = await run("echo-load", ["-p", "9", "--duration", "601"]);
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/^echo-load: --duration must be at most 600 seconds/);
    const many = await run("echo-load", ["-p", "9", "--connections", "20001"]);
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(/^echo-load: --connections must be at most 20000/);
    const size = await run("echo-load", ["-p", "9", "--size", "12q"]);
    expect(size.code).toBe(2);
    expect(size.stderr).toMatch(/--size must be a byte count such as 64, 4k or 8M, got "12q"/);
  });

  it("Ctrl-C (SIGINT) stops the run and still prints the result", async () => {
    // The server has received 6400 bytes: a connection sends its next payload only after the
    // echo of the previous one came back, so about a hundred round trips are complete.
    let received = 0;
    let busy!: () => void;
    const loaded = new Promise<void>((resolve) => (busy = resolve));
    const server = await startServer((socket) =>
      socket.on("data", (chunk: Buffer) => {
        socket.write(chunk);
        if ((received += chunk.length) >= 6400) busy();
      }),
    );
    let child: ReturnType<typeof spawn> | undefined;
    const running = run(
      "echo-load",
      ["-p", String(server.port), "-c", "3", "-d", "60", "--json"],
      undefined,
      (c) => (child = c),
    );
    await loaded;
    child?.kill("SIGINT");
    const r = await running;
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as LoadResult;
    expect(result.stoppedBy).toBe("aborted");
    expect(result.roundTrips).toBeGreaterThan(90);
    expect(result.elapsed).toBeLessThan(60);
  });

  const hasScript = spawnSync("script", ["--version"]).status === 0;
  it.skipIf(!hasScript)("draws a progress line when stdout is a TTY (under script(1))", async () => {
    const server = await startServer(echo);
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin("echo-load"))} -p ${server.port} -c 2 -d 2.2`;
    const r = await new Promise<Run>((resolve, reject) => {
      const child = spawn("script", ["-qec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
      children.add(child);
      const out: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.on("error", reject);
      child.on("close", (code) => {
        children.delete(child);
        resolve({ code, stdout: Buffer.concat(out).toString(), stderr: "" });
      });
      child.stdin.end();
    });
    expect(r.code).toBe(0);
    const clear = "\r\u001b[2K"; // carriage return + erase line, before each redraw
    expect(r.stdout).toMatch(/ {2}1\.\d s {2}[\d,]+ round trips {2}[\d,]+\/s {2}errors 0 {2}mismatches 0/);
    expect(r.stdout).toContain(`${clear}  1.`);
    expect(r.stdout).toContain(`${clear}echo-load 127.0.0.1:${server.port}: 2 connection(s)`);
  });

  it("--help prints usage", async () => {
    const r = await run("echo-load", ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: echo-load/);
    expect(r.stdout).toContain("--pipeline DEPTH");
  });
});
