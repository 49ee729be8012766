/**
 * Messages between the server object and its loop thread.
 * @internal
 */
import type { ServerAddress } from "@echo/core";
import type {
  NormalizedLimits,
  NormalizedListenOptions,
  NormalizedProxyOptions,
  WireError,
} from "@echo/core/model-kit";

export interface LoopInit {
  kind: number;
  handlerUrl: string;
  echoFastPath: boolean;
  handlerOptions: unknown;
  workerName: string;
  logConnections: boolean;
  listen: NormalizedListenOptions;
  limits: NormalizedLimits;
  /** PROXY protocol settings (`proxyProtocol` on): headers are read in the loop thread; the echo fast path is off. */
  proxy: NormalizedProxyOptions | undefined;
  /** A listening descriptor to use instead of binding (a duplicate this loop owns and closes). */
  listenFd?: number;
  /** Bind with SO_REUSEPORT (one socket per loop on one port). */
  reusePort: boolean;
  /** Register the (shared) listener with EPOLLEXCLUSIVE. */
  exclusiveAccept: boolean;
  /** With several loops: one Int32 counting every loop's connections against maxConnections. */
  sharedLimit?: SharedArrayBuffer;
  /** Float64Array slots in core's statsKeys order, written by the loop, read by stats(). */
  stats: SharedArrayBuffer;
  /** The connection lifetime histogram (core's ConnectionLifetimes memory), written by the loop thread. */
  lifetimes: SharedArrayBuffer;
}

export type FromLoop =
  | { type: "listening"; address: ServerAddress; fd: number }
  | { type: "startError"; error: WireError }
  | { type: "log"; level: "info" | "error"; message: string; fields?: Record<string, unknown> }
  | { type: "handlerError"; error: WireError }
  | { type: "closed" };

export type ToLoop = { type: "close"; timeout: number };
