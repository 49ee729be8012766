/**
 * The layout shared by the C loop and the worker: record types, record size, stats slots, and
 * backend kinds. Mirrors src/native/loop.h and backend.h.
 * @internal
 */
import { statsKeys } from "@echo/core/model-kit";

export const REC_ACCEPT = 1;
export const REC_DATA = 2;
export const REC_EOF = 3;
export const REC_DRAIN = 4;
export const REC_CLOSE = 5;
export const REC_FDSETSIZE = 6;
/** int32 slots per record. */
export const REC_INTS = 8;

/** A CLOSE record's reason when the connection stayed silent past idleTimeout. */
export const CLOSE_IDLE = -1;

/** Slots of the shared stats array, in core's statsKeys order. */
export const STATS_SLOTS = statsKeys.length;
export const ST_ERRORS = statsKeys.indexOf("errors");

export const KIND_EPOLL = 1;
export const KIND_POLL = 2;
export const KIND_SELECT = 3;

/** The selector names the server and CLI accept. */
export const selectorKinds = ["default", "epoll", "poll", "select"] as const;

/** One of {@link selectorKinds}. */
export type SelectorKind = (typeof selectorKinds)[number];

/** The backend `default` means here: epoll on Linux, else poll, else select. */
export function defaultKind(): Exclude<SelectorKind, "default"> {
  return process.platform === "linux" ? "epoll" : "poll";
}

export function kindNumber(kind: SelectorKind): number {
  const k = kind === "default" ? defaultKind() : kind;
  return k === "epoll" ? KIND_EPOLL : k === "poll" ? KIND_POLL : KIND_SELECT;
}
