#!/usr/bin/env node
/**
 * `echo-prefork`: the pre-forked server from the command line. Signals on the master:
 * SIGTERM/SIGINT graceful shutdown, SIGQUIT quick shutdown, SIGHUP reload, SIGTTIN/SIGTTOU
 * one worker more/less.
 * @module
 */
import { InvalidArgumentError, cliLogger, runServerCli } from "@echo/core";
import { schedules, type Schedule } from "./options.js";
import { PreforkServer } from "./server.js";

function count(flag: string, raw: string | boolean | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^\d+$/.test(raw) || Number(raw) < min) {
    throw new InvalidArgumentError(`--${flag} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

function distribution(server: PreforkServer): Promise<string> {
  return server.stats().then((s) => `${s.accepted} connections; per worker: ${s.workers.map((w) => `${w.name} ${w.stats.accepted}`).join(", ")}`);
}

function report(error: unknown): void {
  const code = (error as { code?: string })?.code;
  process.stderr.write(`echo-prefork: error: ${code ? `${code}: ` : ""}${(error as Error)?.message ?? String(error)}\n`);
}

await runServerCli({
  name: "echo-prefork",
  summary:
    "A master binds once and supervises N worker processes that serve the handler. Signals: SIGTERM/SIGINT graceful " +
    "shutdown, SIGQUIT quick shutdown, SIGHUP zero-downtime reload, SIGTTIN/SIGTTOU add/remove a worker.",
  extra: {
    workers: { type: "string", value: "N", description: "worker processes (default: the number of CPUs)" },
    schedule: { type: "string", value: "os|round-robin", description: "os: workers accept on the shared socket; round-robin: the master deals (default os)" },
    "heartbeat-timeout": { type: "string", value: "MS", description: "kill and replace a worker silent this long (default 10000)" },
    "max-requests": { type: "string", value: "N", description: "recycle a worker after N connections; 0 disables (default 0)" },
    "max-requests-jitter": { type: "string", value: "N", description: "add 0..N to each worker's --max-requests (default 0)" },
  },
  dropsPrivileges: true,
  async start(args) {
    const schedule = (args.extra.schedule as string | undefined) ?? "os";
    if (!schedules.includes(schedule as Schedule)) throw new InvalidArgumentError(`--schedule must be one of ${schedules.join(", ")}, got ${JSON.stringify(schedule)}`);
    const workers = count("workers", args.extra.workers, 1);
    const heartbeatTimeout = count("heartbeat-timeout", args.extra["heartbeat-timeout"], 1001);
    const maxRequests = count("max-requests", args.extra["max-requests"], 0);
    const maxRequestsJitter = count("max-requests-jitter", args.extra["max-requests-jitter"], 0);
    const server = new PreforkServer({
      ...args.options,
      schedule: schedule as Schedule,
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
    act("SIGHUP", () => server.reload(), () => `reloaded: ${server.workers().map((w) => `${w.name} pid ${w.pid}`).join(", ")}`);
    act("SIGTTIN", () => server.addWorker(), () => `${server.workerCount} workers`);
    act("SIGTTOU", () => server.removeWorker(), () => `${server.workerCount} workers`);
    process.once("SIGQUIT", () => {
      log("SIGQUIT, quick shutdown");
      server.quit().then(() => process.exit(0), (error) => (report(error), process.exit(1)));
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
