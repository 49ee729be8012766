/**
 * Listening with OS errors turned into typed ones, and stale Unix socket files cleared.
 * @internal
 */
import { connect, type Server } from "node:net";
import { unlinkSync } from "node:fs";
import { AddressInUseError, ListenError, PermissionDeniedError } from "../errors.js";
import type { NormalizedListenOptions } from "../options.js";

/** `host:port` or the socket path, for messages. */
export function describeAddress(listen: NormalizedListenOptions): string {
  if (listen.path !== undefined) return listen.path;
  return listen.host.includes(":") ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`;
}

function listenOnce(server: Server, listen: NormalizedListenOptions, extra: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    if (listen.path !== undefined) server.listen({ path: listen.path, backlog: listen.backlog, ...extra });
    else
      server.listen({
        host: listen.host,
        port: listen.port,
        backlog: listen.backlog,
        ipv6Only: listen.ipv6Only,
        ...extra,
      });
  });
}

/** True when nothing accepts on the Unix socket at `path` (a file left by a crashed server). */
function isStaleSocket(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(false);
    });
    probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

/**
 * Makes `server` listen; rejects with AddressInUseError, PermissionDeniedError or ListenError.
 * `extra` passes further `server.listen()` options (for example `reusePort`).
 */
export async function listenServer(
  server: Server,
  listen: NormalizedListenOptions,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const address = describeAddress(listen);
  try {
    await listenOnce(server, listen, extra);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" && listen.path !== undefined && (await isStaleSocket(listen.path))) {
      unlinkSync(listen.path);
      return listenServer(server, listen, extra);
    }
    throw toListenError(error, listen, address);
  }
}

/** Translates an OS listen error into the matching typed error. */
export function toListenError(
  error: unknown,
  listen: NormalizedListenOptions,
  address = describeAddress(listen),
): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return new AddressInUseError(address, { cause: error });
  if (code === "EACCES" || code === "EPERM")
    return new PermissionDeniedError(address, listen.path === undefined ? listen.port : undefined, { cause: error });
  return new ListenError(`cannot listen on ${address}: ${(error as Error).message}`, { cause: error });
}
