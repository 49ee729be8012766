/**
 * Decoding of one complete PROXY v1 line (`PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n`),
 * strictly as the specification writes it: exactly one space between fields, canonical addresses
 * of the declared family, decimal ports 0–65535 without leading zeros, CRLF at the end.
 * @module
 */
import type { ProxyHeaderReason } from "./errors.js";
import type { ProxyEndpoint, ProxyHeader } from "./header.js";
import { formatIPv6, parseIPv4, parseIPv6 } from "./ip.js";

/** The longest v1 line, CRLF included (`PROXY UNKNOWN` with two full IPv6 addresses and ports). */
export const V1_MAX_LENGTH = 107;

/** `PROXY ` as bytes: the v1 signature. */
export const V1_SIGNATURE = Buffer.from("PROXY ", "latin1");

/** A decoded header, or why the line is invalid. */
export type V1Result = { ok: true; header: ProxyHeader } | { ok: false; reason: ProxyHeaderReason; message: string };

const fail = (reason: ProxyHeaderReason, message: string): V1Result => ({ ok: false, reason, message });

/**
 * Decodes `line`: the bytes from `P` through the LF, which the caller has checked end in CRLF
 * and hold no other CR or LF and only printable US-ASCII.
 */
export function decodeV1(line: Uint8Array): V1Result {
  const text = Buffer.from(line.buffer, line.byteOffset, line.byteLength - 2).toString("latin1");
  const fields = text.split(" ");
  const protocol = fields[1];
  if (fields[0] !== "PROXY" || protocol === undefined) return fail("syntax", 'the line must start with "PROXY "');
  if (protocol === "UNKNOWN") {
    // The receiver must ignore whatever follows UNKNOWN before the CRLF.
    return { ok: true, header: v1Header("unspec", null, null, line.byteLength) };
  }
  if (protocol !== "TCP4" && protocol !== "TCP6") {
    return fail("syntax", `the protocol must be TCP4, TCP6 or UNKNOWN, got ${JSON.stringify(protocol)}`);
  }
  if (fields.length !== 6) {
    return fail(
      "syntax",
      `${protocol} needs exactly four fields after it, separated by single spaces (${fields.length - 2} found)`,
    );
  }
  const family = protocol === "TCP4" ? "IPv4" : "IPv6";
  const src = address(fields[2] as string, family);
  const dst = address(fields[3] as string, family);
  if (src === null || dst === null) {
    const bad = src === null ? fields[2] : fields[3];
    return fail("address", `${JSON.stringify(bad)} is not a canonical ${family} address`);
  }
  const srcPort = port(fields[4] as string);
  const dstPort = port(fields[5] as string);
  if (srcPort === null || dstPort === null) {
    const bad = srcPort === null ? fields[4] : fields[5];
    return fail("port", `${JSON.stringify(bad)} is not a port from 0 to 65535 without leading zeros`);
  }
  return {
    ok: true,
    header: v1Header(
      family,
      { address: src, port: srcPort, family },
      { address: dst, port: dstPort, family },
      line.byteLength,
    ),
  };
}

function v1Header(
  family: ProxyHeader["family"],
  source: ProxyEndpoint | null,
  destination: ProxyEndpoint | null,
  length: number,
): ProxyHeader {
  return {
    version: 1,
    command: "PROXY",
    family,
    transport: family === "unspec" ? "unspec" : "stream",
    source,
    destination,
    tlvs: [],
    ssl: null,
    checksummed: false,
    length,
  };
}

/** The canonical text of an address of `family`, or `null`. IPv6 is re-written as Node writes it. */
function address(text: string, family: "IPv4" | "IPv6"): string | null {
  if (family === "IPv4") return parseIPv4(text) === null ? null : text;
  const bytes = parseIPv6(text);
  return bytes === null ? null : formatIPv6(bytes);
}

function port(text: string): number | null {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}
