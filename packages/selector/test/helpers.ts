import { once } from "node:events";
import { connect, type Socket } from "node:net";

export const quiet = { info: () => {}, error: () => {} };

/** A logger that keeps its lines. */
export function memoryLogger(): { info(m: string): void; error(m: string): void; lines: string[] } {
  const lines: string[] = [];
  return { info: (m) => lines.push(m), error: (m) => lines.push(m), lines };
}

export async function openTcp(port: number, host = "127.0.0.1"): Promise<Socket> {
  const socket = connect({ port, host });
  await once(socket, "connect");
  return socket;
}

/** Everything a socket receives until it closes. */
export function collectAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => {
    socket.on("error", () => {});
    socket.on("close", () => resolve(Buffer.concat(chunks)));
  });
}

/** Sends `payload`, half-closes, resolves with the whole reply. */
export async function exchange(port: number, payload: string | Buffer, host = "127.0.0.1"): Promise<Buffer> {
  const socket = await openTcp(port, host);
  const done = collectAll(socket);
  socket.end(payload);
  return done;
}
