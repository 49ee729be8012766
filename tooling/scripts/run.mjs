// The root README's commands: `npm test` and `npm run demo` on a machine with only Node and npm.
// Each brings pnpm, installs the workspace from the lockfile, builds, then runs its task.
import { pnpm } from "./pnpm.mjs";

const task = process.argv[2];
// Part of turbo's cache key (turbo.json globalEnv): a run on another Node version rebuilds and
// re-tests instead of replaying the first run's results.
process.env.ECHO_NODE_VERSION = process.version;
const extra = process.argv.slice(3);

pnpm(["install", "--frozen-lockfile", "--prefer-offline"]);
if (task === "test") {
  // Lint and typecheck before tests: a type error fails fast, before minutes of socket tests.
  pnpm(["exec", "turbo", "run", "build", "lint", "typecheck", "check:package", "--output-logs=errors-only"]);
  pnpm(["exec", "turbo", "run", "test", "--concurrency=1", "--output-logs=full", ...extra]);
} else if (task === "demo") {
  pnpm(["exec", "turbo", "run", "build", "--filter=@echo/demo...", "--output-logs=errors-only"]);
  pnpm(["--filter", "@echo/demo", "run", "demo", ...extra]);
} else {
  console.error(`usage: node tooling/scripts/run.mjs test|demo [args]`);
  process.exit(2);
}
