import { library } from "@echo/tsup-config";
import { defineConfig } from "tsup";

// The worker entry sits at dist/load-worker.js; load.ts finds it next to itself (shared chunks live in dist/).
export default defineConfig(
  library({
    entry: {
      index: "src/index.ts",
      "load-worker": "src/internal/load-worker.ts",
      "cli/echo-client": "src/cli/echo-client.ts",
      "cli/echo-load": "src/cli/echo-load.ts",
    },
  }),
);
