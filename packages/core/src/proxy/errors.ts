/**
 * The errors of the PROXY protocol receiving side. They join {@link EchoError}'s family: users
 * match on `err.code`. At integration these codes are merged into core's `ErrorCodes` and the
 * README's Errors table.
 * @module
 */
import { EchoError, InvalidArgumentError } from "../errors.js";

/** The stable error codes of the PROXY protocol receiving side. */
export const ProxyErrorCodes = {
  /** A connection's PROXY header was malformed, too long, or not a PROXY header at all. */
  PROXY_HEADER: "ECHO_ERR_PROXY_HEADER",
  /** A connection did not send a complete PROXY header within the header timeout. */
  PROXY_TIMEOUT: "ECHO_ERR_PROXY_TIMEOUT",
  /** A connection came from an address outside the trusted proxies. */
  PROXY_UNTRUSTED: "ECHO_ERR_PROXY_UNTRUSTED",
} as const;

/**
 * Why a PROXY header was rejected; stable strings, one per rule of the specification:
 *
 * - `signature`: the first bytes are neither `PROXY ` (v1) nor the 12-byte v2 signature
 * - `too-long`: a v1 line without CRLF in 107 bytes, or a v2 header past the configured cap
 * - `syntax`: a v1 line that does not match the grammar (fields, spaces, characters, CRLF)
 * - `address`: an address that is not canonical for its family
 * - `port`: a port outside 0–65535 or written with a leading zero
 * - `version`: a v2 version nibble other than 2
 * - `command`: a v2 command other than LOCAL (0) or PROXY (1)
 * - `family`: a v2 PROXY header's family/transport byte is not one the specification lists
 * - `length`: a v2 address block shorter than its family needs
 * - `tlv`: a TLV (or an SSL sub-TLV) running past its container, or with a wrong size
 * - `checksum`: a CRC32c TLV that does not match the header
 */
export type ProxyHeaderReason =
  | "signature"
  | "too-long"
  | "syntax"
  | "address"
  | "port"
  | "version"
  | "command"
  | "family"
  | "length"
  | "tlv"
  | "checksum";

/** A connection's PROXY header was rejected. Only that connection is closed. */
export class ProxyHeaderError extends EchoError {
  /** Which rule the header broke. */
  readonly reason: ProxyHeaderReason;

  constructor(reason: ProxyHeaderReason, message: string) {
    super(ProxyErrorCodes.PROXY_HEADER, `invalid PROXY protocol header (${reason}): ${message}`);
    this.name = "ProxyHeaderError";
    this.reason = reason;
  }
}

/** A connection sent no complete PROXY header within `timeoutMs`. Only that connection is closed. */
export class ProxyTimeoutError extends EchoError {
  constructor(timeoutMs: number, received: number) {
    super(
      ProxyErrorCodes.PROXY_TIMEOUT,
      `no complete PROXY protocol header within ${timeoutMs} ms (${received} byte(s) received)`,
    );
    this.name = "ProxyTimeoutError";
  }
}

/** A connection came from an address that is not a trusted proxy. It is closed without a reply. */
export class UntrustedProxyError extends EchoError {
  /** The peer's address, as the socket reports it. */
  readonly address: string;

  constructor(address: string) {
    super(ProxyErrorCodes.PROXY_UNTRUSTED, `connection from ${address} refused: not a trusted proxy`);
    this.name = "UntrustedProxyError";
    this.address = address;
  }
}

/**
 * An entry of a trusted-proxies list is not an address or CIDR. Its code is
 * `ECHO_ERR_INVALID_ARG` like every option error; `entry` is the bad entry as written.
 */
export class InvalidTrustedProxyError extends InvalidArgumentError {
  /** The entry as it was written. */
  readonly entry: string;

  constructor(option: string, entry: string, why: string) {
    super(`${option} entry ${JSON.stringify(entry)} ${why}`);
    this.name = "InvalidTrustedProxyError";
    this.entry = entry;
  }
}
