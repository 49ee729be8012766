import { library } from "@echo/tsup-config";
import { defineConfig } from "tsup";

export default defineConfig(
  library({
    // observability/*: built (not exported yet) until they are wired into the models and CLIs.
    entry: [
      "src/index.ts",
      "src/model-kit.ts",
      "src/handlers/*.ts",
      "src/cli/echo-server.ts",
      "src/observability/*.ts",
    ],
    dts: {
      entry: [
        "src/index.ts",
        "src/model-kit.ts",
        "src/handlers/echo.ts",
        "src/handlers/upper.ts",
        "src/handlers/whoami.ts",
        "src/handlers/http-hello.ts",
      ],
    },
  }),
);
