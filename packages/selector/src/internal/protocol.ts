/**
 * Every number that crosses between the C addon and JS, named: one `as const` object per enum
 * of src/native/protocol.h, with the same names and values. The addon exports its side as
 * `constants`, and test/native.test.ts checks that the two are equal.
 * @internal
 */
import { statsKeys } from "@echo/core/model-kit";

/** `selCtl(handle, op, fd, events)`: `enum echo_sel_op`. */
export const SelOp = { REGISTER: 0, MODIFY: 1, UNREGISTER: 2 } as const;

/** `loopConn(handle, op, fd, id, arg)`: `enum echo_conn_op`. `PAUSE` takes arg 1 (pause) or 0 (resume). */
export const ConnOp = { END: 0, DESTROY: 1, PAUSE: 2, PENDING: 3 } as const;

/** `loopControl(handle, op)`: `enum echo_loop_control`. */
export const LoopControl = { STOP_ACCEPTING: 0, DESTROY_ALL: 1, FREE: 2 } as const;

/** `shutdown(fd, how)`: `enum echo_shutdown`. */
export const Shutdown = { READ: 0, WRITE: 1, BOTH: 2 } as const;

/** Backend kinds of `selCreate` and `loopCreate`: `enum echo_kind`. */
export const Kind = { EPOLL: 1, POLL: 2, SELECT: 3, IO_URING: 4 } as const;

/** Interest and readiness masks: `enum echo_event`. */
export const Event = { READ: 1, WRITE: 2 } as const;

/** Slots of one record, `[type, fd, id, a, b, c, 0, 0]`: `enum echo_rec_field`. */
export const RecField = { TYPE: 0, FD: 1, ID: 2, A: 3, B: 4, C: 5 } as const;

/** Record types of the loop's batches (slot `TYPE`): `enum echo_record`. */
export const Rec = { ACCEPT: 1, DATA: 2, EOF: 3, DRAIN: 4, CLOSE: 5, FDSETSIZE: 6 } as const;

/** An ACCEPT record's address family: `enum echo_family`. */
export const Family = { UNIX: 0, IPV4: 4, IPV6: 6 } as const;

/** A CLOSE record's reason when it is not an errno (> 0): `enum echo_close_reason`. */
export const CloseReason = { NORMAL: 0, IDLE: -1 } as const;

/** Slots of the shared stats array, in core's statsKeys order: `enum echo_stat`. */
export const Stat = {
  ACCEPTED: 0,
  ACTIVE: 1,
  QUEUED: 2,
  CLOSED: 3,
  REJECTED: 4,
  BYTES_IN: 5,
  BYTES_OUT: 6,
  ERRORS: 7,
  TIMEOUTS: 8,
  BUFFERED: 9,
  ACCEPT_ERRORS: 10,
  PROXY_REJECTED: 11,
  COUNT: 12,
} as const;

/** Buffer sizes of `loopCreate`: `enum echo_layout`. `REC_INTS` int32 slots per record, at least `REC_MIN` records. */
export const Layout = { REC_INTS: 8, REC_MIN: 16 } as const;

/** Every enum above, by name: what the addon's `constants` must equal. */
export const nativeEnums = {
  SelOp,
  ConnOp,
  LoopControl,
  Shutdown,
  Kind,
  Event,
  RecField,
  Rec,
  Family,
  CloseReason,
  Stat,
  Layout,
} as const;

/** int32 slots per record. */
export const REC_INTS = Layout.REC_INTS;

/** Slots of the shared stats array, in core's statsKeys order. */
export const STATS_SLOTS = statsKeys.length;

/** The selector names the server and CLI accept. */
export const selectorKinds = ["default", "epoll", "poll", "select", "io_uring"] as const;

/** One of {@link selectorKinds}. */
export type SelectorKind = (typeof selectorKinds)[number];

/** The backend `default` means here: epoll on Linux, else poll, else select. */
export function defaultKind(): Exclude<SelectorKind, "default"> {
  return process.platform === "linux" ? "epoll" : "poll";
}

export function kindNumber(kind: SelectorKind): number {
  const k = kind === "default" ? defaultKind() : kind;
  return k === "epoll" ? Kind.EPOLL : k === "poll" ? Kind.POLL : k === "io_uring" ? Kind.IO_URING : Kind.SELECT;
}
