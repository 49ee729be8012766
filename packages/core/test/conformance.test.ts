import { conformanceSuite, type StartOptions } from "@echo/conformance";
import * as core from "@echo/core";
import { EchoServer, type CoreModel } from "@echo/core";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/cli/echo-server.js", import.meta.url));

const quiet = { info: () => {}, error: () => {} };

function target(model: CoreModel) {
  return {
    name: `core ${model}`,
    errors: core,
    concurrent: model === "async",
    worker: /^MainThread$/,
    cli: { command: process.execPath, args: [cli, "--mode", model] },
    async start(options: StartOptions) {
      const server = new EchoServer({ model, host: "127.0.0.1", port: 0, logger: quiet, ...options });
      const address = await server.listen();
      return {
        address: address.kind === "unix" ? { path: address.path } : { host: address.host, port: address.port },
        stats: () => server.stats(),
        close: () => server.close(),
      };
    },
  };
}

conformanceSuite(target("async"));
conformanceSuite(target("iterative"));
