import { library } from "@echo/tsup-config";
import { defineConfig } from "tsup";

// The worker and the descriptor helper are entries of their own: threads and child processes
// load them by path (dist/internal/*.js, next to the chunks that refer to them).
export default defineConfig(
  library({ entry: ["src/index.ts", "src/cli.ts", "src/internal/worker.ts", "src/internal/fd-helper.ts"] }),
);
