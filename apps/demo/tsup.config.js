import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/tour.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  clean: true,
});
