/**
 * Paths as the reports write them: relative to the repository's root, never as this machine's
 * absolute paths. A report is committed (docs/benchmarks.md) and read on other machines, so
 * `/usr/bin/node /work/main/apps/bench/baselines/node-net-echo.mjs` is written
 * `node apps/bench/baselines/node-net-echo.mjs`, and the interpreters are named by version.
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { basename, isAbsolute } from "node:path";
import { which } from "./load/external.js";
import { python3 } from "./models.js";
import { refTools, repoRoot } from "./paths.js";
import type { BenchResults } from "./results.js";

/** What {@link portableText} knows about this machine. */
export interface PortableContext {
  /** The repository's root, with a trailing slash. */
  repoRoot: string;
  /** Directory prefixes written as a name, e.g. the reference tools' directory as `$ECHO_REF_DIR`. */
  names: readonly { dir: string; as: string }[];
  /** Executables written by their command name: this Node as `node`, the bench's python3 as `python3`. */
  commands: readonly { path: string; as: string }[];
}

/** This machine's context: the repository, the reference tools, Node, python3. */
export function machineContext(): PortableContext {
  const commands = [{ path: process.execPath, as: "node" }];
  const python = python3();
  if (python) commands.push({ path: python, as: "python3" });
  const names = [{ dir: refTools.dir, as: refTools.display }];
  const home = homedir();
  if (home && home !== "/") names.push({ dir: home, as: "~" });
  return { repoRoot, names, commands };
}

// Kernel interfaces are the same on every Linux machine: /proc/PID/stat stays as it is.
const KERNEL = /^\/(?:proc|sys|dev)(?:\/|$)/;
// An absolute path: a slash (not two: `http://…`) after the start, a space, a quote, `=`, `(` or `file://`.
const ABSOLUTE = /(^|[\s'"`=(]|file:\/\/)(\/[\w.~$-][^\s'"`),;:]*)/g;
const REPO_TOP = /^(?:apps|packages|tooling|docs)\//;

/**
 * One absolute path, made portable: under the repository, relative to its root; a known
 * directory by its name; a known executable, or one whose name is found on PATH, by its name; a
 * path of another checkout whose tail exists in this repository (`…/apps/bench/x.mjs`), by that
 * tail; anything else as `…/NAME`.
 */
export function portablePath(path: string, context: PortableContext = machineContext()): string {
  if (!isAbsolute(path) || KERNEL.test(path)) return path;
  const root = context.repoRoot.replace(/\/+$/, "");
  for (const known of context.commands) if (path === known.path) return known.as;
  for (const known of context.names) {
    const dir = known.dir.replace(/\/+$/, "");
    if (path === dir) return known.as;
    if (path.startsWith(`${dir}/`)) return `${known.as}${path.slice(dir.length)}`;
  }
  if (path === root) return ".";
  if (path.startsWith(`${root}/`)) return path.slice(root.length + 1);
  const parts = path.split("/").filter(Boolean);
  for (let i = 1; i < parts.length - 1; i++) {
    const tail = parts.slice(i).join("/");
    if (REPO_TOP.test(tail) && existsSync(`${root}/${tail}`)) return tail;
  }
  const name = basename(path);
  if (name && which(name)) return name;
  return `…/${name}`;
}

/** Every absolute path in a text (a command line, a note, an error message) made portable. */
export function portableText(text: string, context: PortableContext = machineContext()): string {
  return text.replace(ABSOLUTE, (_, before: string, found: string) => {
    // A sentence's full stop is not part of the path.
    const path = found.replace(/\.+$/, "");
    return `${before === "file://" ? "" : before}${portablePath(path, context)}${found.slice(path.length)}`;
  });
}

/** The Python version of an interpreter path (`3.11.7`), asking it when it runs here. */
export function pythonVersion(python: string | null): string | null {
  if (python === null || !isAbsolute(python)) return python;
  if (python === python3()) return python3Version() ?? "unknown";
  // A results file from another machine: the version is often in the path (pyenv's versions/3.11.7).
  return /\/(\d+\.\d+(?:\.\d+)?)\//.exec(python)?.[1] ?? "unknown";
}

let version: string | null | undefined;
/** This bench's python3 version (`3.11.7`), or null when there is no python3. */
export function python3Version(): string | null {
  if (version === undefined) {
    const python = python3();
    version = null;
    if (python) {
      try {
        version =
          execFileSync(python, ["-c", "import platform; print(platform.python_version())"], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
            timeout: 10_000,
          }).trim() || null;
      } catch {
        version = null;
      }
    }
  }
  return version;
}

/**
 * A copy of a run's results with every path made portable and Python named by version: what
 * results.json, report.md and the docs page are written from. Idempotent.
 */
export function portableResults(results: BenchResults, context: PortableContext = machineContext()): BenchResults {
  const text = (s: string): string => portableText(s, context);
  return {
    ...results,
    settings: { ...results.settings, argv: results.settings.argv.map(text) },
    machine: { ...results.machine, python: pythonVersion(results.machine.python) },
    models: results.models.map((m) => ({
      ...m,
      description: text(m.description),
      command: m.command === null ? null : text(m.command),
      ...(m.note === undefined ? {} : { note: text(m.note) }),
    })),
    scenarios: results.scenarios.map((s) => ({ ...s, description: text(s.description), tool: text(s.tool) })),
    notes: results.notes.map(text),
  };
}
