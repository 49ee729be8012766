import {
  conformanceSuite,
  datagramSuite,
  observabilitySuite,
  type DatagramStartOptions,
  type ObservedStartOptions,
  type StartOptions,
} from "@echo/conformance";
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

// The observability part: the iterative and once models share this code path, and the suite
// holds several connections open at once, so it runs on async.
observabilitySuite({
  name: "core async",
  model: "async",
  worker: /^MainThread$/,
  async start(options: ObservedStartOptions) {
    const server = new EchoServer({ model: "async", host: "127.0.0.1", port: 0, ...options });
    const address = await server.listen();
    if (address.kind !== "tcp") throw new Error("expected a TCP address");
    return {
      address: { host: address.host, port: address.port },
      metrics: server.metricsAddress()!,
      close: () => server.close(),
    };
  },
});
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
