// The shared conformance suite. maxConnections is a per-worker limit in prefork (as gunicorn's
// worker_connections); the suite's limit is the whole server's, so a start that sets it runs one
// worker.
import { once } from "node:events";
import {
  conformanceSuite,
  datagramSuite,
  killedWorkerSuite,
  observabilitySuite,
  type DatagramStartOptions,
  type ObservedStartOptions,
  type StartOptions,
} from "@echo/conformance";
import * as core from "@echo/core";
import { PreforkServer, type Schedule } from "@echo/prefork";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

const quiet = { info: () => {}, error: () => {} };

function target(schedule: Schedule) {
  return {
    name: `prefork ${schedule}`,
    errors: core,
    concurrent: true,
    worker: /^Process-\d+$/,
    cli: { command: process.execPath, args: [cli, "--workers", "2", "--schedule", schedule] },
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

function observed(schedule: Schedule) {
  return {
    name: `prefork ${schedule} (2 workers)`,
    model: "prefork",
    worker: /^Process-\d+$/,
    async start(options: ObservedStartOptions) {
      const server = new PreforkServer({ schedule, workers: 2, execArgv: [], host: "127.0.0.1", port: 0, ...options });
      const address = await server.listen();
      if (address.kind !== "tcp") throw new Error("expected a TCP address");
      return {
        address: { host: address.host, port: address.port },
        metrics: server.metricsAddress()!,
        close: () => server.close(),
        async killWorker() {
          const victim = server.workers().find((w) => w.state === "listening")!;
          const exited = once(server, "exit");
          process.kill(victim.pid, "SIGKILL");
          await exited;
        },
      };
    },
  };
}

observabilitySuite(observed("os"));
observabilitySuite(observed("round-robin"));
killedWorkerSuite(observed("os"));
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
