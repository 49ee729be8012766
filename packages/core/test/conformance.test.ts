import { conformanceSuite, datagramSuite, type DatagramStartOptions, type StartOptions } from "@echo/conformance";
import * as core from "@echo/core";
import { EchoServer, type CoreModel } from "@echo/core";

const quiet = { info: () => {}, error: () => {} };

function target(model: CoreModel) {
  return {
    name: `core ${model}`,
    errors: core,
    concurrent: model === "async",
    worker: /^MainThread$/,
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

function datagramTarget(model: "async" | "iterative") {
  return {
    name: `core ${model}`,
    errors: core,
    worker: /^MainThread$/,
    async start(options: DatagramStartOptions) {
      const server = new EchoServer({ model, host: "127.0.0.1", port: 0, logger: quiet, ...options });
      const address = await server.listen();
      if (address.kind === "unix") throw new Error("unexpected unix address");
      return {
        address: { host: address.host, port: address.port },
        stats: () => server.stats(),
        close: () => server.close(),
      };
    },
  };
}

datagramSuite(datagramTarget("async"));
datagramSuite(datagramTarget("iterative"));
