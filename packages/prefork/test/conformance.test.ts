// The shared conformance suite. maxConnections is a per-worker limit in prefork (as gunicorn's
// worker_connections); the suite's limit is the whole server's, so a start that sets it runs one
// worker.
import { conformanceSuite, type StartOptions } from "@echo/conformance";
import * as core from "@echo/core";
import { PreforkServer, type Schedule } from "@echo/prefork";

const quiet = { info: () => {}, error: () => {} };

function target(schedule: Schedule) {
  return {
    name: `prefork ${schedule}`,
    errors: core,
    concurrent: true,
    worker: /^Process-\d+$/,
    async start(options: StartOptions) {
      const workers = options.maxConnections === undefined ? 2 : 1;
      const server = new PreforkServer({
        schedule,
        workers,
        execArgv: [],
        host: "127.0.0.1",
        port: 0,
        logger: quiet,
        ...options,
      });
      const address = await server.listen();
      return {
        address: address.kind === "unix" ? { path: address.path } : { host: address.host, port: address.port },
        stats: () => server.stats(),
        close: () => server.close(),
      };
    },
  };
}

conformanceSuite(target("os"));
conformanceSuite(target("round-robin"));
