// The root README's commands: `npm test` and `npm run demo` on a machine with only Node and npm.
// Each brings pnpm, installs the workspace from the lockfile, builds, then runs its task.
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pnpm, root } from "./pnpm.mjs";

/** Each workspace package's vitest JSON report (written by @echo/vitest-config). */
function resultFiles() {
  const files = [];
  for (const group of ["apps", "packages", "tooling"]) {
    for (const name of readdirSync(join(root, group))) {
      const file = join(root, group, name, ".vitest", "results.json");
      if (existsSync(file)) files.push(file);
    }
  }
  return files;
}

/** Removes reports of earlier runs; turbo restores those of cached test tasks. */
function clearResults() {
  for (const file of resultFiles()) rmSync(file);
}

/** Prints one closing line with the totals over every package's tests. */
function printTotals() {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const file of resultFiles()) {
    const report = JSON.parse(readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
  }
  console.log(`\nAll packages' tests on Node ${process.version}:`);
  console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  // .ci/run adds up its runs on several Node versions from this file.
  if (process.env.ECHO_TOTALS_FILE)
    appendFileSync(
      process.env.ECHO_TOTALS_FILE,
      `${JSON.stringify({ node: process.version, passed, failed, skipped })}\n`,
    );
}

const task = process.argv[2];
// Part of turbo's cache key (turbo.json globalEnv): a run on another Node version rebuilds and
// re-tests instead of replaying the first run's results.
process.env.ECHO_NODE_VERSION = process.version;
const extra = process.argv.slice(3);

pnpm(["install", "--frozen-lockfile", "--prefer-offline"]);
if (task === "test") {
  // Lint and typecheck before tests: a type error fails fast, before minutes of socket tests.
  pnpm(["exec", "turbo", "run", "build", "lint", "typecheck", "check:package", "--output-logs=errors-only"]);
  clearResults();
  pnpm(["exec", "turbo", "run", "test", "--concurrency=1", "--output-logs=full", ...extra]);
  printTotals();
} else if (task === "demo") {
  pnpm(["exec", "turbo", "run", "build", "--filter=@echo/demo...", "--output-logs=errors-only"]);
  pnpm(["--filter", "@echo/demo", "run", "demo", ...extra]);
} else {
  console.error(`usage: node tooling/scripts/run.mjs test|demo [args]`);
  process.exit(2);
}
