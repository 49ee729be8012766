/**
 * Small raw-socket helpers for the suite: it talks to servers with plain `net`, so a bug in
 * `@echo/client` cannot hide a bug in a server.
 */
import { Buffer } from "node:buffer";
import { once } from "node:events";
import { connect, type Socket } from "node:net";

/** Where a server under test listens. */
export type TargetAddress = { host: string; port: number } | { path: string };

/** Opens a connection and resolves when connected. */
export async function open(address: TargetAddress): Promise<Socket> {
  const socket =
    "path" in address ? connect({ path: address.path }) : connect({ host: address.host, port: address.port });
  await once(socket, "connect");
  socket.setNoDelay(true);
  return socket;
}

/** Collects everything a socket receives until it ends or closes; resolves with the bytes and how it ended. */
export function collect(socket: Socket): Promise<{ data: Buffer; error: Error | undefined }> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    let error: Error | undefined;
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (e) => (error = e));
    socket.on("close", () => resolve({ data: Buffer.concat(chunks), error }));
  });
}

/** Resolves with exactly `length` bytes read from `socket` (rejects if it closes first). */
export function readExactly(socket: Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= length) {
        cleanup();
        const all = Buffer.concat(chunks);
        if (all.length > length) socket.unshift(all.subarray(length));
        resolve(all.subarray(0, length));
      }
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error(`connection closed after ${got} of ${length} bytes`));
    };
    const cleanup = (): void => {
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.off("end", onClose);
    };
    socket.on("data", onData);
    socket.on("close", onClose);
    socket.on("end", onClose);
  });
}

/** Sends `payload` on a new connection, half-closes, and resolves with everything received. */
export async function roundTrip(address: TargetAddress, payload: Buffer | string): Promise<Buffer> {
  const socket = await open(address);
  const done = collect(socket);
  socket.end(payload);
  const { data, error } = await done;
  if (error) throw error;
  return data;
}

/** Deterministic pseudo-random bytes (xorshift), so a failing size is reproducible. */
export function randomBytes(length: number, seed = length): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Writes and resolves once the data is handed to the kernel (the write callback). */
export function write(socket: Socket, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));
}
