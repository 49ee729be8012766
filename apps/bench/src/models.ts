/**
 * The servers the bench knows: each is a definition that starts a child process from a command
 * line. Models whose package is not built yet report why and are skipped.
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { nginxModel } from "./nginx.js";
import { appFile, cpuHandlerPath, refTools } from "./paths.js";
import type { ServerCommand } from "./server-process.js";

/** What a server must do in a scenario: echo bytes, answer HTTP, or do CPU work per request. */
export type Workload = "echo" | "http" | "cpu";

/** Where a model comes from. */
export type ModelGroup = "core" | "threaded" | "prefork" | "selector" | "node" | "python" | "nginx" | "external";

/** Whether a model can be started here, and why not. */
export type Availability = { ok: true } | { ok: false; note: string };

/** One server under test. */
export interface ModelDefinition {
  /** Short unique name, e.g. `core-async`, `prefork-2-rr`, `python-selectors`. */
  name: string;
  group: ModelGroup;
  description: string;
  /** The workloads it can serve. */
  workloads: readonly Workload[];
  /** Set when it cannot take the C10k scenario, with the reason. */
  noC10k?: string;
  /** Whether it can start here. */
  available(): Availability;
  /** The command line serving `workload`; `port` is a free port for servers that need one. */
  command(workload: Workload, port: number): ServerCommand;
  /** Whether the command needs a port chosen in advance (servers that print no listening line). */
  needsPort?: boolean;
}

const require = createRequire(import.meta.url);

/** The absolute path of a workspace package's CLI, or why it is not there. */
export function packageBin(pkg: string, bin: string): { path: string } | { note: string } {
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${pkg}/package.json`);
  } catch {
    return { note: `${pkg} is not installed` };
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin?: Record<string, string> | string };
  const rel = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.[bin];
  if (!rel) return { note: `${pkg} has no \`${bin}\` CLI yet` };
  const path = join(dirname(manifestPath), rel);
  if (!existsSync(path))
    return { note: `${pkg}'s \`${bin}\` is not built (${rel} missing): the package has not landed yet` };
  return { path };
}

let pythonPath: string | null | undefined;
/** The real python3 executable (not a version manager's shim), or undefined when absent. */
export function python3(): string | undefined {
  if (pythonPath === undefined) {
    try {
      pythonPath =
        execFileSync(process.env.ECHO_BENCH_PYTHON ?? "python3", ["-c", "import sys; print(sys.executable)"], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
          timeout: 10_000,
        }).trim() || null;
    } catch {
      pythonPath = null;
    }
  }
  return pythonPath ?? undefined;
}

const handlerFor = (workload: Workload): string =>
  workload === "http" ? "http-hello" : workload === "cpu" ? cpuHandlerPath : "echo";
// Core's default limit is 10,000 connections: C10k holds 10,050, so every package CLI gets room.
const common = ["--host", "127.0.0.1", "--port", "0", "--max-connections", "20000"];

function cliModel(
  name: string,
  group: ModelGroup,
  description: string,
  pkg: string,
  bin: string,
  extra: string[],
  options: { noC10k?: string } = {},
): ModelDefinition {
  return {
    name,
    group,
    description,
    workloads: ["echo", "http", "cpu"],
    ...options,
    available: () => {
      const found = packageBin(pkg, bin);
      if ("note" in found) return { ok: false, note: found.note };
      if (!existsSync(cpuHandlerPath))
        return { ok: false, note: "the bench is not built (dist/fixtures/cpu-handler.js missing)" };
      return { ok: true };
    },
    command: (workload) => {
      const found = packageBin(pkg, bin);
      if ("note" in found) throw new Error(found.note);
      return { command: process.execPath, args: [found.path, ...extra, ...common, "--handler", handlerFor(workload)] };
    },
  };
}

const ONE_AT_A_TIME = "serves one connection at a time: the active connections would wait behind 10,000 idle ones";

function pythonModel(model: string, description: string, noC10k?: string): ModelDefinition {
  return {
    name: `python-${model}`,
    group: "python",
    description,
    workloads: ["echo", "cpu"],
    ...(noC10k ? { noC10k } : {}),
    available: () => (python3() ? { ok: true } : { ok: false, note: "python3 is not installed" }),
    command: (workload) => ({
      command: python3()!,
      args: [
        appFile("baselines/python_servers.py"),
        "--model",
        model,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--mode",
        workload === "cpu" ? "cpu" : "echo",
      ],
    }),
  };
}

let ioUring: Availability | undefined;
/** selector-io_uring can start where the CLI is built and this kernel and process allow io_uring (Linux 6.1+, no seccomp filter refusing it). */
function ioUringAvailable(): Availability {
  const found = packageBin("@echo/selector", "echo-selector");
  if ("note" in found) return { ok: false, note: found.note };
  if (ioUring) return ioUring;
  const probe = `import(${JSON.stringify(pathToFileURL(join(dirname(found.path), "index.js")).href)}).then((m) => new m.IoUringSelector().close(), (e) => { console.error(e.message); process.exit(1); }).catch((e) => { console.error(e.message); process.exit(1); })`;
  try {
    execFileSync(process.execPath, ["-e", probe], { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
    ioUring = { ok: true };
  } catch (error) {
    const raw = (error as { stderr?: Buffer | string }).stderr;
    const stderr = (typeof raw === "string" ? raw : (raw?.toString("utf8") ?? "")).trim();
    ioUring = { ok: false, note: stderr || "io_uring is not available here" };
  }
  return ioUring;
}

/** The number of threads or workers for the "N" variants: the machine's parallelism, at least 2. */
export const parallelism = Math.max(2, availableParallelism());

/** Every built-in model, in report order. */
export function builtinModels(): ModelDefinition[] {
  const n = parallelism;
  const always: Availability = { ok: true };
  return [
    {
      name: "node-net",
      group: "node",
      description: "plain Node `net` server, `on('data') → write` (baseline)",
      workloads: ["echo", "http", "cpu"],
      available: () => always,
      command: (workload) => ({
        command: process.execPath,
        args: [appFile("baselines/node-net-echo.mjs"), "--host", "127.0.0.1", "--port", "0", "--mode", workload],
      }),
    },
    {
      name: "node-http",
      group: "node",
      description: "plain `node:http` hello server",
      workloads: ["http"],
      available: () => always,
      command: () => ({
        command: process.execPath,
        args: [appFile("baselines/node-http-hello.mjs"), "--host", "127.0.0.1", "--port", "0"],
      }),
    },
    nginxModel(),
    cliModel(
      "core-iterative",
      "core",
      "@echo/core, model iterative (one connection at a time)",
      "@echo/core",
      "echo-server",
      ["--mode", "iterative"],
      { noC10k: ONE_AT_A_TIME },
    ),
    cliModel("core-async", "core", "@echo/core, model async (event loop)", "@echo/core", "echo-server", [
      "--mode",
      "async",
    ]),
    cliModel("threaded-1", "threaded", "@echo/threaded, 1 thread", "@echo/threaded", "echo-threaded", [
      "--threads",
      "1",
    ]),
    cliModel(`threaded-${n}`, "threaded", `@echo/threaded, ${n} threads`, "@echo/threaded", "echo-threaded", [
      "--threads",
      String(n),
    ]),
    cliModel("prefork-1", "prefork", "@echo/prefork, 1 worker (schedule os)", "@echo/prefork", "echo-prefork", [
      "--workers",
      "1",
      "--schedule",
      "os",
    ]),
    cliModel(
      `prefork-${n}-os`,
      "prefork",
      `@echo/prefork, ${n} workers, schedule os (kernel)`,
      "@echo/prefork",
      "echo-prefork",
      ["--workers", String(n), "--schedule", "os"],
    ),
    cliModel(
      `prefork-${n}-rr`,
      "prefork",
      `@echo/prefork, ${n} workers, schedule round-robin (master)`,
      "@echo/prefork",
      "echo-prefork",
      ["--workers", String(n), "--schedule", "round-robin"],
    ),
    cliModel("selector-epoll", "selector", "@echo/selector, epoll backend", "@echo/selector", "echo-selector", [
      "--selector",
      "epoll",
    ]),
    {
      ...cliModel(
        "selector-io_uring",
        "selector",
        "@echo/selector, io_uring backend (completion based)",
        "@echo/selector",
        "echo-selector",
        ["--selector", "io_uring"],
      ),
      available: ioUringAvailable,
    },
    cliModel(
      "selector-epoll-js",
      "selector",
      "@echo/selector, epoll backend, handler in JavaScript (--no-fast-path)",
      "@echo/selector",
      "echo-selector",
      ["--selector", "epoll", "--no-fast-path"],
    ),
    cliModel(
      "selector-epoll-2loops",
      "selector",
      "@echo/selector, epoll backend, 2 loops (--loops 2, SO_REUSEPORT)",
      "@echo/selector",
      "echo-selector",
      ["--selector", "epoll", "--loops", "2"],
    ),
    cliModel("selector-poll", "selector", "@echo/selector, poll backend", "@echo/selector", "echo-selector", [
      "--selector",
      "poll",
    ]),
    cliModel(
      "selector-select",
      "selector",
      "@echo/selector, select backend (FD_SETSIZE 1024)",
      "@echo/selector",
      "echo-selector",
      ["--selector", "select"],
    ),
    pythonModel("tcpserver", "Python socketserver.TCPServer (one connection at a time)", ONE_AT_A_TIME),
    pythonModel("threading", "Python socketserver.ThreadingTCPServer (a thread per connection)"),
    pythonModel(
      "multiprocessing",
      "Python multiprocessing: 20 processes accept()ing on one socket",
      "serves 20 connections at a time: the active connections would wait behind idle ones",
    ),
    pythonModel("selectors", "Python selectors loop (DefaultSelector: epoll)"),
  ];
}

/** Splits a command line on spaces, keeping "quoted strings" whole. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/**
 * An external echo server from `--baseline NAME=COMMAND`. `{port}` in the command is replaced by
 * a free port chosen by the bench; without it the server must print a `listening on HOST:PORT`
 * line. `{ref}` is replaced by the reference tools' directory ({@link refTools}), built first when
 * needed. External servers run the echo scenarios (they cannot load the bench's handlers).
 */
export function externalModel(
  name: string,
  commandLine: string,
  description = `external: ${commandLine}`,
): ModelDefinition {
  const needsPort = commandLine.includes("{port}");
  const needsRef = commandLine.includes("{ref}");
  const expand = (line: string): string => (needsRef ? line.replaceAll("{ref}", refTools.dir) : line);
  return {
    name,
    group: "external",
    description,
    workloads: ["echo"],
    needsPort,
    available: () => {
      if (needsRef && !refTools.server())
        return { ok: false, note: `{ref}: the reference tools are not available (${refTools.why()})` };
      const [cmd] = splitCommand(expand(commandLine));
      if (!cmd) return { ok: false, note: "empty command" };
      if (cmd.includes("/") && !existsSync(cmd)) return { ok: false, note: `${cmd} does not exist` };
      return { ok: true };
    },
    command: (_workload, port) => {
      const [command, ...args] = splitCommand(expand(commandLine).replaceAll("{port}", String(port)));
      return { command: command!, args, ...(needsPort ? { port } : {}) };
    },
  };
}

/** Parses `NAME=COMMAND` from `--baseline`. */
export function parseBaselineFlag(value: string): ModelDefinition {
  const eq = value.indexOf("=");
  if (eq <= 0 || eq === value.length - 1)
    throw new Error(`--baseline must be NAME=COMMAND, got ${JSON.stringify(value)}`);
  const name = value.slice(0, eq);
  if (!/^[\w.-]+$/.test(name))
    throw new Error(`--baseline name must be letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`);
  return externalModel(name, value.slice(eq + 1));
}

/** Selects models by name or group (`--models core-async,python`); unknown names are an error. */
export function selectModels(
  all: readonly ModelDefinition[],
  wanted: readonly string[] | undefined,
): ModelDefinition[] {
  if (!wanted || wanted.length === 0) return [...all];
  const unknown = wanted.filter((w) => !all.some((m) => m.name === w || m.group === w));
  if (unknown.length)
    throw new Error(`--models: unknown ${unknown.join(", ")}; known: ${all.map((m) => m.name).join(", ")}`);
  return all.filter((m) => wanted.includes(m.name) || wanted.includes(m.group));
}
