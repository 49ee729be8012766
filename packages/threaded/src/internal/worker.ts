/**
 * The entry of one serving thread: loads the handler, takes a listener as the main thread says,
 * and serves every connection it accepts with core's `serveSocket` on its own event loop.
 * @internal
 */
import type { Socket as DatagramSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import type { Handler, Logger, ServerAddress } from "@echo/core";
import {
  AcceptBackoff,
  ConnectionLifetimes,
  bindDatagramSocket,
  carryFields,
  DatagramStats,
  drainSockets,
  loadHandler,
  listenServer,
  proxyGate,
  serveDatagrams,
  serveSocket,
  serverAddress,
  toWire,
  type DatagramService,
  type Drain,
  type JsonLogger,
  type LogFields,
  type ServerStats,
} from "@echo/core/model-kit";
import { duplicateListener, type NativeHandle } from "./listener.js";
import type { FromThread, ListenHow, ThreadData, ToThread } from "./protocol.js";
import { SharedCell, SharedStats } from "./shared-stats.js";

const data = workerData as ThreadData;
const port = parentPort!;
const post = (message: FromThread): void => port.postMessage(message);
// With logFormat "json" the main thread logs through a JSON logger: lines carry their fields.
const logger: Logger | JsonLogger = data.structured
  ? {
      structured: true,
      info: (message: string, fields?: LogFields) =>
        post({ type: "log", level: "info", message, fields: carryFields(fields) }),
      error: (message: string, fields?: LogFields) =>
        post({ type: "log", level: "error", message, fields: carryFields(fields) }),
      child: () => logger as JsonLogger,
    }
  : {
      info: (message: string) => post({ type: "log", level: "info", message }),
      error: (message: string) => post({ type: "log", level: "error", message }),
    };
const lifetimes = new ConnectionLifetimes(undefined, new Float64Array(data.lifetimes));
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
const gate = proxyGate(data.proxy);
let server: Server | undefined;
let datagramSocket: DatagramSocket | undefined;
let datagrams: DatagramService | undefined;
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
    if (data.structured) {
      (logger as JsonLogger).info(
        `rejected a connection from ${socket.remoteAddress ?? "unix"}: maxConnections (${data.limits.maxConnections}) reached`,
        {
          event: "rejection",
          remoteAddress: socket.remoteAddress ?? null,
          code: "ECHO_ERR_MAX_CONNECTIONS",
        },
      );
    }
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
    lifetimes,
    ...(gate !== undefined ? { proxy: gate } : {}),
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

/** Binds this thread's own datagram socket (SO_REUSEPORT) on `port` and serves it. */
async function listenDatagrams(
  handler: Handler,
  listen: ListenHow & { how: "reusePort" | "datagram" },
  port: number,
): Promise<void> {
  const socket = await bindDatagramSocket({ ...listen.listen, port }, { reusePort: true });
  datagramSocket = socket;
  datagrams = serveDatagrams(socket, {
    handler: handler as Required<Pick<Handler, "onDatagram">>,
    options: data.datagram,
    stats: new DatagramStats(data.datagramStats),
    worker: data.name,
    model: "async",
    logger,
    logDatagrams: data.logConnections,
  });
}

/** The address to report: TCP when a listener exists, else the datagram socket's. */
function boundAddress(): ServerAddress {
  if (server) return serverAddress(server);
  const raw = datagramSocket!.address();
  return { kind: "udp", host: raw.address, port: raw.port, family: raw.family === "IPv6" ? "IPv6" : "IPv4" };
}

/** How a TCP listener is opened: its own `reusePort` socket or a duplicate descriptor. */
type TcpListenHow = Exclude<ListenHow, { how: "datagram" }>;

/** Opens a listener as the main thread said: its own `reusePort` socket or a duplicate descriptor. */
async function openListener(handler: Handler, how: TcpListenHow): Promise<Server> {
  const srv = createServer({ allowHalfOpen: true });
  srv.on("connection", (socket: Socket) => {
    backoff?.accepted();
    admit(handler, socket);
  });
  if (how.how === "reusePort") {
    await listenServer(srv, how.listen, { reusePort: true });
  } else {
    const handle = await duplicateListener(how.source ?? how.fd, data.helperPath);
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
  srv.on("error", (error) => {
    if (!backoff?.handle(error)) logger.error(`[echo] ${data.name}: listener error: ${error.message}`);
  });
  return srv;
}

/**
 * Out of descriptors, this thread closes its listener (other threads and the kernel's queue
 * keep the socket) and opens a new one after a growing pause: see AcceptBackoff. A `reusePort`
 * listener rebinds the port the first one got.
 */
let backoff: AcceptBackoff | undefined;

async function listen(handler: Handler, how: ListenHow): Promise<void> {
  if (how.how === "datagram") return listenDatagrams(handler, how, how.listen.port);
  server = await openListener(handler, how);
  const bound = serverAddress(server);
  const again: TcpListenHow =
    how.how === "reusePort" && bound.kind === "tcp"
      ? { how: "reusePort", listen: { ...how.listen, port: bound.port } }
      : how;
  backoff = new AcceptBackoff({
    name: data.name,
    logger,
    stats,
    pause: () => {
      if (server?.listening) server.close();
    },
    resume: async () => {
      const next = await openListener(handler, again);
      if (closing) {
        next.close();
        return;
      }
      server = next;
    },
  });
  backoff.watch();
  if (data.datagram.transport === "both" && how.how === "reusePort") {
    try {
      await listenDatagrams(handler, how, bound.kind === "tcp" ? bound.port : how.listen.port);
    } catch (error) {
      backoff.stop();
      server.close();
      server = undefined;
      throw error;
    }
  }
}

/** Closes our listener (the descriptor is closed synchronously) and tells a waiting main thread. */
function stopAccepting(): void {
  if (server?.listening) server.close();
  Atomics.store(open, 0, 0);
  Atomics.notify(open, 0);
}

function close(timeout: number): void {
  closing = true;
  backoff?.stop();
  stopAccepting();
  const datagramsClosed = datagrams?.close(timeout) ?? Promise.resolve();
  drain = drainSockets(connections, {
    timeout,
    onTimeout: (error) => logger.error(`[echo] ${data.name}: ${error.message}`),
    onDrained: () => void datagramsClosed.then(() => post({ type: "closed" })),
  });
}

async function main(): Promise<void> {
  let handler: Handler;
  try {
    handler = await loadHandler(
      data.handlerUrl,
      { worker: data.name, options: data.handlerOptions, transport: data.datagram.transport },
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
            address: boundAddress(),
            fd: server ? (server as unknown as { _handle: { fd: number } })._handle.fd : -1,
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
