// The real thing in front of three models: HAProxy (`mode tcp`, PROXY v2 to every backend, health
// checks that send a PROXY header too) balancing core async, prefork and selector. Clients bind
// 127.0.0.2…127.0.0.9, every echo is byte-exact, every backend logs the real client address.
// Then one backend is SIGKILLed under load (failures ≤ the connections it held; HAProxy routes the
// rest), and one is drained through the runtime API and SIGTERMed without losing a byte.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ensureDebianPackages, freePort } from "@echo/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const { found, missing } = ensureDebianPackages([{ command: "haproxy", package: "haproxy" }]);
const haproxyPath = found.haproxy;

const require = createRequire(import.meta.url);
const bin = (pkg: string, file: string): string => join(dirname(require.resolve(`${pkg}/package.json`)), file);

interface Backend {
  name: string;
  /** What the whoami handler prefixes replies with on this backend. */
  worker: RegExp;
  port: number;
  child: ChildProcess;
  log: string;
}

const clientAddresses = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);

function waitFor(child: ChildProcess, text: RegExp, output: () => string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${output()}`)), 30_000);
    const check = (): void => {
      if (text.test(output())) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", check);
    child.stderr?.on("data", check);
    child.once("exit", () => reject(new Error(`${what} exited: ${output()}`)));
    check();
  });
}

async function startBackend(name: string, script: string, args: string[], worker: RegExp): Promise<Backend> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      script,
      "--port",
      String(port),
      "--handler",
      "whoami",
      "--proxy-protocol",
      "--trusted-proxies",
      "127.0.0.1",
      "--log-connections",
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const backend: Backend = { name, worker, port, child, log: "" };
  child.stdout.on("data", (d: Buffer) => (backend.log += d.toString()));
  child.stderr.on("data", (d: Buffer) => (backend.log += d.toString()));
  await waitFor(child, / listening on /, () => backend.log, name);
  return backend;
}

/** One runtime API command on HAProxy's admin socket; resolves with the answer. */
function admin(path: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ path });
    let out = "";
    s.on("data", (d: Buffer) => (out += d.toString()));
    s.on("error", reject);
    s.on("close", () => resolve(out));
    s.end(`${command}\n`);
  });
}

/** A client connection through HAProxy from `localAddress`, speaking whoami. */
class Conn {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  closed = false;
  worker = "";
  private constructor(readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, d]);
      this.waiter?.();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.waiter?.();
    });
  }
  static open(port: number, localAddress: string): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port, localAddress });
      s.once("connect", () => resolve(new Conn(s)));
      s.once("error", reject);
    });
  }
  /** Sends a random payload; resolves with true when the reply is `<worker>: <payload>` exactly. */
  async exchange(size = 1024): Promise<boolean> {
    if (this.closed) return false;
    const payload = randomBytes(size);
    this.buffered = Buffer.alloc(0);
    this.socket.write(payload);
    const deadline = Date.now() + 10_000;
    // The worker prefix ends at ": "; the reply is complete at prefix + payload length.
    for (;;) {
      const at = this.buffered.indexOf(": ");
      if (at >= 0 && this.buffered.length >= at + 2 + size) break;
      if (this.closed || Date.now() > deadline) return false;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 1000).unref();
      });
    }
    const at = this.buffered.indexOf(": ");
    const worker = this.buffered.subarray(0, at).toString();
    const body = this.buffered.subarray(at + 2);
    if (this.worker === "") this.worker = worker;
    return worker === this.worker && body.equals(payload);
  }
  close(): void {
    this.socket.end();
  }
}

describe.skipIf(haproxyPath === undefined)("behind HAProxy (send-proxy-v2, health checks)", () => {
  let dir: string;
  let frontPort: number;
  let haproxy: ChildProcess;
  let haproxyLog = "";
  let backends: Backend[] = [];
  const sock = (): string => join(dir, "admin.sock");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "echo-haproxy-"));
    backends = await Promise.all([
      startBackend("async", bin("@echo/core", "dist/cli/echo-server.js"), ["--mode", "async"], /^MainThread$/),
      startBackend("prefork", bin("@echo/prefork", "dist/cli.js"), ["--workers", "2"], /^Process-\d+$/),
      startBackend("selector", bin("@echo/selector", "dist/cli.js"), [], /^SelectorThread$/),
    ]);
    frontPort = await freePort();
    const servers = backends
      .map((b) => `  server ${b.name} 127.0.0.1:${b.port} send-proxy-v2 check check-send-proxy inter 200 fall 2 rise 1`)
      .join("\n");
    writeFileSync(
      join(dir, "haproxy.cfg"),
      `global
  stats socket ${sock()} mode 600 level admin
  maxconn 1000
defaults
  mode tcp
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch
frontend echo
  bind 127.0.0.1:${frontPort}
  default_backend b
backend b
  balance roundrobin
${servers}
`,
    );
    // The configuration passes HAProxy's own check.
    expect(spawnSync(haproxyPath!, ["-c", "-f", join(dir, "haproxy.cfg")], { stdio: "ignore" }).status).toBe(0);
    haproxy = spawn(haproxyPath!, ["-db", "-f", join(dir, "haproxy.cfg")], { stdio: ["ignore", "pipe", "pipe"] });
    haproxy.stdout!.on("data", (d: Buffer) => (haproxyLog += d.toString()));
    haproxy.stderr!.on("data", (d: Buffer) => (haproxyLog += d.toString()));
    // Every backend UP by its PROXY health check (bounded: 100 × 100 ms).
    for (let i = 0; ; i++) {
      const stat = await admin(sock(), "show stat").catch(() => "");
      const up = stat.split("\n").filter((l) => l.startsWith("b,") && /,UP,/.test(l) && !l.startsWith("b,BACKEND"));
      if (up.length === 3) break;
      if (i > 100 || haproxy.exitCode !== null) throw new Error(`backends not UP: ${stat}\n${haproxyLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    haproxy?.kill("SIGKILL");
    await Promise.all(
      backends.map((b) =>
        b.child.exitCode !== null || b.child.signalCode !== null
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              b.child.once("exit", () => resolve());
              b.child.kill("SIGKILL");
            }),
      ),
    );
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const byName = (name: string): Backend => backends.find((b) => b.name === name)!;
  const backendOf = (worker: string): Backend | undefined => backends.find((b) => b.worker.test(worker));

  it("balances clients from 127.0.0.2…9 over the three models, byte-exact, each logging the real client address", async () => {
    const conns = await Promise.all(
      Array.from({ length: 24 }, (_, i) => Conn.open(frontPort, clientAddresses[i % 8]!)),
    );
    for (let round = 0; round < 3; round++) {
      const ok = await Promise.all(conns.map((c) => c.exchange(512 + round * 4096)));
      expect(ok.every(Boolean)).toBe(true);
    }
    const served = new Set(conns.map((c) => backendOf(c.worker)?.name));
    expect([...served].sort()).toEqual(["async", "prefork", "selector"]);
    for (const c of conns) {
      const b = backendOf(c.worker)!;
      // The backend saw the client's own address and port, not HAProxy's.
      expect(b.log).toContain(`Connected by ${c.socket.localAddress}:${c.socket.localPort}`);
    }
    for (const c of conns) c.close();
  });

  it("a SIGKILLed backend costs at most the connections it held; HAProxy routes the rest", async () => {
    const victim = byName("selector");
    const conns = await Promise.all(
      Array.from({ length: 30 }, (_, i) => Conn.open(frontPort, clientAddresses[i % 8]!)),
    );
    expect((await Promise.all(conns.map((c) => c.exchange()))).every(Boolean)).toBe(true);
    const onVictim = conns.filter((c) => victim.worker.test(c.worker)).length;
    victim.child.kill("SIGKILL");
    await new Promise<void>((resolve) =>
      victim.child.exitCode !== null || victim.child.signalCode !== null
        ? resolve()
        : victim.child.once("exit", () => resolve()),
    );
    const after = await Promise.all(conns.map((c) => c.exchange()));
    const failed = after.filter((ok) => !ok).length;
    // New connections keep coming while HAProxy notices: each is served by a survivor.
    const fresh = await Promise.all(
      Array.from({ length: 20 }, (_, i) => Conn.open(frontPort, clientAddresses[i % 8]!)),
    );
    const freshOk = await Promise.all(fresh.map((c) => c.exchange()));
    console.log(
      `[echo] failover: ${onVictim} of 30 connections were on the killed backend (${victim.name}); ${failed} failed; ${freshOk.filter(Boolean).length} of 20 new connections served by the others`,
    );
    expect(onVictim).toBeGreaterThan(0);
    expect(failed).toBeLessThanOrEqual(onVictim);
    expect(freshOk.every(Boolean)).toBe(true);
    expect(fresh.every((c) => !victim.worker.test(c.worker))).toBe(true);
    for (const c of [...conns, ...fresh]) c.close();
  });

  it("draining a backend in HAProxy, then SIGTERMing it, loses no bytes", async () => {
    const victim = byName("prefork");
    const conns = await Promise.all(
      Array.from({ length: 16 }, (_, i) => Conn.open(frontPort, clientAddresses[i % 8]!)),
    );
    expect((await Promise.all(conns.map((c) => c.exchange()))).every(Boolean)).toBe(true);
    const onVictim = conns.filter((c) => victim.worker.test(c.worker));
    expect(onVictim.length).toBeGreaterThan(0);
    expect(await admin(sock(), `set server b/${victim.name} state drain`)).toBe("\n");
    // New connections go elsewhere now.
    const fresh = await Promise.all(Array.from({ length: 8 }, (_, i) => Conn.open(frontPort, clientAddresses[i]!)));
    expect((await Promise.all(fresh.map((c) => c.exchange()))).every(Boolean)).toBe(true);
    expect(fresh.every((c) => !victim.worker.test(c.worker))).toBe(true);
    const exited = new Promise<number | null>((resolve) => victim.child.once("exit", (code) => resolve(code)));
    victim.child.kill("SIGTERM");
    // Connections open on the draining backend finish their exchanges, byte-exact, then close.
    for (let round = 0; round < 3; round++)
      expect((await Promise.all(conns.map((c) => c.exchange(8192)))).every(Boolean)).toBe(true);
    for (const c of [...conns, ...fresh]) c.close();
    expect(await exited).toBe(0);
    console.log(
      `[echo] drain: ${onVictim.length} of 16 connections were on the drained backend (${victim.name}); all finished byte-exact before it exited 0`,
    );
  });
});

if (haproxyPath === undefined)
  console.error(
    `[echo] haproxy stays missing: ${missing.map((m) => m.reason).join("; ")}; the HAProxy test is skipped`,
  );
