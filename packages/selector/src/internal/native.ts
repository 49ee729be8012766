/**
 * Loading the addon: the prebuilt binary shipped in `prebuilds/`, or a local `build/` made by
 * node-gyp, through node-gyp-build; a typed error when neither loads.
 * @internal
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NativeUnavailableError } from "../errors.js";
import type { nativeEnums } from "./protocol.js";

/** What the addon exports (src/native/addon.c registers it). */
export interface NativeBinding {
  listen(
    host: string | null,
    port: number,
    path: string | null,
    backlog: number,
    ipv6Only: boolean,
    reusePort?: boolean,
  ): number;
  /** Takes an inherited listening socket: checks it listens, makes it non-blocking and close-on-exec; returns it. */
  adoptListener(fd: number): number;
  accept(fd: number): number;
  dup(fd: number): number;
  recv(fd: number, buffer: Uint8Array, offset?: number, length?: number): number;
  send(fd: number, buffer: Uint8Array, offset?: number, length?: number): number;
  close(fd: number): void;
  shutdown(fd: number, how: number): void;
  sockname(fd: number): NativeAddress;
  peername(fd: number): NativeAddress;
  pipe(): [number, number];
  selCreate(kind: number): NativeHandle;
  selCtl(handle: NativeHandle, op: number, fd: number, events: number): void;
  selWait(handle: NativeHandle, timeoutMs: number, out: Int32Array): number;
  selClose(handle: NativeHandle): void;
  selFileno(handle: NativeHandle): number;
  /** null when this kernel and process may use io_uring, else why not. */
  ioUringUnavailable(): string | null;
  loopCreate(
    kind: number,
    listenFd: number,
    maxConnections: number,
    maxBuffered: number,
    idleTimeout: number,
    echo: boolean,
    input: Uint8Array,
    records: Int32Array,
    stats: Float64Array,
    onBatch: (records: number) => void,
  ): NativeHandle;
  loopWrite(handle: NativeHandle, fd: number, id: number, data: Uint8Array): number;
  loopConn(handle: NativeHandle, op: number, fd: number, id: number, arg?: number): number;
  loopControl(handle: NativeHandle, op: number): void;
  loopExclusiveAccept(handle: NativeHandle): number;
  loopShareLimit(handle: NativeHandle, counter: Int32Array): number;
  readonly FD_SETSIZE: number;
  readonly EAGAIN: number;
  /** The named numbers of src/native/protocol.h; equal to those of ./protocol.ts. */
  readonly constants: NativeConstants;
}

/** The addon's `constants`: each enum of protocol.h under the name of its mirror in ./protocol.ts. */
export type NativeConstants = {
  readonly [E in keyof typeof nativeEnums]: { readonly [K in keyof (typeof nativeEnums)[E]]: number };
};

/** An opaque native object. */
export type NativeHandle = { readonly __native: unique symbol };

/** A socket address as the addon reports it. */
export type NativeAddress = { address: string; port: number; family: "IPv4" | "IPv6" } | { path: string };

/** The package root: dist/*.js and src/internal/*.ts both find it. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  if (dir.endsWith(join("src", "internal"))) dir = dirname(dir);
  return dirname(dir);
}

/**
 * Loads the addon from `root` (prebuilt first if no local build, as node-gyp-build decides).
 * @throws {NativeUnavailableError} nothing loadable is there.
 */
export function loadNative(root: string = packageRoot()): NativeBinding {
  const require = createRequire(import.meta.url);
  try {
    const nodeGypBuild = require("node-gyp-build") as (dir: string) => unknown;
    return nodeGypBuild(root) as NativeBinding;
  } catch (error) {
    throw new NativeUnavailableError((error as Error).message.split("\n")[0] ?? String(error), { cause: error });
  }
}

/** Loads one `.node` file exactly (the tests load the prebuilt and the local build each). */
export function loadNativeFile(file: string): NativeBinding {
  const require = createRequire(import.meta.url);
  try {
    return require(file) as NativeBinding;
  } catch (error) {
    throw new NativeUnavailableError(`${file}: ${(error as Error).message.split("\n")[0]}`, { cause: error });
  }
}

let cached: NativeBinding | undefined;

/** The addon, loaded once per thread. */
export function native(): NativeBinding {
  cached ??= loadNative();
  return cached;
}
