/**
 * What a core model decides: when an accepted socket is served.
 * @internal
 */
import type { Socket } from "node:net";

/** The server services a model uses. */
export interface ModelHost {
  /** Serve `socket` now; `done` runs when it has closed. */
  serve(socket: Socket, done: () => void): void;
  /** Refuse `socket` (maxConnections reached). */
  reject(socket: Socket): void;
  /** Stop accepting new connections. */
  stopAccepting(): void;
  /** The whole server is done (the `once` model after its connection). */
  finish(): void;
  readonly maxConnections: number;
  readonly active: number;
}

/** Admission policy of one model. */
export interface Model {
  /** Whether the listener should hand over sockets paused (not reading). */
  readonly pauseOnConnect: boolean;
  /** A socket was accepted. */
  admit(socket: Socket): void;
  /** The server is closing: drop what waits and was never served. */
  shutdown(): void;
}
