import { defineConfig } from "tsup";

export default defineConfig({
  // worker.js is the entry node:cluster forks; cli.js is the echo-prefork bin.
  entry: ["src/index.ts", "src/worker.ts", "src/cli.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts"] },
  target: "node20",
  platform: "node",
  splitting: true,
  sourcemap: true,
  clean: true,
});
