import { defineConfig } from "tsup";

export default defineConfig({
  // observability/*: built (not exported yet) until they are wired into the models and CLIs.
  entry: ["src/index.ts", "src/handlers/*.ts", "src/cli/echo-server.ts", "src/observability/*.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/handlers/echo.ts", "src/handlers/upper.ts", "src/handlers/whoami.ts", "src/handlers/http-hello.ts"] },
  target: "node20",
  platform: "node",
  splitting: true,
  sourcemap: true,
  clean: true,
});
