/**
 * The worker process entry (`dist/worker.js`), forked by `node:cluster`. It waits for its
 * configuration, drops privileges if asked, then serves with core's `EchoServer`; its `listen`
 * goes through cluster, so the master does the bind and the socket is shared.
 * @internal
 */
import cluster from "node:cluster";
import { EchoServer, loadPrivdrop, type Logger } from "@echo/core";
import { isEchoMessage, type FromWorker, type ToWorker, type WorkerConfig } from "./internal/protocol.js";
import { toWire } from "./internal/wire-error.js";

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

let server: EchoServer | undefined;
let stopping: Promise<void> | undefined;
let failed = false;

let bye: (() => void) | undefined;

/**
 * Stops accepting, drains for up to `timeout` ms, reports the final counters, exits.
 *
 * Before exiting, one round trip with the master: under round-robin the master may have sent
 * this worker a connection just before it saw the listener close. IPC is ordered, so once the
 * master's "bye" arrives every such connection has been handed back (cluster answers them with
 * accepted: false and the master deals them to another worker); exiting earlier would lose them.
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

async function start(config: WorkerConfig): Promise<void> {
  let dropped: string | undefined;
  try {
    if (config.privileges) {
      // Before any handler code runs, and before accepting: the worker never serves as root.
      const privdrop = await loadPrivdrop();
      const result = privdrop.dropPrivileges(config.privileges);
      dropped = privdrop.formatDropResult ? privdrop.formatDropResult(result) : JSON.stringify(result);
    }
    server = new EchoServer({
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
    if (config.maxRequests > 0) {
      let served = 0;
      server.on("connection", () => {
        if (++served === config.maxRequests) send({ echo: 1, type: "retire" });
      });
    }
    const address = await server.listen();
    if (stopping) return;
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

process.on("message", (message: unknown) => {
  if (!isEchoMessage(message)) return;
  const m = message as ToWorker;
  if (m.type === "start") void start(m.config);
  else if (m.type === "stop") stop(m.timeout);
  else if (m.type === "bye") bye?.();
  else if (m.type === "stats") send({ echo: 1, type: "stats", seq: m.seq, stats: server ? server.stats() : zeroStats() });
});

// Messages that arrive before a listener exists are dropped: ask for the configuration now.
send({ echo: 1, type: "ready" });

// The master is gone (killed, crashed): finish what is open and leave, never linger as an orphan.
process.on("disconnect", () => stop(server ? server.limits.closeTimeout : 0));

function zeroStats(): ReturnType<EchoServer["stats"]> {
  return { accepted: 0, active: 0, queued: 0, closed: 0, rejected: 0, bytesIn: 0, bytesOut: 0, errors: 0, timeouts: 0 };
}
