/**
 * Tiny real servers for the tests, on 127.0.0.1 port 0 (or a Unix socket), each closed after its test.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";

export interface TestServer {
  port: number;
  path: string | undefined;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

export type ConnectionHandler = (socket: net.Socket, server: TestServer) => void;

/** Echoes everything back; `onEnd` ends the socket when the client does (allowHalfOpen off). */
export const echo: ConnectionHandler = (socket) => {
  socket.on("data", (chunk) => {
    if (!socket.write(chunk)) socket.pause();
  });
  socket.on("drain", () => socket.resume());
};

/** Echoes, but flips every bit of byte 0 of each chunk: a corrupting server of the same length. */
export const corrupt: ConnectionHandler = (socket) => {
  socket.on("data", (chunk) => {
    const copy = Buffer.from(chunk);
    copy[0] = (copy[0] as number) ^ 0xff;
    socket.write(copy);
  });
};

/** Echoes only whole blocks of `block` bytes: a client that never has `block` bytes in flight waits forever. */
export function batching(block: number): ConnectionHandler {
  return (socket) => {
    let held = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      held = Buffer.concat([held, chunk]);
      const whole = held.length - (held.length % block);
      if (whole > 0) {
        socket.write(held.subarray(0, whole));
        held = held.subarray(whole);
      }
    });
  };
}

/** Echoes the first `bytes` bytes of a connection, then ends it (FIN). */
export function echoThenEnd(bytes: number): ConnectionHandler {
  return (socket) => {
    let seen = 0;
    socket.on("data", (chunk) => {
      const take = Math.min(chunk.length, bytes - seen);
      seen += take;
      if (take > 0) socket.write(chunk.subarray(0, take));
      if (seen >= bytes) socket.end();
    });
  };
}

const open = new Set<TestServer>();

/** Starts a server with `handler` on 127.0.0.1 (or `::1` / a Unix socket). */
export async function startServer(
  handler: ConnectionHandler = echo,
  where: "v4" | "v6" | "unix" = "v4",
): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const dir = where === "unix" ? mkdtempSync(join(tmpdir(), "echo-client-test-")) : undefined;
  const path = dir === undefined ? undefined : join(dir, "echo.sock");
  const server = net.createServer();
  const state: TestServer = {
    port: 0,
    path,
    connections: 0,
    close: async () => {
      open.delete(state);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
  server.on("connection", (socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    handler(socket, state);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (path !== undefined) server.listen(path, resolve);
    else server.listen({ port: 0, host: where === "v6" ? "::1" : "127.0.0.1" }, resolve);
  });
  if (path === undefined) state.port = (server.address() as net.AddressInfo).port;
  open.add(state);
  return state;
}

/** Closes every server a test left open. */
export async function closeAll(): Promise<void> {
  await Promise.all([...open].map((s) => s.close()));
}

/** A port on which nothing listens (bound, read back, closed). */
export async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether this machine can listen on ::1. */
export async function hasIPv6(): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen({ port: 0, host: "::1" }, () => server.close(() => resolve(true)));
  });
}

export interface FullBacklog {
  port: number;
  close(): Promise<void>;
}

/**
 * A listener on 127.0.0.1 whose accept queue is full and never drained: a worker thread listens
 * with backlog 1 and then blocks in `Atomics.wait`, so it never accepts; two connections fill the
 * queue (`fillers` of them are opened here), and the kernel drops the SYNs of every later one.
 * A connect there can only time out.
 */
export async function fullBacklog(fillers = 2): Promise<FullBacklog> {
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(
    `const { workerData, parentPort } = require("node:worker_threads");
     const net = require("node:net");
     const server = net.createServer();
     server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(new Int32Array(workerData), 0, 0);
       server.close();
     });`,
    { eval: true, workerData: flag },
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  const sockets: net.Socket[] = [];
  for (let i = 0; i < fillers; i++) {
    const socket = net.connect(port, "127.0.0.1");
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
  }
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      const view = new Int32Array(flag);
      Atomics.store(view, 0, 1);
      Atomics.notify(view, 0);
      await worker.terminate();
    },
  };
}

/** Random bytes. */
export function randomBytes(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 65536) {
    const chunk = Math.min(65536, size - i);
    globalThis.crypto.getRandomValues(bytes.subarray(i, i + chunk));
  }
  return bytes;
}
