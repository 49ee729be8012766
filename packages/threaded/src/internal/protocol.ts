/**
 * Messages between the main thread and its serving threads.
 * @internal
 */
import type { ServerAddress } from "@echo/core";
import type {
  NormalizedDatagramOptions,
  NormalizedLimits,
  NormalizedListenOptions,
  NormalizedProxyOptions,
  WireError,
} from "@echo/core/model-kit";

/** What a serving thread is started with (`workerData`). */
export interface ThreadData {
  /** `Thread-N`: what `conn.worker` and handler factories see. */
  name: string;
  /** The handler module as a `file:` URL. */
  handlerUrl: string;
  /** The handler as the user named it, for messages. */
  handlerLabel: string;
  handlerOptions: unknown;
  limits: NormalizedLimits;
  logConnections: boolean;
  /** PROXY protocol settings (`proxyProtocol` on), gated in each thread. */
  proxy: NormalizedProxyOptions | undefined;
  /** This thread's counters (see SharedStats). */
  stats: SharedArrayBuffer;
  /** This thread's connection lifetime histogram (a Float64Array for core's ConnectionLifetimes). */
  lifetimes: SharedArrayBuffer;
  /** Log lines carry structured fields (`logFormat: "json"`). */
  structured: boolean;
  /** One Int32: 1 while this thread's listener is open (see ServerThread.stopAccepting). */
  open: SharedArrayBuffer;
  /** The server-wide Int32 cells (see SharedCell). */
  shared: SharedArrayBuffer;
  /** The descriptor helper script (see duplicateListener). */
  helperPath: string;
  /** Yield briefly after an accept while over the fair share (shared-descriptor path only). */
  balance: boolean;
  /** Transport and datagram limits; UDP is served on a `reusePort` socket per thread. */
  datagram: NormalizedDatagramOptions;
  /** This thread's datagram counters (core's DatagramStats over shared memory). */
  datagramStats: SharedArrayBuffer;
}

/** How a thread gets its listener. */
export type ListenHow =
  /** Bind its own socket with `reusePort`; the kernel spreads connections over the group. */
  | { how: "reusePort"; listen: NormalizedListenOptions }
  /** UDP only (`transport: "udp"`): bind a datagram socket with `reusePort`, no TCP listener. */
  | { how: "datagram"; listen: NormalizedListenOptions }
  /** Take a duplicate of the listening descriptor `fd` (numbers are process-wide). */
  | {
      how: "adopt";
      fd: number;
      backlog: number;
      expectPort: number;
      /** The main thread's own descriptor of the socket, open for the server's life: what a thread re-duplicates after backing off. */
      source?: number;
    };

export type ToThread = ({ type: "listen" } & ListenHow) | { type: "close"; timeout: number };

export type FromThread =
  | { type: "ready" }
  | { type: "loadError"; error: WireError }
  | { type: "listening"; address: ServerAddress; fd: number }
  | { type: "listenError"; error: WireError }
  | { type: "closed" }
  | { type: "log"; level: "info" | "error"; message: string; fields?: Record<string, unknown> };
