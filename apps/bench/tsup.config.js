import { app } from "@echo/tsup-config";
import { defineConfig } from "tsup";

export default defineConfig(app({ entry: ["src/cli.ts", "src/index.ts", "src/fixtures/cpu-handler.ts"] }));
