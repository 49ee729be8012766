import { library } from "@echo/tsup-config";
import { defineConfig } from "tsup";

// loop-thread.js is the entry the readiness loop's worker thread loads by path.
export default defineConfig(library({ entry: ["src/index.ts", "src/cli.ts", "src/loop-thread.ts"] }));
