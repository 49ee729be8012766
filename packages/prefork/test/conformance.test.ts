// The shared conformance suite. maxConnections is a per-worker limit in prefork (as gunicorn's
// worker_connections); the suite's limit is the whole server's, so a start that sets it runs one
// worker.
import { conformanceSuite, datagramSuite, type DatagramStartOptions, type StartOptions } from "@echo/conformance";
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

// UDP: the workers share the master's datagram socket through cluster.
datagramSuite({
  name: "prefork os (2 workers)",
  errors: core,
  worker: /^Process-\d+$/,
  workers: 2,
  async start(options: DatagramStartOptions) {
    const server = new PreforkServer({
      schedule: "os",
      workers: 2,
      execArgv: [],
      host: "127.0.0.1",
      port: 0,
      logger: quiet,
      ...options,
    });
    const address = await server.listen();
    if (address.kind === "unix") throw new Error("unexpected unix address");
    return {
      address: { host: address.host, port: address.port },
      stats: () => server.stats(),
      close: () => server.close(),
    };
  },
});
