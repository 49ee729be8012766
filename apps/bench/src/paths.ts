/**
 * Where the bench's own files are, from src/ (tests) and dist/ (the built CLI) alike: both sit
 * one level below the app's root. And where the C reference instruments are (see {@link refTools}).
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The app's root directory (apps/bench/). */
export const appRoot = fileURLToPath(new URL("../", import.meta.url));

/** The repository's root directory (two levels above the app), with a trailing slash. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** A file of the app by its path from the app's root. */
export function appFile(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/** The CPU-bound fixture handler (built by tsup). */
export const cpuHandlerPath = appFile("dist/fixtures/cpu-handler.js");

const TOOLS = ["ref-echo-server", "ref-echo-load"] as const;

/**
 * The first `shared/tools/build.sh` in the repository's parent directory or above: the reference
 * instruments live outside the repository, in `shared/tools` beside the checkout (CI puts a copy
 * of `shared/` beside its clone).
 */
export function findRefBuildScript(from: string = repoRoot): string | undefined {
  let dir = dirname(from.replace(/\/+$/, ""));
  for (;;) {
    const script = join(dir, "shared", "tools", "build.sh");
    if (existsSync(script)) return script;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

const mtime = (path: string): number => statSync(path).mtimeMs;

/** Whether every tool in `dir` exists and is newer than the sources beside `script`. */
function upToDate(dir: string, script: string): boolean {
  const sources = readdirSync(dirname(script)).filter((f) => f.endsWith(".c") || f === "build.sh");
  const newest = Math.max(...sources.map((f) => mtime(join(dirname(script), f))));
  return TOOLS.every((t) => existsSync(join(dir, t)) && mtime(join(dir, t)) >= newest);
}

/**
 * Builds the instruments with `sh SCRIPT DIR` into a fresh directory, then renames each into
 * `dir` (two builds at once, or a tool running while it is rebuilt, never see a half-written
 * file). Returns an error message, or undefined when built.
 */
function build(script: string, dir: string): string | undefined {
  const staging = `${dir}.build-${process.pid}`;
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync("sh", [script, staging], { stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
    for (const file of readdirSync(staging)) renameSync(join(staging, file), join(dir, file));
    return undefined;
  } catch (error) {
    const e = error as { stderr?: Buffer; message: string };
    return `building with sh ${script} failed: ${(e.stderr?.toString().trim() || e.message).split("\n").slice(-2).join(" | ")}`;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Where the reference instruments come from. */
export interface RefTools {
  /** The directory looked in: `$ECHO_REF_DIR`, else the bench's build directory `.cache/echo-ref` of the repository. */
  readonly dir: string;
  /** How reports write {@link dir}: `$ECHO_REF_DIR`, or its path from the repository's root. */
  readonly display: string;
  /** ref-echo-server's path, building the tools first when needed and possible; undefined when absent. */
  server(): string | undefined;
  /** ref-echo-load's path, likewise. */
  load(): string | undefined;
  /** Why the tools are absent (empty when present). */
  why(): string;
}

/**
 * The C reference instruments (`ref-echo-server`, `ref-echo-load`), looked up once on first use:
 *
 * 1. `ECHO_REF_DIR` set: the tools in that directory, used as they are (never built there).
 * 2. Otherwise `.cache/echo-ref` in the repository, built on demand (and rebuilt when their
 *    sources are newer) with `sh shared/tools/build.sh .cache/echo-ref`, `shared/tools` being
 *    found in the repository's parent directory or above. Needs `cc`.
 * 3. Otherwise absent: C10k uses the bench's idle opener, and `--loader ref` and `{ref}` in
 *    `--baseline` are refused with the reason.
 */
export function createRefTools(env: NodeJS.ProcessEnv = process.env, root: string = repoRoot): RefTools {
  const fromEnv = env.ECHO_REF_DIR;
  const dir = fromEnv ?? join(root, ".cache", "echo-ref");
  let reason: string | undefined;
  const resolve = (): string => {
    if (reason !== undefined) return reason;
    if (fromEnv) {
      const absent = TOOLS.filter((t) => !existsSync(join(dir, t)));
      reason = absent.length ? `ECHO_REF_DIR=${fromEnv} has no ${absent.join(" or ")}` : "";
      return reason;
    }
    const script = findRefBuildScript(root);
    if (!script)
      reason = "no shared/tools/build.sh in the repository's parent directory or above, and ECHO_REF_DIR is not set";
    else reason = upToDate(dir, script) ? "" : (build(script, dir) ?? "");
    return reason;
  };
  const tool = (name: (typeof TOOLS)[number]) => (): string | undefined =>
    resolve() === "" ? join(dir, name) : undefined;
  return {
    dir,
    display: fromEnv ? "$ECHO_REF_DIR" : ".cache/echo-ref",
    server: tool("ref-echo-server"),
    load: tool("ref-echo-load"),
    why: resolve,
  };
}

/** The reference instruments of this process (see {@link createRefTools}). */
export const refTools: RefTools = createRefTools();
