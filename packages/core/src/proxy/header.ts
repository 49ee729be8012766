/**
 * What a parsed PROXY protocol header says: the types {@link ProxyHeaderParser} produces.
 * @module
 */

/** One end of the proxied connection, as the proxy saw it. */
export interface ProxyEndpoint {
  /** Canonical text, as Node writes `socket.remoteAddress` (`192.0.2.1`, `2001:db8::1`, `::ffff:192.0.2.1`). */
  readonly address: string;
  /** 0–65535. */
  readonly port: number;
  /** The family the header declared. */
  readonly family: "IPv4" | "IPv6";
}

/** One v2 TLV (type-length-value) vector. `value` is bounds-checked and belongs to the header. */
export interface ProxyTlv {
  /** The type byte, e.g. `0x01` ALPN, `0x02` authority, `0x03` CRC32c, `0x05` unique id, `0x20` SSL. */
  readonly type: number;
  /** The value bytes (a view on the header's own copy, never on the connection's data). */
  readonly value: Uint8Array;
}

/** The `PP2_TYPE_SSL` (0x20) TLV decoded: how the client reached the proxy over TLS. */
export interface ProxySslInfo {
  /** The `client` bit field: 0x01 SSL, 0x02 certificate on this connection, 0x04 certificate in the session. */
  readonly client: number;
  /** The client presented a certificate (`client` & 0x06) and the proxy verified it (`verify` field 0). */
  readonly verified: boolean;
  /** `PP2_SUBTYPE_SSL_VERSION` (0x21), such as `TLSv1.3`; `undefined` when absent. */
  readonly version: string | undefined;
  /** `PP2_SUBTYPE_SSL_CN` (0x22): the client certificate's Common Name; `undefined` when absent. */
  readonly cn: string | undefined;
  /** `PP2_SUBTYPE_SSL_CIPHER` (0x23); `undefined` when absent. */
  readonly cipher: string | undefined;
}

/**
 * A complete, valid PROXY header.
 *
 * `source`/`destination` are `null` when the header carries no address to use, and the
 * connection's real endpoints apply: a v2 `LOCAL` command (health checks), v1 `UNKNOWN`, and the
 * v2 families `AF_UNSPEC` and `AF_UNIX`.
 */
export interface ProxyHeader {
  /** 1 (text) or 2 (binary). */
  readonly version: 1 | 2;
  /** `PROXY` relays a client; `LOCAL` (v2 only) is the proxy's own connection, e.g. a health check. */
  readonly command: "PROXY" | "LOCAL";
  /** The declared address family. v1 `UNKNOWN` is `unspec`. */
  readonly family: "IPv4" | "IPv6" | "unix" | "unspec";
  /** The declared transport. v1 `TCP4`/`TCP6` are `stream`; v1 `UNKNOWN` is `unspec`. */
  readonly transport: "stream" | "dgram" | "unspec";
  /** The client, or `null` to use the connection's real peer. */
  readonly source: ProxyEndpoint | null;
  /** The address the client connected to, or `null` to use the connection's real local end. */
  readonly destination: ProxyEndpoint | null;
  /** Every v2 TLV in order (NOOP and CRC32c included); empty for v1. */
  readonly tlvs: readonly ProxyTlv[];
  /** The SSL TLV decoded, or `null` when there is none. */
  readonly ssl: ProxySslInfo | null;
  /** `true` when a CRC32c TLV was present (and matched: a mismatch rejects the header). */
  readonly checksummed: boolean;
  /** Bytes the header took on the wire. */
  readonly length: number;
}
