// Installs a Debian package with apt-get when a file it provides is missing: a fresh machine (and
// CI, which runs as root) has no Chromium. (A shared helper in tooling/ may replace this one.)
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

function aptGet(args: string[]): void {
  const result = spawnSync("apt-get", args, {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 15 * 60_000,
  });
  if (result.error) throw new Error(`apt-get ${args.join(" ")}: ${result.error.message}`);
  if (result.status !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-15).join("\n");
    throw new Error(`apt-get ${args.join(" ")} failed with status ${result.status}:\n${tail}`);
  }
}

/**
 * Makes sure `file` exists, installing Debian package `pkg` (after `apt-get update`) if it does
 * not. Waits for another apt or dpkg run to finish instead of failing on its lock.
 * @throws when the file is missing and this process is not root, or apt-get fails.
 */
export function ensureDebianPackage(pkg: string, file: string): void {
  if (existsSync(file)) return;
  if (process.getuid?.() !== 0) throw new Error(`${file} is missing; install it with: sudo apt-get install ${pkg}`);
  process.stdout.write(`[echo] ${file} is missing: installing the Debian package ${pkg} with apt-get\n`);
  const lock = ["-o", "DPkg::Lock::Timeout=600"];
  aptGet([...lock, "update"]);
  aptGet([...lock, "install", "-y", pkg]);
  if (!existsSync(file)) throw new Error(`apt-get installed ${pkg} but ${file} is still missing`);
}
