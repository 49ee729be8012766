/**
 * The entry of one serving thread: loads the handler, takes a listener as the main thread says,
 * and serves every connection it accepts with core's `serveSocket` on its own event loop.
 * @internal
 */
import { createServer, type Server, type Socket } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import type { Handler, Logger } from "@echo/core";
import {
  drainSockets,
  loadHandler,
  listenServer,
  serveSocket,
  serverAddress,
  toWire,
  type Drain,
  type ServerStats,
} from "@echo/core/model-kit";
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
const open = new Int32Array(data.open);
/** How long a thread over its fair share pauses after an accept, per connection over (see balance()). */
const YIELD_MS_PER_CONNECTION = 0.25;
const MAX_YIELD_MS = 2;
/** How often a thread over its fair share polls its sockets while it stays over. */
const POLL_MS = 1;
/** A backing-off thread stops once no thread has accepted a connection for this long. */
const QUIET_STOP_MS = 1_000;
const connections = new Set<Socket>();
let server: Server | undefined;
let closing = false;
let drain: Drain | undefined;
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
 * Balancing on the shared-descriptor path. Every thread's epoll wakes for a new connection and
 * the first thread to run accepts it, and every other one still queued (libuv accepts until the
 * queue is empty): the kernel, not us, picks the winner. A thread holding more than its fair
 * share (more than one connection above the mean) makes itself a slow competitor:
 * - right after an accept it sleeps a moment (0.25 ms per connection over, at most 2 ms), as
 *   libuv's UV_TCP_SINGLE_ACCEPT did, leaving the rest of a burst to the other threads;
 * - while it stays over, it polls its sockets every millisecond instead of waiting in epoll, so
 *   the threads waiting in epoll win the next connections. Its own clients may wait up to 1 ms
 *   more meanwhile; once no thread has accepted anything for a second it stops (backing off
 *   only matters while connections arrive). Balanced threads never sleep.
 */
function excess(): number {
  const live = Atomics.load(shared, SharedCell.LIVE);
  if (live < 2) return 0;
  return stats.active - Atomics.load(shared, SharedCell.ACTIVE) / live;
}

let yielding = false;
let acceptsSeen = 0;
let acceptsSeenAt = 0;

function yieldWhileOver(): void {
  const accepts = Atomics.load(shared, SharedCell.ACCEPTS);
  const now = performance.now();
  if (accepts !== acceptsSeen) {
    acceptsSeen = accepts;
    acceptsSeenAt = now;
  }
  if (closing || excess() <= 1 || now - acceptsSeenAt > QUIET_STOP_MS) {
    yielding = false;
    return;
  }
  Atomics.wait(nap, 0, 0, POLL_MS);
  // An immediate makes the next poll non-blocking: handle what is ready, then come back here.
  setImmediate(yieldWhileOver);
}

function balance(): void {
  const over = excess();
  if (over <= 1) return;
  Atomics.wait(nap, 0, 0, Math.min(MAX_YIELD_MS, over * YIELD_MS_PER_CONNECTION));
  if (!yielding) {
    yielding = true;
    acceptsSeen = Atomics.load(shared, SharedCell.ACCEPTS);
    acceptsSeenAt = performance.now();
    setImmediate(yieldWhileOver);
  }
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
  Atomics.add(shared, SharedCell.ACCEPTS, 1);
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
      drain?.closed();
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

/** Closes our listener (the descriptor is closed synchronously) and tells a waiting main thread. */
function stopAccepting(): void {
  if (server?.listening) server.close();
  Atomics.store(open, 0, 0);
  Atomics.notify(open, 0);
}

function close(timeout: number): void {
  closing = true;
  stopAccepting();
  drain = drainSockets(connections, {
    timeout,
    onTimeout: (error) => logger.error(`[echo] ${data.name}: ${error.message}`),
    onDrained: () => post({ type: "closed" }),
  });
}

async function main(): Promise<void> {
  let handler: Handler;
  try {
    handler = await loadHandler(
      data.handlerUrl,
      { worker: data.name, options: data.handlerOptions },
      undefined,
      data.handlerLabel,
    );
  } catch (error) {
    post({ type: "loadError", error: toWire(error) });
    // Nothing else keeps this thread alive: it ends, and the main thread fails listen().
    port.close();
    return;
  }
  port.on("message", (message: ToThread) => {
    if (message.type === "listen") {
      listen(handler, message).then(
        () => {
          if (closing) {
            stopAccepting();
            return;
          }
          Atomics.store(open, 0, 1);
          post({
            type: "listening",
            address: serverAddress(server!),
            fd: (server as unknown as { _handle: { fd: number } })._handle.fd,
          });
        },
        (error: unknown) => post({ type: "listenError", error: toWire(error) }),
      );
    } else if (message.type === "close") {
      close(message.timeout);
    }
  });
  post({ type: "ready" });
}

await main();
