/**
 * Real listeners and clients shared by the PROXY protocol and socket-activation tests.
 */
import net from "node:net";
import { ProxyHeaderParser } from "../src/proxy/parser.js";
import type { ProxyHeader } from "../src/proxy/header.js";

/** One connection's header as it arrived, and its real peer (the proxy's end). */
export interface Arrival {
  header: ProxyHeader;
  peer: { address: string; port: number };
}

/** A listener that parses each connection's PROXY header with core's parser, records it, then echoes. */
export interface ProxiedEcho {
  server: net.Server;
  arrivals: Arrival[];
  /** `reason: message` of every refused header. */
  refused: string[];
  /** Resolves once `predicate` holds; re-checked at every arrival. */
  until(predicate: () => boolean): Promise<void>;
  /** Listens on port 0 of `host`; resolves with the port. */
  listen(host?: string): Promise<number>;
  close(): Promise<void>;
}

export function proxiedEcho(): ProxiedEcho {
  const arrivals: Arrival[] = [];
  const refused: string[] = [];
  const waiters: (() => void)[] = [];
  const server = net.createServer((socket) => {
    const parser = new ProxyHeaderParser();
    socket.on("error", () => undefined);
    const onData = (chunk: Buffer): void => {
      const r = parser.feed(chunk);
      if (r.status === "needMore") return;
      socket.off("data", onData);
      if (r.status === "error") {
        refused.push(`${r.reason}: ${r.message}`);
        socket.destroy();
        return;
      }
      arrivals.push({
        header: r.header,
        peer: { address: socket.remoteAddress as string, port: socket.remotePort as number },
      });
      for (const wake of waiters.splice(0)) wake();
      if (r.rest.length > 0) socket.write(r.rest);
      socket.on("data", (c: Buffer) => socket.write(c));
    };
    socket.on("data", onData);
  });
  return {
    server,
    arrivals,
    refused,
    until: (predicate) =>
      new Promise((resolve) => {
        const check = (): void => {
          if (predicate()) resolve();
          else waiters.push(check);
        };
        check();
      }),
    listen: (host = "127.0.0.1") =>
      new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port))),
    close: () => (server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve()),
  };
}

/** One echo round trip on a new connection (from `localAddress` if given); resolves with the client's local port. */
export function roundTrip(port: number, host: string, payload: string, localAddress?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(localAddress === undefined ? { port, host } : { port, host, localAddress });
    let got = "";
    socket.on("error", reject);
    socket.on("connect", () => socket.write(payload));
    socket.on("data", (c: Buffer) => {
      got += c.toString();
      if (got.length < payload.length) return;
      const localPort = socket.localPort as number;
      socket.destroy();
      if (got === payload) resolve(localPort);
      else reject(new Error(`echo mismatch: ${JSON.stringify(got)}`));
    });
  });
}

/** A port on `host` that was free a moment ago (bound on port 0, read back, closed). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
