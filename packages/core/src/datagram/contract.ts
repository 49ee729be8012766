/**
 * The datagram contract: beside the stream one ({@link Handler}), what a handler sees when it
 * serves UDP. Every datagram arrives alone, with its source, and is answered through it.
 * @module
 */

/** One datagram as a handler sees it, whatever model serves it. */
export interface Datagram {
  /** The source address, as the socket reported it (`127.0.0.1`, `::1`). */
  readonly remoteAddress: string;
  /** The source port. Never 0 nor a small-service port: those are dropped before any handler runs. */
  readonly remotePort: number;
  /** `IPv4` or `IPv6`. */
  readonly family: "IPv4" | "IPv6";
  /** Who serves it: `MainThread`, `Thread-2`, `Process-3`… */
  readonly worker: string;
  /**
   * Sends one datagram back to the source. A reply larger than `maxDatagram` is not sent and is
   * counted as `replyTooLarge`. May be called more than once, also after a promise settles.
   */
  reply(data: Uint8Array | string): void;
}

/**
 * What a handler provides to serve datagrams. A module may provide `onData` (TCP),
 * `onDatagram` (UDP) or both; `--transport` decides which is required.
 *
 * `data` is only valid during the call: copy it to keep it. A call that throws or rejects is
 * counted in `errors` and affects no other datagram.
 */
export interface DatagramHandler {
  /** A name for logs. */
  readonly name?: string;
  /**
   * One datagram arrived. With the `iterative` model the next datagram waits until a returned
   * promise settles; with `async`, calls may overlap.
   */
  onDatagram(datagram: Datagram, data: Uint8Array): void | Promise<void>;
}

/** The transports a server can serve: TCP (or a Unix socket), UDP, or both on one port number. */
export type Transport = "tcp" | "udp" | "both";

/** The transports, in `--transport` order. */
export const transports: readonly Transport[] = ["tcp", "udp", "both"];
