/**
 * Raw `dgram` helpers for the datagram part of the suite: plain sockets, so a bug in
 * `@echo/client` cannot hide a bug in a server. Every wait is bounded.
 */
import { Buffer } from "node:buffer";
import { createSocket, type Socket } from "node:dgram";

/** A UDP client socket bound to `address` (port 0: any), with a queue of what it received. */
export interface DatagramPeer {
  socket: Socket;
  port: number;
  /** Datagrams received so far, in order. */
  received: Buffer[];
  /** Sends `data` to `target`. */
  send(data: Uint8Array | string, target: { host: string; port: number }): Promise<void>;
  /** Resolves with the next datagram, or undefined after `timeoutMs`. */
  next(timeoutMs: number): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

/** Opens a {@link DatagramPeer} bound to `host:port` (defaults 127.0.0.1:0). */
export async function openPeer(host = "127.0.0.1", port = 0): Promise<DatagramPeer> {
  const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind({ address: host, port }, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  const received: Buffer[] = [];
  let waiter: (() => void) | undefined;
  let taken = 0;
  socket.on("message", (data) => {
    received.push(data);
    waiter?.();
  });
  return {
    socket,
    port: socket.address().port,
    received,
    send: (data, target) =>
      new Promise((resolve, reject) =>
        socket.send(typeof data === "string" ? Buffer.from(data) : data, target.port, target.host, (e) =>
          e ? reject(e) : resolve(),
        ),
      ),
    async next(timeoutMs) {
      if (taken < received.length) return received[taken++];
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      waiter = undefined;
      return taken < received.length ? received[taken++] : undefined;
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/**
 * Sends `data` and resolves with the reply, resending up to `tries` times when none comes
 * within `timeoutMs` (UDP may lose a datagram even on loopback when the machine is loaded).
 * Rejects when no reply came at all.
 */
export async function datagramRoundTrip(
  target: { host: string; port: number },
  data: Uint8Array | string,
  options: { peer?: DatagramPeer; tries?: number; timeoutMs?: number } = {},
): Promise<Buffer> {
  const peer = options.peer ?? (await openPeer());
  try {
    for (let i = 0; i < (options.tries ?? 5); i++) {
      await peer.send(data, target);
      const reply = await peer.next(options.timeoutMs ?? 2000);
      if (reply !== undefined) return reply;
    }
    throw new Error(`no reply from ${target.host}:${target.port} after ${options.tries ?? 5} tries`);
  } finally {
    if (!options.peer) await peer.close();
  }
}
