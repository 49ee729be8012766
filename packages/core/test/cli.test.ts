import { spawn, type ChildProcessByStdio } from "node:child_process";
import { once } from "node:events";
import type { Readable } from "node:stream";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { collect, open, readExactly, roundTrip } from "@echo/conformance";

const cli = fileURLToPath(new URL("../dist/cli/echo-server.js", import.meta.url));
type Child = ChildProcessByStdio<null, Readable, Readable>;
const children: Child[] = [];

interface Run {
  child: Child;
  lines: AsyncIterator<string>;
  stderr: () => string;
  /** The exit code, recorded from the start so an early exit is never missed. */
  exited: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const exited = once(child, "exit").then(([code]) => code as number | null);
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return { child, lines, stderr: () => err, exited };
}

async function listening(lines: AsyncIterator<string>): Promise<{ host: string; port: number; line: string }> {
  const next = await lines.next();
  const line = next.done === true ? undefined : next.value;
  const match = /^echo-server listening on (127\.0\.0\.1):(\d+) \(model (\w+), handler ([\w-]+), pid (\d+)\)$/.exec(
    line ?? "",
  );
  expect(match, line).not.toBeNull();
  return { host: match![1]!, port: Number(match![2]), line: line! };
}

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

describe("echo-server CLI", () => {
  it("prints one listening line, serves, and exits 0 on SIGTERM", async () => {
    const { child, lines, exited } = run(["--port", "0", "--mode", "async"]);
    const { host, port, line } = await listening(lines);
    expect(line).toContain(`(model async, handler echo, pid ${child.pid})`);
    expect((await roundTrip({ host, port }, "via cli")).toString()).toBe("via cli");
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("exits 0 on SIGINT too", async () => {
    const { child, lines, exited } = run(["--port", "0"]);
    await listening(lines);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("--mode once serves one connection and exits by itself", async () => {
    const { lines, exited } = run(["--port", "0", "--mode", "once", "--handler", "upper"]);
    const { host, port } = await listening(lines);
    expect((await roundTrip({ host, port }, "once")).toString()).toBe("ONCE");
    expect(await exited).toBe(0);
  });

  it("--log-connections prints Connected by with the client's address", async () => {
    const { child, lines, exited } = run(["--port", "0", "--log-connections", "--mode", "iterative"]);
    const { host, port } = await listening(lines);
    const socket = await open({ host, port });
    socket.write("x");
    await readExactly(socket, 1);
    const { value } = await lines.next();
    expect(value).toBe(`Connected by 127.0.0.1:${socket.localPort}`);
    const done = collect(socket);
    socket.end();
    await done;
    child.kill("SIGTERM");
    await exited;
  });

  it("a bad flag exits 2 naming the flag", async () => {
    const { exited, stderr } = run(["--max-buffered", "12"]);
    expect(await exited).toBe(2);
    expect(stderr()).toContain("--max-buffered must be an integer from 1024");
  });

  it("a port in use exits 1 with ECHO_ERR_ADDR_IN_USE", async () => {
    const first = run(["--port", "0"]);
    const { port } = await listening(first.lines);
    const second = run(["--port", String(port)]);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(`error: ECHO_ERR_ADDR_IN_USE: address 127.0.0.1:${port} is already in use`);
    first.child.kill("SIGTERM");
    await first.exited;
  });

  it("--help lists the common flags", async () => {
    const { lines, exited } = run(["--help"]);
    const out: string[] = [];
    for (let r = await lines.next(); !r.done; r = await lines.next()) out.push(r.value);
    expect(await exited).toBe(0);
    const text = out.join("\n");
    for (const flag of [
      "--mode once|iterative|async",
      "--host",
      "--port",
      "--path",
      "--handler",
      "--max-connections",
      "--idle-timeout",
      "--max-buffered",
      "--close-timeout",
      "--log-connections",
      "--user",
      "--group",
      "--umask",
    ]) {
      expect(text).toContain(flag);
    }
  });
});
