// Brings the pinned pnpm without a global install: npm installs it once into .cache/tools, and
// every script calls that copy. Corepack is not used (it fails on some machines), and a global
// pnpm would hide a missing set-up step.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
export const pnpmVersion = manifest.packageManager.replace(/^pnpm@/, "");
const toolsDir = join(root, ".cache", "tools");
const pnpmBin = join(toolsDir, "node_modules", ".bin", "pnpm");

/** Runs a command inheriting stdio; exits the process with its status when it fails. */
export function run(cmd, args, options = {}) {
  // The pinned pnpm goes first on PATH: turbo and scripts look for `pnpm` there.
  const env = {
    ...process.env,
    PATH: `${join(toolsDir, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}`,
  };
  const result = spawnSync(cmd, args, { stdio: "inherit", cwd: root, env, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    console.error(`[echo] ${cmd} ${args.join(" ")} failed with status ${result.status ?? result.signal}`);
    process.exit(result.status ?? 1);
  }
}

/** Makes sure the pinned pnpm is installed in .cache/tools and returns its executable. */
export function ensurePnpm() {
  let installed = null;
  try {
    installed = JSON.parse(readFileSync(join(toolsDir, "node_modules", "pnpm", "package.json"), "utf8")).version;
  } catch {
    installed = null;
  }
  if (installed !== pnpmVersion || !existsSync(pnpmBin)) {
    console.log(`[echo] installing pnpm@${pnpmVersion} into .cache/tools`);
    run("npm", [
      "install",
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
      "--prefix",
      toolsDir,
      `pnpm@${pnpmVersion}`,
    ]);
  }
  return pnpmBin;
}

/** Runs the pinned pnpm with the given arguments. */
export function pnpm(args, options) {
  run(ensurePnpm(), args, options);
}

// `node tooling/scripts/pnpm.mjs ARGS…` runs the pinned pnpm, for anyone without pnpm installed.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  pnpm(process.argv.slice(2), { cwd: process.cwd() });
}
