import { conformanceSuite, type StartOptions } from "@echo/conformance";
import * as core from "@echo/core";
import { ThreadedServer, type AcceptPath } from "@echo/threaded";

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
