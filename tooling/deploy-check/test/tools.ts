import { spawnSync } from "node:child_process";
import { findCommand } from "@echo/test-utils";

/** A tool's path, or why its check is skipped. */
export function tool(command: string, pkg: string): { path: string } | { skip: string } {
  const path = findCommand(command);
  return path
    ? { path }
    : { skip: `${command} is not installed (Debian package ${pkg}) and could not be installed here` };
}

/** Runs a command; its exit status and everything it printed. */
export function run(command: string, args: readonly string[], cwd?: string): { status: number | null; output: string } {
  const r = spawnSync(command, args, { encoding: "utf8", timeout: 60_000, ...(cwd ? { cwd } : {}) });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}
