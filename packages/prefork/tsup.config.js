import { library } from "@echo/tsup-config";
import { defineConfig } from "tsup";

// worker.js is the entry node:cluster forks; cli.js is the echo-prefork bin.
export default defineConfig(library({ entry: ["src/index.ts", "src/worker.ts", "src/cli.ts"] }));
