// Shared vitest defaults. Tests use real sockets, processes and threads, so they get generous
// timeouts (a loaded 2-core CI machine is slow) and run files in forked processes, which keeps
// a test that drops privileges or exits from touching another file's process.
import { defineConfig, mergeConfig } from "vitest/config";

export const base = defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // The JSON report feeds the one-line total that `npm test` prints at the end.
    reporters: ["default", ["json", { outputFile: ".vitest/results.json" }]],
  },
});

/** Extends the shared defaults with a package's own settings. */
export function config(overrides = {}) {
  return mergeConfig(base, defineConfig(overrides));
}
