import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/cli.ts", "src/index.ts", "src/fixtures/cpu-handler.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  clean: true,
});
