/**
 * The handler contract: one shape that every concurrency model runs unchanged.
 *
 * A handler reacts to connection events and writes through the {@link Connection} it is given.
 * Nothing here is a Node stream, so a native readiness loop can drive it as well as `net`.
 * @module
 */
import type { Datagram, DatagramHandler, Transport } from "./datagram/contract.js";

/** One client connection as a handler sees it, whatever model serves it. */
export interface Connection {
  /** A number unique among the connections of one server process or thread. */
  readonly id: number;
  /** The client's address (undefined for Unix sockets). */
  readonly remoteAddress: string | undefined;
  /** The client's port (undefined for Unix sockets). */
  readonly remotePort: number | undefined;
  /** Who serves the connection: `MainThread`, `Thread-2`, `Process-3`… */
  readonly worker: string;
  /** Bytes the server holds for this connection that the kernel has not taken yet. */
  readonly writableLength: number;
  /**
   * The TLS identity of the connection: set when this server terminated TLS (`source: "local"`)
   * or when a PROXY v2 header carried the proxy's TLS information (`source: "proxy"`);
   * `undefined` on plain text.
   */
  readonly tls?: TlsIdentity | undefined;
  /** A free slot for the handler's per-connection state. */
  state: unknown;
  /**
   * Queues bytes to the client. Returns `false` when the connection's output is over its limit:
   * the server then stops reading this client until the output drains (`onDrain`).
   */
  write(data: Uint8Array | string): boolean;
  /** Writes `data` if given, then closes the sending side once all output is flushed. */
  end(data?: Uint8Array | string): void;
  /** Closes the connection at once, discarding pending output. */
  destroy(error?: Error): void;
}

/**
 * What a handler sees of a TLS connection (`conn.tls`): the session's parameters and, for a
 * client that presented a certificate, who it is.
 */
export interface TlsIdentity {
  /** `"local"`: this server terminated TLS; `"proxy"`: a PROXY v2 header's `PP2_TYPE_SSL` said so. */
  readonly source: "local" | "proxy";
  /** The protocol version, e.g. `TLSv1.3` (from the proxy: its `PP2_SUBTYPE_SSL_VERSION`). */
  readonly protocol: string | undefined;
  /** The cipher's standard name, e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string | undefined;
  /** The ALPN protocol agreed on, if any. */
  readonly alpn: string | undefined;
  /** The server name (SNI) the client asked for, if any. */
  readonly servername: string | undefined;
  /** Whether the client presented a certificate that was verified against the CA. */
  readonly verified: boolean;
  /** Why a presented client certificate was not verified (e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`). */
  readonly authorizationError: string | undefined;
  /** The client certificate's subject common name, when one was presented. */
  readonly cn: string | undefined;
  /** The client certificate's subject alternative names (`DNS:…`, `IP Address:…`, …). */
  readonly subjectAltNames: readonly string[];
  /** The client certificate's SHA-256 fingerprint (`AB:CD:…`), when one was presented. */
  readonly fingerprint256: string | undefined;
}

/**
 * What a handler module provides. Only `onData` is required.
 *
 * `data` passed to `onData` is only valid during the call: models may reuse the buffer, so copy
 * it to keep it. When `onData` returns a promise, the model reads nothing more from that
 * connection until it settles, so the calls of one connection never overlap.
 * A callback that throws or rejects closes only its own connection.
 */
export interface Handler {
  /** A name for logs. */
  readonly name?: string;
  /** A client connected. */
  onConnection?(conn: Connection): void | Promise<void>;
  /** Bytes arrived from the client. */
  onData(conn: Connection, data: Uint8Array): void | Promise<void>;
  /** The client finished sending (EOF). Default: `conn.end()` once output is flushed. */
  onEnd?(conn: Connection): void | Promise<void>;
  /** Output that was over the limit has drained. */
  onDrain?(conn: Connection): void;
  /** The connection is gone. `error` says why when it did not close normally. */
  onClose?(conn: Connection, error?: Error): void;
  /** One UDP datagram arrived (see {@link DatagramHandler}); required for `transport` `udp` and `both`. */
  onDatagram?(datagram: Datagram, data: Uint8Array): void | Promise<void>;
}

/** What a handler factory receives: where it runs, and the options the user passed for it. */
export interface HandlerContext {
  /** Who runs this copy of the handler: `MainThread`, `Thread-1`, `Process-2`… */
  readonly worker: string;
  /** `handlerOptions` from the server options, passed through unchanged. */
  readonly options: unknown;
  /** What the handler will serve; decides whether `onData`, `onDatagram` or both are required. @default "tcp" */
  readonly transport?: Transport;
}

/** A function that builds a handler; called once per thread or process that serves. */
export type HandlerFactory = (
  context: HandlerContext,
) => Handler | DatagramHandler | Promise<Handler | DatagramHandler>;

/**
 * The shape of a handler module: its default export (or a named export `handler`) is a
 * {@link Handler} or a {@link HandlerFactory}.
 */
export type HandlerExport = Handler | DatagramHandler | HandlerFactory;

/**
 * Types a handler module's default export. It returns its argument unchanged.
 * @example
 * ```ts
 * export default defineHandler({ onData(conn, data) { conn.write(data); } });
 * ```
 */
export function defineHandler<T extends HandlerExport>(handler: T): T {
  return handler;
}
