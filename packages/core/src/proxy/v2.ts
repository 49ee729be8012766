/**
 * Decoding of one complete PROXY v2 header: the 16 fixed bytes, the address block of the declared
 * family, the TLVs, and the CRC32c check when that TLV is present.
 * @module
 */
import { crc32c } from "./crc32c.js";
import type { ProxyHeaderReason } from "./errors.js";
import type { ProxyEndpoint, ProxyHeader } from "./header.js";
import { formatIPv4, formatIPv6 } from "./ip.js";
import { parseTlvs } from "./tlv.js";

/** The 12-byte v2 signature. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** Bytes before the address block: signature, version/command, family/transport, length. */
export const V2_FIXED_LENGTH = 16;

/** Address block bytes each family needs (IPv4 and IPv6 with ports; AF_UNIX two 108-byte paths). */
const ADDRESS_LENGTH = [0, 12, 36, 216] as const;
const FAMILIES: readonly ProxyHeader["family"][] = ["unspec", "IPv4", "IPv6", "unix"];
const TRANSPORTS: readonly ProxyHeader["transport"][] = ["unspec", "stream", "dgram"];
/** The family/transport bytes the specification lists for the PROXY command (others are refused). */
const PROXY_COMBINATIONS = new Set([0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32]);

/** A decoded header, or why it is invalid. */
export type V2Result = { ok: true; header: ProxyHeader } | { ok: false; reason: ProxyHeaderReason; message: string };

const fail = (reason: ProxyHeaderReason, message: string): V2Result => ({ ok: false, reason, message });

/**
 * Checks byte 13 (version and command) and byte 14 (family and transport) as soon as they
 * arrive, so a bad header is refused before its length is waited for.
 * @returns `null` when the bytes seen so far are valid.
 */
export function checkV2Prefix(
  bytes: Uint8Array,
  available: number,
): { reason: ProxyHeaderReason; message: string } | null {
  if (available > 12) {
    const verCmd = bytes[12] as number;
    if (verCmd >> 4 !== 2) return { reason: "version", message: `the version nibble must be 2, got ${verCmd >> 4}` };
    if ((verCmd & 0x0f) > 1)
      return { reason: "command", message: `the command must be LOCAL (0) or PROXY (1), got ${verCmd & 0x0f}` };
  }
  // LOCAL ignores the family byte (the whole block is discarded), so only PROXY's is checked.
  if (available > 13 && ((bytes[12] as number) & 0x0f) === 1) {
    const famProto = bytes[13] as number;
    if (!PROXY_COMBINATIONS.has(famProto)) {
      return {
        reason: "family",
        message: `family/transport byte 0x${famProto.toString(16).padStart(2, "0")} is not one the specification defines`,
      };
    }
  }
  return null;
}

/**
 * Decodes `bytes`, exactly one whole header (16 + its length field).
 *
 * A LOCAL header (a proxy's own connection, such as a health check) is accepted whatever its
 * block holds: the specification says the receiver "must accept this connection as valid" and
 * discard the block, family included (HAProxy's receiver does the same). Its `tlvs` are empty.
 */
export function decodeV2(bytes: Uint8Array): V2Result {
  const prefix = checkV2Prefix(bytes, bytes.length);
  if (prefix !== null) return fail(prefix.reason, prefix.message);
  const famProto = bytes[13] as number;
  if (((bytes[12] as number) & 0x0f) === 0) {
    return {
      ok: true,
      header: {
        version: 2,
        command: "LOCAL",
        family: FAMILIES[famProto >> 4] ?? "unspec",
        transport: TRANSPORTS[famProto & 0x0f] ?? "unspec",
        source: null,
        destination: null,
        tlvs: [],
        ssl: null,
        checksummed: false,
        length: bytes.length,
      },
    };
  }
  const familyIndex = famProto >> 4;
  const block = bytes.length - V2_FIXED_LENGTH;
  const needed = ADDRESS_LENGTH[familyIndex as 0 | 1 | 2 | 3];
  if (block < needed) {
    return fail(
      "length",
      `the ${FAMILIES[familyIndex] as string} address block needs ${needed} bytes, the header declares ${block}`,
    );
  }
  const tlvs = parseTlvs(bytes, V2_FIXED_LENGTH + needed, bytes.length);
  if (!tlvs.ok) return tlvs;
  if (tlvs.crcAt !== -1) {
    const sent =
      (((bytes[tlvs.crcAt] as number) << 24) |
        ((bytes[tlvs.crcAt + 1] as number) << 16) |
        ((bytes[tlvs.crcAt + 2] as number) << 8) |
        (bytes[tlvs.crcAt + 3] as number)) >>>
      0;
    const computed = crc32c(bytes, tlvs.crcAt, 4);
    if (sent !== computed)
      return fail("checksum", `CRC32c 0x${hex32(sent)} does not match the header's 0x${hex32(computed)}`);
  }
  let source: ProxyEndpoint | null = null;
  let destination: ProxyEndpoint | null = null;
  if (familyIndex === 1 || familyIndex === 2) {
    const v4 = familyIndex === 1;
    const size = v4 ? 4 : 16;
    const family = v4 ? "IPv4" : "IPv6";
    const at = V2_FIXED_LENGTH;
    const ports = at + 2 * size;
    const format = v4 ? formatIPv4 : formatIPv6;
    source = {
      address: format(bytes, at),
      port: ((bytes[ports] as number) << 8) | (bytes[ports + 1] as number),
      family,
    };
    destination = {
      address: format(bytes, at + size),
      port: ((bytes[ports + 2] as number) << 8) | (bytes[ports + 3] as number),
      family,
    };
  }
  return {
    ok: true,
    header: {
      version: 2,
      command: "PROXY",
      family: FAMILIES[familyIndex] as ProxyHeader["family"],
      transport: TRANSPORTS[famProto & 0x0f] as ProxyHeader["transport"],
      source,
      destination,
      tlvs: tlvs.tlvs,
      ssl: tlvs.ssl,
      checksummed: tlvs.crcAt !== -1,
      length: bytes.length,
    },
  };
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, "0");
}
