/**
 * Debian packages a test needs (HAProxy, Chromium, `ab`, `wrk`): found on PATH, or installed with
 * `apt-get` when missing and the process may do so (root on a machine with apt-get, as in CI).
 * @module
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

/** A command a test runs and the Debian package that provides it. */
export interface DebianTool {
  /** The executable: a name looked up on PATH (`wrk`) or an absolute path (`/usr/bin/chromium`). */
  command: string;
  /** The Debian package that installs it (`wrk`, `apache2-utils`, `chromium`). */
  package: string;
}

/** Options of {@link ensureDebianPackages}. */
export interface EnsureDebianOptions {
  /** Where progress lines go (one before installing). @default console.error */
  log?: (line: string) => void;
  /** Upper bound in ms for each `apt-get` run. @default 600000 */
  timeoutMs?: number;
}

/** What {@link ensureDebianPackages} found. */
export interface EnsureDebianResult {
  /** The absolute path of every command that is there now, by command. */
  found: Record<string, string>;
  /** The packages this call installed. */
  installed: string[];
  /** The tools still missing, each with why nothing was installed (not root, no apt-get, …). */
  missing: (DebianTool & { reason: string })[];
}

/** The absolute path of an executable command (a name on PATH, or an absolute path), or undefined. */
export function findCommand(command: string): string | undefined {
  const executable = (path: string): boolean => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (isAbsolute(command)) return executable(command) ? command : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, command);
    if (executable(path)) return path;
  }
  return undefined;
}

// A Debian package name (policy §5.6.1), or a command name or path without shell metacharacters.
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;
const COMMAND = /^[\w./+-]+$/;

function check(tools: readonly DebianTool[]): void {
  if (!Array.isArray(tools) || tools.length === 0)
    throw new TypeError("ensureDebianPackages: tools must be a non-empty array of { command, package }");
  for (const [i, tool] of (tools as readonly (DebianTool | undefined)[]).entries()) {
    if (typeof tool?.command !== "string" || !COMMAND.test(tool.command))
      throw new TypeError(
        `ensureDebianPackages: tools[${i}].command must be a command name or path, got ${JSON.stringify(tool?.command)}`,
      );
    if (typeof tool.package !== "string" || !PACKAGE.test(tool.package))
      throw new TypeError(
        `ensureDebianPackages: tools[${i}].package must be a Debian package name, got ${JSON.stringify(tool.package)}`,
      );
  }
}

/** Why this process cannot install packages, or undefined when it can. */
export function whyNoInstall(): string | undefined {
  if (process.env.ECHO_NO_APT === "1") return "ECHO_NO_APT=1 forbids installing";
  if (process.platform !== "linux") return `apt-get is for Debian-like Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return "installing needs root (apt-get install -y …)";
  if (!findCommand("apt-get")) return "apt-get is not on PATH";
  return undefined;
}

let updated = false;

function aptGet(args: string[], timeoutMs: number): void {
  const result = spawnSync("apt-get", ["-o", "DPkg::Lock::Timeout=300", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: timeoutMs,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (result.status === 0) return;
  const tail = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-5).join(" | ");
  const how = result.error
    ? result.error.message
    : result.signal
      ? `killed by ${result.signal} (over ${timeoutMs} ms)`
      : `exited ${result.status}`;
  throw new Error(`apt-get ${args.join(" ")} ${how}: ${tail}`);
}

/**
 * Makes sure every tool's command is there. Missing ones are installed with one `apt-get update`
 * (once per process) and one `apt-get install -y` of their packages, when this process is root
 * on a machine with apt-get; otherwise they are returned in `missing` with the reason, for the
 * caller to skip with a note. Synchronous, for a test's set-up or vitest's `globalSetup`.
 *
 * @example
 * ```ts
 * const { found, missing } = ensureDebianPackages([{ command: "wrk", package: "wrk" }]);
 * it.skipIf(!found.wrk)("drives the server with wrk", ...);
 * ```
 * @throws {TypeError} for a tool that is not `{ command, package }` with sane names.
 * @throws {Error} when apt-get ran and failed, or a command is still missing after installing.
 */
export function ensureDebianPackages(
  tools: readonly DebianTool[],
  options: EnsureDebianOptions = {},
): EnsureDebianResult {
  check(tools);
  const log = options.log ?? ((line: string) => console.error(line));
  const timeoutMs = options.timeoutMs ?? 600_000;
  const found: Record<string, string> = {};
  const absent: DebianTool[] = [];
  for (const tool of tools) {
    const path = findCommand(tool.command);
    if (path) found[tool.command] = path;
    else absent.push(tool);
  }
  if (absent.length === 0) return { found, installed: [], missing: [] };
  const reason = whyNoInstall();
  if (reason) return { found, installed: [], missing: absent.map((t) => ({ ...t, reason })) };

  const packages = [...new Set(absent.map((t) => t.package))];
  log(`[echo] installing ${packages.join(" ")} with apt-get (for ${absent.map((t) => t.command).join(", ")})`);
  if (!updated) {
    aptGet(["update", "-q"], timeoutMs);
    updated = true;
  }
  aptGet(["install", "-y", "-q", "--no-install-recommends", ...packages], timeoutMs);
  for (const tool of absent) {
    const path = findCommand(tool.command);
    if (!path) throw new Error(`apt-get installed ${tool.package}, but ${tool.command} is still not found`);
    found[tool.command] = path;
  }
  return { found, installed: packages, missing: [] };
}
