/**
 * The entry of one serving thread: loads the handler, takes a listener as the main thread says,
 * and serves every connection it accepts with core's `serveSocket` on its own event loop.
 * @internal
 */
import { createServer, type Server, type Socket } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import {
  CloseTimeoutError,
  loadHandler,
  listenServer,
  serveSocket,
  serverAddress,
  type Handler,
  type Logger,
  type ServerStats,
} from "@echo/core";
import { duplicateListener, type NativeHandle } from "./listener.js";
import type { FromThread, ListenHow, ThreadData, ToThread } from "./protocol.js";
import { SharedCell, SharedStats } from "./shared-stats.js";

const data = workerData as ThreadData;
const port = parentPort!;
const post = (message: FromThread): void => port.postMessage(message);
const logger: Logger = {
  info: (message) => post({ type: "log", level: "info", message }),
  error: (message) => post({ type: "log", level: "error", message }),
};
const stats = new SharedStats(data.stats) as unknown as ServerStats;
const shared = new Int32Array(data.shared);
const nap = new Int32Array(new SharedArrayBuffer(4));
/** How long a thread over its fair share pauses after an accept, in ms (see balance()). */
const YIELD_MS = 0.5;
const connections = new Set<Socket>();
let server: Server | undefined;
let closing = false;
let onDrained: (() => void) | undefined;
let gauge: NodeJS.Timeout | undefined;

/**
 * `stats.buffered` is a gauge of bytes held for clients. The main thread cannot read this
 * thread's sockets, so this thread samples them into shared memory while it has connections.
 */
function sampleBuffered(): void {
  let buffered = 0;
  for (const socket of connections) buffered += socket.writableLength;
  stats.buffered = buffered;
  if (connections.size === 0 && gauge) {
    clearInterval(gauge);
    gauge = undefined;
  }
}

/**
 * On the shared-descriptor path every thread's epoll wakes for a new connection and the first to
 * run accepts all that are queued, so one thread could take a burst. A thread holding more than
 * its fair share sleeps a moment after an accept (as libuv's UV_TCP_SINGLE_ACCEPT did), which
 * leaves the queued connections to the other threads.
 */
function balance(): void {
  const live = Atomics.load(shared, SharedCell.LIVE);
  if (live < 2) return;
  const total = Atomics.load(shared, SharedCell.ACTIVE);
  if (stats.active * live > total + live) Atomics.wait(nap, 0, 0, YIELD_MS);
}

function admit(handler: Handler, socket: Socket): void {
  if (closing) {
    socket.destroy();
    return;
  }
  // maxConnections holds for the whole server: one counter in shared memory.
  if (Atomics.add(shared, SharedCell.ACTIVE, 1) >= data.limits.maxConnections) {
    Atomics.sub(shared, SharedCell.ACTIVE, 1);
    stats.rejected++;
    socket.destroy();
    return;
  }
  connections.add(socket);
  gauge ??= setInterval(sampleBuffered, 10).unref();
  serveSocket(socket, {
    handler,
    limits: data.limits,
    stats,
    worker: data.name,
    logger,
    logConnections: data.logConnections,
    onClose: () => {
      connections.delete(socket);
      Atomics.sub(shared, SharedCell.ACTIVE, 1);
      sampleBuffered();
      if (connections.size === 0) onDrained?.();
    },
  });
  if (data.balance) balance();
}

function listenOnHandle(srv: Server, handle: NativeHandle, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(handle, backlog, () => {
      srv.off("error", reject);
      resolve();
    });
  });
}

async function listen(handler: Handler, how: ListenHow): Promise<void> {
  const srv = createServer({ allowHalfOpen: true });
  srv.on("connection", (socket: Socket) => admit(handler, socket));
  server = srv;
  if (how.how === "reusePort") {
    await listenServer(srv, how.listen, { reusePort: true });
  } else {
    const handle = await duplicateListener(how.fd, data.helperPath);
    try {
      await listenOnHandle(srv, handle, how.backlog);
    } catch (error) {
      handle.close();
      throw error;
    }
    // The descriptor number we inherited from could have been reused by something else.
    const address = serverAddress(srv);
    if (address.kind !== "tcp" || address.port !== how.expectPort) {
      srv.close();
      throw new Error(`the duplicated descriptor is not the server's listener (got ${JSON.stringify(address)})`);
    }
  }
  srv.on("error", (error) => logger.error(`[echo] ${data.name}: listener error: ${error.message}`));
}

function close(timeout: number): void {
  closing = true;
  if (server?.listening) server.close();
  const done = (): void => post({ type: "closed" });
  if (connections.size === 0) {
    done();
    return;
  }
  const timer = setTimeout(() => {
    logger.error(`[echo] ${data.name}: ${new CloseTimeoutError(timeout, connections.size).message}`);
    for (const socket of connections) socket.destroy();
  }, timeout);
  onDrained = () => {
    clearTimeout(timer);
    done();
  };
}

async function main(): Promise<void> {
  let handler: Handler;
  try {
    handler = await loadHandler(data.handlerUrl, { worker: data.name, options: data.handlerOptions });
  } catch (error) {
    post({ type: "loadError", message: (error as Error)?.message ?? String(error) });
    // Nothing else keeps this thread alive: it ends, and the main thread fails listen().
    port.close();
    return;
  }
  port.on("message", (message: ToThread) => {
    if (message.type === "listen") {
      listen(handler, message).then(
        () => post({ type: "listening", address: serverAddress(server!), fd: (server as unknown as { _handle: { fd: number } })._handle.fd }),
        (error: NodeJS.ErrnoException) => {
          const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
          post({ type: "listenError", errno: cause?.code ?? error.code, message: error.message });
        },
      );
    } else if (message.type === "close") {
      close(message.timeout);
    }
  });
  post({ type: "ready" });
}

await main();
