/**
 * Non-blocking socket calls on raw descriptors: what a readiness loop needs. Every descriptor
 * is non-blocking and close-on-exec. "Would block" is a return value ({@link WOULD_BLOCK}),
 * not an exception; other failures throw {@link SystemCallError}.
 * @module
 */
import type { ListenOptions } from "@echo/core";
import { normalizeListenOptions } from "@echo/core/model-kit";
import { SystemCallError } from "./errors.js";
import { native, type NativeAddress } from "./internal/native.js";
import { Shutdown } from "./internal/protocol.js";

const binding = native();

/** What `acceptSocket`, `recvInto` and `sendFrom` return when the call would block. */
export const WOULD_BLOCK: number = -binding.EAGAIN;

/** A socket's address: TCP or a Unix socket path. */
export type SocketAddress = NativeAddress;

function sys<R>(call: () => R): R {
  try {
    return call();
  } catch (error) {
    throw new SystemCallError(error);
  }
}

/**
 * Creates a listening socket (`SO_REUSEADDR`; `IPV6_V6ONLY` as `ipv6Only` says) on a host and
 * port, or on a Unix socket path (a stale socket file left by a dead server is replaced).
 * @returns the listening descriptor.
 * @throws {SystemCallError} for example `EADDRINUSE`, `EACCES`.
 */
export function listenSocket(options: ListenOptions = {}): number {
  const o = normalizeListenOptions(options);
  return sys(() => binding.listen(o.path === undefined ? o.host : null, o.port, o.path ?? null, o.backlog, o.ipv6Only));
}

/** Accepts one connection: its descriptor, or {@link WOULD_BLOCK}. */
export function acceptSocket(fd: number): number {
  return sys(() => binding.accept(fd));
}

/** Reads into `buffer` (from `offset`, at most `length`): bytes read, 0 at EOF, or {@link WOULD_BLOCK}. */
export function recvInto(fd: number, buffer: Uint8Array, offset = 0, length = buffer.length - offset): number {
  return sys(() => binding.recv(fd, buffer, offset, length));
}

/** Sends from `buffer`: bytes the kernel took (maybe fewer than asked), or {@link WOULD_BLOCK}. */
export function sendFrom(fd: number, buffer: Uint8Array, offset = 0, length = buffer.length - offset): number {
  return sys(() => binding.send(fd, buffer, offset, length));
}

/** Closes a descriptor. */
export function closeSocket(fd: number): void {
  sys(() => binding.close(fd));
}

/** Shuts down reading (`"read"`), writing (`"write"`, sends FIN) or both. */
export function shutdownSocket(fd: number, how: "read" | "write" | "both" = "write"): void {
  sys(() => binding.shutdown(fd, how === "read" ? Shutdown.READ : how === "write" ? Shutdown.WRITE : Shutdown.BOTH));
}

/** The local address of a socket. */
export function getSockName(fd: number): SocketAddress {
  return sys(() => binding.sockname(fd));
}

/** The peer's address of a connected socket. */
export function getPeerName(fd: number): SocketAddress {
  return sys(() => binding.peername(fd));
}

/** A non-blocking pipe: `[readFd, writeFd]`. Handy to wake a selector. */
export function createPipe(): [number, number] {
  return sys(() => binding.pipe());
}
