import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { activatedSocket, listenFdHandle, listenFds } from "../src/activation.js";
import { freePort, roundTrip } from "./proxy-helpers.js";

const pid = 4242;
const env = (vars: Record<string, string>): Record<string, string | undefined> => ({ PATH: "/bin", ...vars });

describe("listenFds / activatedSocket (environment)", () => {
  it("reads the passed sockets from fd 3 on, with their names, and unsets the variables", () => {
    const e = env({ LISTEN_FDS: "3", LISTEN_PID: String(pid), LISTEN_FDNAMES: "echo:admin:" });
    expect(listenFds({ env: e, pid })).toEqual([
      { fd: 3, name: "echo", index: 0 },
      { fd: 4, name: "admin", index: 1 },
      { fd: 5, name: "unknown", index: 2 },
    ]);
    expect(e).toEqual({ PATH: "/bin" });
    expect(listenFds({ env: e, pid })).toEqual([]); // read once: the variables are gone
  });

  it("names every socket unknown without LISTEN_FDNAMES, and keeps the variables on request", () => {
    const e = env({ LISTEN_FDS: "2", LISTEN_PID: String(pid) });
    expect(listenFds({ env: e, pid, unsetEnvironment: false }).map((s) => s.name)).toEqual(["unknown", "unknown"]);
    expect(e.LISTEN_FDS).toBe("2");
  });

  it("sees no socket when the variables are missing or were meant for another process (and still unsets them)", () => {
    expect(listenFds({ env: env({}), pid })).toEqual([]);
    expect(listenFds({ env: env({ LISTEN_FDS: "1" }), pid })).toEqual([]);
    const inherited = env({ LISTEN_FDS: "1", LISTEN_PID: "1" });
    expect(listenFds({ env: inherited, pid })).toEqual([]);
    expect(inherited.LISTEN_FDS).toBeUndefined();
  });

  it.each([
    [
      { LISTEN_FDS: "one", LISTEN_PID: String(pid) },
      'LISTEN_FDS must be a count of descriptors from 0 to 4096, got "one"',
    ],
    [
      { LISTEN_FDS: "01", LISTEN_PID: String(pid) },
      'LISTEN_FDS must be a count of descriptors from 0 to 4096, got "01"',
    ],
    [
      { LISTEN_FDS: "-1", LISTEN_PID: String(pid) },
      'LISTEN_FDS must be a count of descriptors from 0 to 4096, got "-1"',
    ],
    [{ LISTEN_FDS: "1", LISTEN_PID: "self" }, 'LISTEN_PID must be a process id, got "self"'],
    [
      { LISTEN_FDS: "2", LISTEN_PID: String(pid), LISTEN_FDNAMES: "echo" },
      "LISTEN_FDNAMES names 1 descriptor(s) but LISTEN_FDS is 2",
    ],
  ])("refuses a malformed environment %j", (vars, message) => {
    expect(() => listenFds({ env: env(vars), pid })).toThrow(
      expect.objectContaining({
        code: "ECHO_ERR_SOCKET_ACTIVATION",
        reason: "invalid-environment",
        name: "SocketActivationError",
        message,
      }),
    );
  });

  it.each([
    [{}, undefined, "not-activated", /^no socket was passed: LISTEN_FDS and LISTEN_PID are not set/],
    [
      { LISTEN_FDS: "1", LISTEN_PID: "1" },
      undefined,
      "pid-mismatch",
      /^the passed sockets are for process 1, not this one \(4242\): LISTEN_PID was inherited$/,
    ],
    [
      { LISTEN_FDS: "2", LISTEN_PID: String(pid), LISTEN_FDNAMES: "a:b" },
      undefined,
      "not-found",
      /^2 sockets were passed \(a, b\): choose one by name or index$/,
    ],
    [
      { LISTEN_FDS: "2", LISTEN_PID: String(pid), LISTEN_FDNAMES: "a:b" },
      { name: "c" },
      "not-found",
      /^no passed socket is named "c" \(passed: a, b\)$/,
    ],
    [
      { LISTEN_FDS: "2", LISTEN_PID: String(pid) },
      { index: 2 },
      "not-found",
      /^no passed socket has index 2: 2 passed \(indexes from 0\)$/,
    ],
  ])("activatedSocket refuses %j %j (%s)", (vars, select, reason, message) => {
    expect(() => activatedSocket(select as never, { env: env(vars as Record<string, string>), pid })).toThrow(
      expect.objectContaining({ code: "ECHO_ERR_SOCKET_ACTIVATION", reason, message: expect.stringMatching(message) }),
    );
  });

  it("listenFdHandle accepts a socket and refuses a file or a closed descriptor", async () => {
    const dir = mkdtempSync(join(tmpdir(), "echo-fd-"));
    const fd = openSync(join(dir, "f"), "w");
    try {
      expect(() => listenFdHandle(fd)).toThrow(
        expect.objectContaining({ reason: "not-a-socket", message: `file descriptor ${fd} is not a socket` }),
      );
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true });
    }
    expect(() => listenFdHandle(fd)).toThrow(
      expect.objectContaining({ reason: "not-a-socket", message: `file descriptor ${fd} is not open (EBADF)` }),
    );
    expect(() => listenFdHandle(-1)).toThrow(expect.objectContaining({ reason: "invalid-environment" }));
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const handle = (server as unknown as { _handle: { fd: number } })._handle;
    expect(listenFdHandle(handle.fd)).toEqual({ fd: handle.fd });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

// ---- for real, under systemd-socket-activate ----

function findTool(name: string, paths: string[]): string | undefined {
  for (const candidate of [name, ...paths]) if (spawnSync(candidate, ["--version"]).status === 0) return candidate;
  return undefined;
}

const socketActivate = findTool("systemd-socket-activate", [
  "/usr/lib/systemd/systemd-socket-activate",
  "/lib/systemd/systemd-socket-activate",
  "/usr/bin/systemd-socket-activate",
]);
const setpriv = findTool("setpriv", ["/usr/bin/setpriv"]);
const fixture = fileURLToPath(new URL("./fixtures/activation-echo.mjs", import.meta.url));

/** src/activation.ts and what it imports, transpiled to plain JS in a world-readable directory (nobody must load it too). */
function transpiled(): { dir: string; url: string; fixture: string } {
  const dir = mkdtempSync(join(tmpdir(), "echo-activation-"));
  const src = fileURLToPath(new URL("../src/", import.meta.url));
  for (const file of ["activation.ts", "activation-error.ts", "errors.ts"]) {
    const out = ts.transpileModule(readFileSync(join(src, file), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const target = join(dir, file.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out);
    chmodSync(target, 0o644);
  }
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }');
  // The fixture goes there too: the checkout may sit below a directory nobody cannot enter.
  writeFileSync(join(dir, "fixture.mjs"), readFileSync(fixture));
  for (const file of ["package.json", "fixture.mjs"]) chmodSync(join(dir, file), 0o644);
  chmodSync(dir, 0o755);
  return { dir, url: pathToFileURL(join(dir, "activation.js")).href, fixture: join(dir, "fixture.mjs") };
}

interface Report {
  pid: number;
  uid: string;
  gid: string;
  groups: string;
  capEff: string;
  capPrm: string;
  before: Record<string, string | undefined>;
  after: Record<string, string | undefined>;
  socket: { fd: number; name: string; index: number };
  address: net.AddressInfo;
  ownLowBind: string;
}

interface Activated {
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the fixture's report line. */
  report: Promise<Report>;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();

/** Starts systemd-socket-activate; resolves once it has bound every address (its "Listening on … as N." lines). */
function activate(args: string[], command: string[], listens: number): Promise<Activated> {
  return new Promise((resolve, reject) => {
    const child = spawn(socketActivate as string, [...args, ...command], {
      stdio: ["ignore", "pipe", "pipe"],
      cwd: tmpdir(),
    });
    children.add(child);
    let err = "";
    let out = "";
    let reportResolve: (r: Report) => void = () => undefined;
    let reportReject: (e: Error) => void = () => undefined;
    const report = new Promise<Report>((res, rej) => {
      reportResolve = res;
      reportReject = rej;
    });
    report.catch(() => undefined);
    const exited = new Promise<number | null>((res) =>
      child.on("exit", (code) => {
        children.delete(child);
        reportReject(new Error(`exited with ${code} before reporting: ${err}`));
        res(code);
      }),
    );
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf("\n");
      if (nl !== -1) reportResolve(JSON.parse(out.slice(0, nl)) as Report);
    });
    let started = false;
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
      if (!started && (err.match(/^Listening on .* as \d+\.$/gm) ?? []).length === listens) {
        started = true;
        resolve({ child, stderr: () => err, report, exited });
      }
    });
    child.on("exit", (code) => {
      if (!started) reject(new Error(`systemd-socket-activate exited with ${code}: ${err}`));
    });
  });
}

describe.skipIf(socketActivate === undefined)("under systemd-socket-activate", () => {
  let module: { dir: string; url: string; fixture: string };
  beforeAll(() => {
    module = transpiled();
  });
  afterEach(async () => {
    for (const child of children) {
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  });
  afterAll(() => rmSync(module.dir, { recursive: true, force: true }));

  it("the server listens on the passed socket (fd 3): a round trip, LISTEN_PID is its pid, the variables are gone after reading", async () => {
    const port = await freePort();
    const run = await activate(
      ["-l", `127.0.0.1:${port}`, "--fdname=echo"],
      [process.execPath, module.fixture, module.url],
      1,
    );
    // systemd-socket-activate starts the command on the first connection; that connection waits in the backlog.
    expect(await roundTrip(port, "127.0.0.1", "hello, activated")).toBeGreaterThan(0);
    const report = await run.report;
    expect(report.pid).toBe(run.child.pid); // it execs: the same process, so LISTEN_PID matches
    expect(report.before).toEqual({ LISTEN_FDS: "1", LISTEN_PID: String(run.child.pid), LISTEN_FDNAMES: "echo" });
    expect(report.after).toEqual({});
    expect(report.socket).toEqual({ fd: 3, name: "echo", index: 0 });
    expect(report.address).toMatchObject({ address: "127.0.0.1", port });
    expect(await roundTrip(port, "127.0.0.1", "and again")).toBeGreaterThan(0);
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
  });

  it("picks a socket by name among several", async () => {
    const [one, two] = [await freePort(), await freePort()];
    const run = await activate(
      ["-l", `127.0.0.1:${one}`, "-l", `127.0.0.1:${two}`, "--fdname=one:two"],
      [process.execPath, module.fixture, module.url, JSON.stringify({ name: "two" })],
      2,
    );
    expect(await roundTrip(two, "127.0.0.1", "second")).toBeGreaterThan(0);
    const report = await run.report;
    expect(report.socket).toEqual({ fd: 4, name: "two", index: 1 });
    expect(report.address.port).toBe(two);
  });

  it.skipIf(setpriv === undefined || process.getuid?.() !== 0)(
    "port 7 without root: bound by systemd-socket-activate, served by a process that is nobody from its first statement",
    async () => {
      // Port 7 if free, else another port below 1024.
      let run: Activated | undefined;
      let port = 0;
      for (const candidate of [7, 9, 13, 19, 37, 79, 113, 1001]) {
        try {
          run = await activate(
            ["-l", `127.0.0.1:${candidate}`],
            [
              setpriv as string,
              "--reuid=65534",
              "--regid=65534",
              "--clear-groups",
              process.execPath,
              module.fixture,
              module.url,
            ],
            1,
          );
          port = candidate;
          break;
        } catch (error) {
          if (!/Address already in use/i.test(String(error))) throw error;
        }
      }
      if (run === undefined) throw new Error("no free port below 1024");
      expect(await roundTrip(port, "127.0.0.1", "echo on a low port")).toBeGreaterThan(0);
      const report = await run.report;
      expect(report.uid).toBe("65534 65534 65534 65534"); // real, effective, saved, filesystem: no way back to root
      expect(report.gid).toBe("65534 65534 65534 65534");
      expect(report.groups).toBe("");
      expect(report.capEff).toBe("0000000000000000");
      expect(report.capPrm).toBe("0000000000000000");
      expect(report.address).toMatchObject({ address: "127.0.0.1", port });
      expect(report.pid).toBe(run.child.pid);
      const unprivilegedStart = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"));
      if (unprivilegedStart > 7) expect(report.ownLowBind).toBe("EACCES"); // it could not have bound the port itself
    },
  );
});
