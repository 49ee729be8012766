import { defineConfig } from "tsup";

// The worker entry sits at dist/load-worker.js; load.ts finds it next to itself (shared chunks live in dist/).
export default defineConfig({
  entry: {
    index: "src/index.ts",
    "load-worker": "src/internal/load-worker.ts",
    "cli/echo-client": "src/cli/echo-client.ts",
    "cli/echo-load": "src/cli/echo-load.ts",
  },
  format: ["esm"],
  dts: { entry: { index: "src/index.ts" } },
  target: "node20",
  platform: "node",
  splitting: true,
  sourcemap: true,
  clean: true,
});
