/**
 * Messages between the server object and its loop thread.
 * @internal
 */
import type { NormalizedLimits, NormalizedListenOptions, ServerAddress } from "@echo/core";

export interface LoopInit {
  kind: number;
  handlerUrl: string;
  echoFastPath: boolean;
  handlerOptions: unknown;
  workerName: string;
  logConnections: boolean;
  listen: NormalizedListenOptions;
  limits: NormalizedLimits;
  /** Float64Array slots in core's statsKeys order, written by the loop, read by stats(). */
  stats: SharedArrayBuffer;
}

export interface SerializedError {
  name: string;
  code: string | undefined;
  message: string;
}

export type FromLoop =
  | { type: "listening"; address: ServerAddress; fd: number }
  | { type: "startError"; error: SerializedError }
  | { type: "log"; level: "info" | "error"; message: string }
  | { type: "handlerError"; error: SerializedError }
  | { type: "closed" };

export type ToLoop = { type: "close"; timeout: number };
