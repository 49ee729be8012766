import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/cli.ts", "src/loop-thread.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts"] },
  target: "node20",
  platform: "node",
  splitting: true,
  sourcemap: true,
  clean: true,
});
