import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/model-kit.ts", "src/handlers/*.ts", "src/cli/echo-server.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/model-kit.ts", "src/handlers/echo.ts", "src/handlers/upper.ts", "src/handlers/whoami.ts", "src/handlers/http-hello.ts"] },
  target: "node20",
  platform: "node",
  splitting: true,
  sourcemap: true,
  clean: true,
});
