/**
 * The `--metrics` and `--log-format` checks every server CLI passes: a real run of each, and the
 * usage error of a bad `--metrics` value. A package calls `cliObservabilitySuite(cli)` from its
 * CLI test file, after building (the CLIs run from dist/).
 */
import { Buffer } from "node:buffer";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { open, readExactly, write } from "./net-helpers.js";
import { expectLogLine, get, parseMetrics } from "./observability.js";

/** A server CLI under test. */
export interface CliTarget {
  /** The command name, e.g. `echo-threaded`. */
  name: string;
  /** Absolute path of its built entry (dist/…js). */
  entry: string;
  /** Flags it needs besides the suite's (e.g. `--threads 2`, `--workers 2`). */
  args?: readonly string[];
  /** The `model` label. */
  model: string;
}

interface Run {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stdout line matching `pattern`. */
  line(pattern: RegExp): Promise<string>;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

function run(target: CliTarget, args: readonly string[]): Run {
  const child = spawn(process.execPath, [target.entry, ...(target.args ?? []), ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      const found = out.split("\n").find((l) => w.pattern.test(l));
      if (found !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(found);
      }
    }
  };
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (d: string) => {
    out += d;
    check();
  });
  child.stderr.on("data", (d: string) => (err += d));
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        check();
        void exited.then(() =>
          reject(new Error(`${target.name} exited before printing ${String(pattern)}; stdout: ${out}; stderr: ${err}`)),
        );
      }),
  };
}

async function echoOnce(port: number): Promise<void> {
  const socket = await open({ host: "127.0.0.1", port });
  const payload = Buffer.from("observability\n");
  await write(socket, payload);
  expect((await readExactly(socket, payload.length)).equals(payload)).toBe(true);
  socket.end();
  await once(socket, "close");
}

/** Registers the `--metrics` / `--log-format` tests for one CLI. */
export function cliObservabilitySuite(target: CliTarget): void {
  describe(`${target.name} --metrics and --log-format`, () => {
    const runs: Run[] = [];
    afterEach(() => {
      for (const r of runs.splice(0))
        if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
    });

    it.each(["nope", "127.0.0.1", "::1:9464", "127.0.0.1:70000", ""])(
      "a bad --metrics %j is a usage error (exit 2) saying what was expected",
      async (value) => {
        const r = run(target, ["--port", "0", "--metrics", value]);
        runs.push(r);
        const [code] = await r.exited;
        expect(code).toBe(2);
        expect(r.stderr()).toContain(`${target.name}: --metrics must be PORT, HOST:PORT or [IPV6]:PORT`);
      },
    );

    it("a bad --log-format is a usage error (exit 2)", async () => {
      const r = run(target, ["--port", "0", "--log-format", "yaml"]);
      runs.push(r);
      const [code] = await r.exited;
      expect(code).toBe(2);
      expect(r.stderr()).toContain("--log-format must be one of text, json");
    });

    it(
      "--metrics 127.0.0.1:0 serves /metrics, /healthz, /readyz and /stats on loopback",
      { timeout: 60_000 },
      async () => {
        const r = run(target, ["--port", "0", "--metrics", "127.0.0.1:0"]);
        runs.push(r);
        const listening = await r.line(/ listening on /);
        const port = Number(/:(\d+) \(/.exec(listening)![1]);
        const metricsLine = await r.line(/ metrics on http:/);
        expect(metricsLine).toMatch(new RegExp(`^${target.name} metrics on http://127\\.0\\.0\\.1:\\d+/metrics$`));
        const where = { host: "127.0.0.1", port: Number(/:(\d+)\/metrics$/.exec(metricsLine)![1]) };
        await echoOnce(port);
        const deadline = Date.now() + 15_000;
        let closed = -1;
        while (closed !== 1 && Date.now() < deadline) {
          const samples = parseMetrics((await get(where, "/metrics")).body);
          closed =
            samples.find((s) => s.name === "echo_connections_closed_total" && s.labels.worker === "all")?.value ?? -1;
          if (closed !== 1) await new Promise((resolve) => setTimeout(resolve, 25));
        }
        expect(closed).toBe(1);
        const samples = parseMetrics((await get(where, "/metrics")).body);
        expect(
          samples.find((s) => s.name === "echo_connections_accepted_total" && s.labels.worker === "all"),
        ).toMatchObject({ labels: { model: target.model }, value: 1 });
        expect((await get(where, "/healthz")).status).toBe(200);
        expect((await get(where, "/readyz")).status).toBe(200);
        expect(JSON.parse((await get(where, "/stats")).body)).toMatchObject({ accepted: 1, closed: 1 });
        r.child.kill("SIGTERM");
        const [code] = await r.exited;
        expect(code).toBe(0);
      },
    );

    it(
      "--log-format json writes one JSON object per line: listening, connection, drain, exit",
      { timeout: 60_000 },
      async () => {
        const r = run(target, ["--port", "0", "--log-format", "json", "--log-connections"]);
        runs.push(r);
        const listening = JSON.parse(await r.line(/"event":"listening"/)) as { address: string };
        const port = Number(/:(\d+)$/.exec(listening.address)![1]);
        await echoOnce(port);
        await r.line(/"event":"connection"/);
        r.child.kill("SIGTERM");
        const [code] = await r.exited;
        expect(code).toBe(0);
        const lines = `${r.stdout()}${r.stderr()}`.split("\n").filter((l) => l !== "");
        const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        for (const line of parsed) expectLogLine(line, target.model);
        const events = parsed.map((l) => l.event);
        for (const event of ["listening", "connection", "drain", "exit"]) expect(events).toContain(event);
      },
    );
  });
}
