import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { afterEach } from "vitest";
import { SelectorServer, type SelectorServerOptions } from "@echo/selector";

export const quiet = { info: () => {}, error: () => {} };

/** A logger that keeps its lines; `waitFor` resolves when a line matches. */
export function memoryLogger(): {
  info(m: string): void;
  error(m: string): void;
  lines: string[];
  waitFor(re: RegExp): Promise<string>;
} {
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  const add = (m: string): void => {
    lines.push(m);
    for (const w of waiters.splice(0)) {
      if (w.re.test(m)) w.resolve(m);
      else waiters.push(w);
    }
  };
  return {
    info: add,
    error: add,
    lines,
    waitFor: (re) => {
      const found = lines.find((l) => re.test(l));
      return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
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

/** A `make(options)` for a test file: quiet servers, each closed (timeout 0) after every test. */
export function serverFactory(): (options?: SelectorServerOptions) => SelectorServer {
  const servers: SelectorServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 0 })));
  });
  return (options = {}) => {
    const server = new SelectorServer({ logger: quiet, ...options });
    servers.push(server);
    return server;
  };
}
