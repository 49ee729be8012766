/**
 * The TLV vectors after a PROXY v2 address block: bounds-checked, collected in order, with the
 * SSL TLV (0x20) and its sub-TLVs decoded and the CRC32c TLV (0x03) located for verification.
 * @module
 */
import type { ProxyHeaderReason } from "./errors.js";
import type { ProxySslInfo, ProxyTlv } from "./header.js";

/** Registered TLV types the parser looks into. */
export const TlvType = {
  CRC32C: 0x03,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  SSL_VERSION: 0x21,
  SSL_CN: 0x22,
  SSL_CIPHER: 0x23,
} as const;

/** The longest unique id the specification allows. */
const MAX_UNIQUE_ID = 128;
/** `client` (1 byte) and `verify` (4 bytes) before the SSL sub-TLVs. */
const SSL_FIXED = 5;

/** The TLVs of a header, or why they are invalid. `crcAt` is the offset of the CRC32c value in `bytes`, or -1. */
export type TlvResult =
  | { ok: true; tlvs: ProxyTlv[]; ssl: ProxySslInfo | null; crcAt: number }
  | { ok: false; reason: ProxyHeaderReason; message: string };

/** Splits `bytes[start, end)` into TLVs; every length must fit in what remains. */
function split(bytes: Uint8Array, start: number, end: number, what: string): ProxyTlv[] | string {
  const out: ProxyTlv[] = [];
  let at = start;
  while (at < end) {
    if (end - at < 3) return `${end - at} trailing byte(s) in the ${what} cannot hold a type and a length`;
    const type = bytes[at] as number;
    const length = ((bytes[at + 1] as number) << 8) | (bytes[at + 2] as number);
    if (length > end - at - 3)
      return `${what} type 0x${hex(type)} declares ${length} byte(s) but only ${end - at - 3} remain`;
    out.push({ type, value: bytes.subarray(at + 3, at + 3 + length) });
    at += 3 + length;
  }
  return out;
}

/** Parses the TLVs in `bytes[start, end)`. */
export function parseTlvs(bytes: Uint8Array, start: number, end: number): TlvResult {
  const tlvs = split(bytes, start, end, "TLV");
  if (typeof tlvs === "string") return { ok: false, reason: "tlv", message: tlvs };
  let ssl: ProxySslInfo | null = null;
  let crcAt = -1;
  for (const tlv of tlvs) {
    if (tlv.type === TlvType.CRC32C) {
      if (tlv.value.length !== 4)
        return { ok: false, reason: "tlv", message: `the CRC32c TLV must hold 4 bytes, not ${tlv.value.length}` };
      if (crcAt !== -1) return { ok: false, reason: "tlv", message: "more than one CRC32c TLV" };
      crcAt = tlv.value.byteOffset - bytes.byteOffset;
    } else if (tlv.type === TlvType.UNIQUE_ID && tlv.value.length > MAX_UNIQUE_ID) {
      return {
        ok: false,
        reason: "tlv",
        message: `the unique id TLV holds ${tlv.value.length} bytes, more than ${MAX_UNIQUE_ID}`,
      };
    } else if (tlv.type === TlvType.SSL) {
      if (ssl !== null) return { ok: false, reason: "tlv", message: "more than one SSL TLV" };
      const decoded = parseSsl(tlv.value);
      if (typeof decoded === "string") return { ok: false, reason: "tlv", message: decoded };
      ssl = decoded;
    }
  }
  return { ok: true, tlvs, ssl, crcAt };
}

function parseSsl(value: Uint8Array): ProxySslInfo | string {
  if (value.length < SSL_FIXED)
    return `the SSL TLV holds ${value.length} byte(s), fewer than its ${SSL_FIXED} fixed ones`;
  const client = value[0] as number;
  const verify =
    (((value[1] as number) << 24) |
      ((value[2] as number) << 16) |
      ((value[3] as number) << 8) |
      (value[4] as number)) >>>
    0;
  const subs = split(value, SSL_FIXED, value.length, "SSL sub-TLV");
  if (typeof subs === "string") return subs;
  const text = (type: number): string | undefined => {
    const sub = subs.find((s) => s.type === type);
    return sub === undefined
      ? undefined
      : Buffer.from(sub.value.buffer, sub.value.byteOffset, sub.value.byteLength).toString("utf8");
  };
  return {
    client,
    verified: verify === 0 && (client & 0x06) !== 0,
    version: text(TlvType.SSL_VERSION),
    cn: text(TlvType.SSL_CN),
    cipher: text(TlvType.SSL_CIPHER),
  };
}

function hex(n: number): string {
  return n.toString(16).padStart(2, "0");
}
