#!/usr/bin/env node
/**
 * `echo-prefork`: the pre-forked server from the command line. Signals on the master:
 * SIGTERM/SIGINT graceful shutdown, SIGQUIT quick shutdown, SIGHUP reload, SIGTTIN/SIGTTOU
 * one worker more/less.
 * @module
 */
import { cliLogger, runServerCli } from "@echo/core/model-kit";
import { schedules, type Schedule } from "./options.js";
import { PreforkServer } from "./server.js";

function distribution(server: PreforkServer): Promise<string> {
  return server
    .stats()
    .then(
      (s) =>
        `${s.accepted} connections; per worker: ${s.workers.map((w) => `${w.name} ${w.stats.accepted}`).join(", ")}`,
    );
}

function report(error: unknown): void {
  const code = (error as { code?: string })?.code;
  process.stderr.write(
    `echo-prefork: error: ${code ? `${code}: ` : ""}${(error as Error)?.message ?? String(error)}\n`,
  );
}

await runServerCli({
  name: "echo-prefork",
  summary:
    "A master binds once and supervises N worker processes that serve the handler. Signals: SIGTERM/SIGINT graceful " +
    "shutdown, SIGQUIT quick shutdown, SIGHUP zero-downtime reload, SIGTTIN/SIGTTOU add/remove a worker.",
  extra: {
    workers: {
      kind: "integer",
      min: 1,
      max: 1024,
      value: "N",
      description: "worker processes (default: the number of CPUs)",
    },
    schedule: {
      kind: "choice",
      choices: schedules,
      default: "os",
      description: "os: workers accept on the shared socket; round-robin: the master deals (default os)",
    },
    "heartbeat-timeout": {
      kind: "integer",
      min: 1001,
      value: "MS",
      description: "kill and replace a worker silent this long (default 10000)",
    },
    "max-requests": {
      kind: "integer",
      min: 0,
      value: "N",
      description: "recycle a worker after N connections; 0 disables (default 0)",
    },
    "max-requests-jitter": {
      kind: "integer",
      min: 0,
      value: "N",
      description: "add 0..N to each worker's --max-requests (default 0)",
    },
  },
  dropsPrivileges: true,
  async start(args) {
    const schedule = args.extra.schedule as Schedule;
    const int = (flag: string): number | undefined => args.extra[flag] as number | undefined;
    const workers = int("workers");
    const heartbeatTimeout = int("heartbeat-timeout");
    const maxRequests = int("max-requests");
    const maxRequestsJitter = int("max-requests-jitter");
    const server = new PreforkServer({
      ...args.options,
      schedule,
      ...(workers !== undefined ? { workers } : {}),
      ...(heartbeatTimeout !== undefined ? { heartbeatTimeout } : {}),
      ...(maxRequests !== undefined ? { maxRequests } : {}),
      ...(maxRequestsJitter !== undefined ? { maxRequestsJitter } : {}),
      ...(args.privileges ? { privileges: args.privileges } : {}),
      logger: cliLogger,
    });
    const address = await server.listen();
    const log = (line: string): void => void process.stderr.write(`echo-prefork: ${line}\n`);
    const act = (signal: string, what: () => Promise<unknown>, done: (value: unknown) => string): void => {
      process.on(signal, () => {
        log(`${signal}`);
        what().then((value) => log(done(value)), report);
      });
    };
    act(
      "SIGHUP",
      () => server.reload(),
      () =>
        `reloaded: ${server
          .workers()
          .map((w) => `${w.name} pid ${w.pid}`)
          .join(", ")}`,
    );
    act(
      "SIGTTIN",
      () => server.addWorker(),
      () => `${server.workerCount} workers`,
    );
    act(
      "SIGTTOU",
      () => server.removeWorker(),
      () => `${server.workerCount} workers`,
    );
    process.once("SIGQUIT", () => {
      log("SIGQUIT, quick shutdown");
      server.quit().then(
        () => process.exit(0),
        (error) => (report(error), process.exit(1)),
      );
    });
    const finished = server.finished.then(() => {
      if (server.failure) {
        report(server.failure);
        process.exit(1);
      }
    });
    return {
      address,
      model: `prefork (${server.workerCount} workers, schedule ${schedule})`,
      async close() {
        log(await distribution(server).catch(() => "no stats"));
        await server.close();
      },
      finished,
    };
  },
});
