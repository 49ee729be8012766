/**
 * The worker process entry (`dist/worker.js`), forked by `node:cluster`. It waits for its
 * configuration, drops privileges if asked, then serves: under `os` with core's `EchoServer`,
 * whose `listen` goes through cluster (the master binds, every worker accepts on the shared
 * socket); under `round-robin` with core's `serveSocket` on connections the master sends.
 * @internal
 */
import cluster from "node:cluster";
import type { Socket } from "node:net";
import { EchoServer, type Logger, type StatsSnapshot } from "@echo/core";
import { ServerStats, loadPrivdrop, toWire } from "@echo/core/model-kit";
import { DealtServer } from "./internal/dealt-server.js";
import { isEchoMessage, type FromWorker, type ToWorker, type WorkerConfig } from "./internal/protocol.js";

if (!cluster.isWorker || !process.send) {
  process.stderr.write("@echo/prefork: dist/worker.js is forked by PreforkServer; it is not run by hand\n");
  process.exit(2);
}

function send(message: FromWorker, then?: () => void): void {
  if (!process.connected) {
    then?.();
    return;
  }
  process.send!(message, undefined, {}, () => then?.());
}

// Ctrl-C reaches the whole process group; the master decides how workers stop.
process.on("SIGINT", () => {});
process.on("SIGHUP", () => {});

const logger: Logger = {
  info: (message) => process.stdout.write(`${message}\n`),
  error: (message) => process.stderr.write(`${message}\n`),
};

let server: EchoServer | DealtServer | undefined;
let stopping: Promise<void> | undefined;
let failed = false;
let serving = false;

let bye: (() => void) | undefined;

/**
 * Stops accepting, drains for up to `timeout` ms, reports the final counters, exits.
 *
 * Before exiting, one round trip with the master: IPC is ordered, so once the master's "bye"
 * arrives, every message it sent before (a round-robin connection dealt just before it took this
 * worker out of the rotation) has been handled; exiting earlier could drop one.
 */
function stop(timeout: number): void {
  if (stopping || failed) return;
  const running = server;
  stopping = (async () => {
    if (!running) return;
    await running.close({ timeout });
    if (!process.connected) return;
    await new Promise<void>((resolve) => {
      bye = resolve;
      setTimeout(resolve, 5000).unref();
      send({ echo: 1, type: "drained", stats: running.stats() });
    });
  })().finally(() => process.exit(0));
}

/** A per-connection callback that asks the master for recycling at the `max`th connection. */
function retireAfter(max: number): () => void {
  let served = 0;
  return () => {
    if (++served === max) send({ echo: 1, type: "retire" });
  };
}

async function start(config: WorkerConfig): Promise<void> {
  let dropped: string | undefined;
  try {
    if (config.privileges) {
      // Before any handler code runs, and before accepting: the worker never serves as root.
      const privdrop = await loadPrivdrop();
      const result = privdrop.dropPrivileges(config.privileges);
      dropped = privdrop.formatDropResult ? privdrop.formatDropResult(result) : JSON.stringify(result);
    }
    let address;
    if (config.dealt) {
      const dealt = await DealtServer.create({ ...config, logger });
      server = dealt;
      dealt.onConnection = retireAfter(config.maxRequests);
      address = config.dealt;
    } else {
      const shared = new EchoServer({
        model: "async",
        handler: config.handler,
        handlerOptions: config.handlerOptions,
        host: config.host,
        port: config.port,
        ...(config.path !== undefined ? { path: config.path } : {}),
        ipv6Only: config.ipv6Only,
        backlog: config.backlog,
        ...config.limits,
        logConnections: config.logConnections,
        logger,
        workerName: config.name,
      });
      // Listen errors reach listen()'s promise; this keeps EchoServer from rethrowing them
      // as an uncaught 'error' event.
      shared.on("error", (error: Error) => {
        if (serving) logger.error(`[echo] ${config.name}: ${error.message}`);
      });
      server = shared;
      shared.on("connection", retireAfter(config.maxRequests));
      address = await shared.listen();
    }
    if (stopping) return;
    serving = true;
    send({ echo: 1, type: "listening", address, ...(dropped !== undefined ? { dropped } : {}) });
  } catch (error) {
    failed = true;
    send({ echo: 1, type: "bootError", error: toWire(error) }, () => process.exit(1));
    return;
  }
  const beat = (): void => send({ echo: 1, type: "heartbeat", stats: server!.stats() });
  beat();
  setInterval(beat, config.heartbeatInterval).unref();
}

process.on("message", (message: unknown, handle: unknown) => {
  if (!isEchoMessage(message)) return;
  const m = message as ToWorker;
  if (m.type === "conn") {
    const socket = handle as Socket | undefined;
    // child_process rebuilds the socket with allowHalfOpen false, which would answer the client's
    // EOF by ending our side before the handler is done. Safe to flip now: reading starts later.
    if (socket) (socket as { allowHalfOpen: boolean }).allowHalfOpen = true;
    // Dealt before the master took this worker out of the rotation: serve it even while draining.
    if (server instanceof DealtServer && socket) server.serve(socket);
    else socket?.destroy();
  } else if (m.type === "start") void start(m.config);
  else if (m.type === "stop") stop(m.timeout);
  else if (m.type === "bye") bye?.();
  else if (m.type === "stats")
    send({ echo: 1, type: "stats", seq: m.seq, stats: server ? server.stats() : zeroStats() });
});

// Messages that arrive before a listener exists are dropped: ask for the configuration now.
send({ echo: 1, type: "ready" });

// The master is gone (killed, crashed): finish what is open and leave, never linger as an orphan.
process.on("disconnect", () => stop(server ? server.limits.closeTimeout : 0));

function zeroStats(): StatsSnapshot {
  return new ServerStats().snapshot();
}
