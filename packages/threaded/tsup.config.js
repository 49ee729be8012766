import { defineConfig } from "tsup";

export default defineConfig({
  // The worker and the descriptor helper are entries of their own: threads and child processes
  // load them by path (dist/internal/*.js, next to the chunks that refer to them).
  entry: ["src/index.ts", "src/cli.ts", "src/internal/worker.ts", "src/internal/fd-helper.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts"] },
  target: "node20",
  platform: "node",
  splitting: true,
  sourcemap: true,
  clean: true,
});
