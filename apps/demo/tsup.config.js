import { app } from "@echo/tsup-config";
import { defineConfig } from "tsup";

export default defineConfig(
  app({
    // The CLI, the handler module the contrast run serves (imported by threads and processes),
    // and the child process that holds idle connections.
    entry: { cli: "src/cli.ts", "handlers/hold": "src/handlers/hold.ts", "idle-holder": "src/idle-holder.ts" },
  }),
);
