import {
  conformanceSuite,
  datagramSuite,
  observabilitySuite,
  type DatagramStartOptions,
  type ObservedStartOptions,
  type StartOptions,
} from "@echo/conformance";
import { dgramHasReusePort } from "@echo/core/model-kit";
import * as core from "@echo/core";
import { ThreadedServer, type AcceptPath } from "@echo/threaded";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

const quiet = { info: () => {}, error: () => {} };
const probe = new ThreadedServer({ threads: 1, accept: "reusePort", logger: quiet });
const hasReusePort = await probe.listen().then(
  () => true,
  () => false,
);
await probe.close();

function target(accept: AcceptPath) {
  return {
    name: `threaded (3 threads, accept ${accept})`,
    errors: core,
    concurrent: true,
    worker: /^Thread-[1-3]$/,
    // Unix sockets are not supported: several threads cannot share one in Node.
    unix: false,
    // The CLI picks its accept path itself (reusePort where Node has it), so it runs once.
    ...(accept === "shared" ? { cli: { command: process.execPath, args: [cli, "--threads", "2"] } } : {}),
    async start(options: StartOptions) {
      const server = new ThreadedServer({ threads: 3, accept, host: "127.0.0.1", port: 0, logger: quiet, ...options });
      const address = await server.listen();
      if (address.kind !== "tcp") throw new Error("expected a TCP address");
      return {
        address: { host: address.host, port: address.port },
        stats: () => server.stats(),
        close: () => server.close(),
      };
    },
  };
}

conformanceSuite(target("shared"));
if (hasReusePort) conformanceSuite(target("reusePort"));

observabilitySuite({
  name: "threaded (3 threads)",
  model: "threaded",
  worker: /^Thread-[1-3]$/,
  async start(options: ObservedStartOptions) {
    const server = new ThreadedServer({ threads: 3, accept: "shared", host: "127.0.0.1", port: 0, ...options });
    const address = await server.listen();
    if (address.kind !== "tcp") throw new Error("expected a TCP address");
    return {
      address: { host: address.host, port: address.port },
      metrics: server.metricsAddress()!,
      close: () => server.close(),
    };
  },
});
// UDP: one SO_REUSEPORT datagram socket per thread where Node's dgram has reusePort (22.12+).
if (dgramHasReusePort()) {
  datagramSuite({
    name: "threaded (3 threads)",
    errors: core,
    worker: /^Thread-[1-3]$/,
    workers: 3,
    async start(options: DatagramStartOptions) {
      const server = new ThreadedServer({ threads: 3, host: "127.0.0.1", port: 0, logger: quiet, ...options });
      const address = await server.listen();
      if (address.kind === "unix") throw new Error("unexpected unix address");
      return {
        address: { host: address.host, port: address.port },
        stats: () => server.stats(),
        close: () => server.close(),
      };
    },
  });
}
