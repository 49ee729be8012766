/**
 * A reference PROXY header decoder and encoder for the tests, written from the specification
 * independently of src/proxy: whole-buffer (not incremental), regular expressions for v1,
 * Node's own address parsing (`net.isIPv4`, `SocketAddress`) and a bitwise CRC32c.
 */
import net from "node:net";

export interface RefEndpoint {
  address: string;
  port: number;
  family: "IPv4" | "IPv6";
}

export interface RefHeader {
  version: 1 | 2;
  command: "PROXY" | "LOCAL";
  family: "IPv4" | "IPv6" | "unix" | "unspec";
  transport: "stream" | "dgram" | "unspec";
  source: RefEndpoint | null;
  destination: RefEndpoint | null;
  tlvs: { type: number; value: string }[];
  ssl: {
    client: number;
    verified: boolean;
    version: string | undefined;
    cn: string | undefined;
    cipher: string | undefined;
  } | null;
  checksummed: boolean;
  length: number;
}

export type RefResult = { kind: "valid"; header: RefHeader } | { kind: "invalid" } | { kind: "incomplete" };

const SIG = [13, 10, 13, 10, 0, 13, 10, 81, 85, 73, 84, 10];

/** Canonical IPv6 text as Node writes it. */
export function canonical6(text: string): string {
  return new net.SocketAddress({ address: text, family: "ipv6" }).address;
}

/** Node's own IPv4 check plus the specification's "no leading zeros". */
function strict4(text: string): boolean {
  return net.isIPv4(text) && text.split(".").every((p) => p === "0" || !p.startsWith("0"));
}

/** IPv6 as the specification allows it: no zone, every dotted tail strict. */
function strict6(text: string): boolean {
  if (!net.isIPv6(text) || text.includes("%")) return false;
  const tail = text.slice(text.lastIndexOf(":") + 1);
  if (tail.includes(".") && !strict4(tail)) return false;
  return text.split(":").every((g) => g.includes(".") || g.length <= 4);
}

/** Decodes `bytes` (a header and possibly more) as the specification says. */
export function refDecode(bytes: Uint8Array, maxV2 = 2048): RefResult {
  const b = Buffer.from(bytes);
  if (b.length === 0) return { kind: "incomplete" };
  if (b[0] === 0x50) return refV1(b);
  if (b[0] === 0x0d) return refV2(b, maxV2);
  return { kind: "invalid" };
}

function refV1(b: Buffer): RefResult {
  const prefix = "PROXY ";
  for (let i = 0; i < Math.min(prefix.length, b.length); i++)
    if (b[i] !== prefix.charCodeAt(i)) return { kind: "invalid" };
  const end = b.indexOf("\r\n");
  const lf = b.indexOf(0x0a);
  if (end === -1 || end + 2 > 107) {
    if (b.length >= 107 || lf !== -1) return { kind: "invalid" };
    return { kind: "incomplete" };
  }
  if (lf !== end + 1) return { kind: "invalid" };
  const line = b.subarray(0, end).toString("latin1");
  if (!/^[\x20-\x7e]*$/.test(line)) return { kind: "invalid" };
  const length = end + 2;
  const base = { version: 1 as const, command: "PROXY" as const, tlvs: [], ssl: null, checksummed: false, length };
  if (/^PROXY UNKNOWN( .*)?$/.test(line))
    return {
      kind: "valid",
      header: { ...base, family: "unspec", transport: "unspec", source: null, destination: null },
    };
  const m = /^PROXY (TCP4|TCP6) (\S+) (\S+) (0|[1-9]\d{0,4}) (0|[1-9]\d{0,4})$/.exec(line);
  if (m === null) return { kind: "invalid" };
  const [, proto, src, dst, sp, dp] = m as unknown as [string, string, string, string, string, string];
  const v4 = proto === "TCP4";
  const ok = v4 ? strict4 : strict6;
  if (!ok(src) || !ok(dst) || Number(sp) > 65535 || Number(dp) > 65535) return { kind: "invalid" };
  const family = v4 ? "IPv4" : "IPv6";
  const fix = (a: string): string => (v4 ? a : canonical6(a));
  return {
    kind: "valid",
    header: {
      ...base,
      family,
      transport: "stream",
      source: { address: fix(src), port: Number(sp), family },
      destination: { address: fix(dst), port: Number(dp), family },
    },
  };
}

function refV2(b: Buffer, maxV2: number): RefResult {
  for (let i = 0; i < Math.min(12, b.length); i++) if (b[i] !== SIG[i]) return { kind: "invalid" };
  if (b.length > 12) {
    if (b[12]! >> 4 !== 2 || (b[12]! & 15) > 1) return { kind: "invalid" };
  }
  const local = b.length > 12 && (b[12]! & 15) === 0;
  // LOCAL: the block, family byte included, is discarded; PROXY: only the listed combinations.
  if (b.length > 13 && !local && ![0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32].includes(b[13]!))
    return { kind: "invalid" };
  if (b.length < 16) return { kind: "incomplete" };
  const length = 16 + b.readUInt16BE(14);
  if (length > maxV2) return { kind: "invalid" };
  if (b.length < length) return { kind: "incomplete" };
  const h = b.subarray(0, length);
  const fam = h[13]! >> 4;
  if (local) {
    const families = ["unspec", "IPv4", "IPv6", "unix"] as const;
    const transports = ["unspec", "stream", "dgram"] as const;
    return {
      kind: "valid",
      header: {
        version: 2,
        command: "LOCAL",
        family: families[fam] ?? "unspec",
        transport: transports[h[13]! & 15] ?? "unspec",
        source: null,
        destination: null,
        tlvs: [],
        ssl: null,
        checksummed: false,
        length,
      },
    };
  }
  const need = [0, 12, 36, 216][fam]!;
  const block = length - 16;
  if (block < need) return { kind: "invalid" };
  let at = 16 + need;
  const tlvs: { type: number; value: Buffer; offset: number }[] = [];
  while (at < length) {
    if (length - at < 3) return { kind: "invalid" };
    const len = h.readUInt16BE(at + 1);
    if (at + 3 + len > length) return { kind: "invalid" };
    tlvs.push({ type: h[at]!, value: h.subarray(at + 3, at + 3 + len), offset: at + 3 });
    at += 3 + len;
  }
  const crcs = tlvs.filter((t) => t.type === 3);
  const ssls = tlvs.filter((t) => t.type === 0x20);
  if (crcs.length > 1 || ssls.length > 1) return { kind: "invalid" };
  if (tlvs.some((t) => t.type === 5 && t.value.length > 128)) return { kind: "invalid" };
  const crc = crcs[0];
  if (crc !== undefined) {
    if (crc.value.length !== 4) return { kind: "invalid" };
    const copy = Buffer.from(h);
    copy.fill(0, crc.offset, crc.offset + 4);
    if (refCrc32c(copy) !== crc.value.readUInt32BE(0)) return { kind: "invalid" };
  }
  let ssl: RefHeader["ssl"] = null;
  const sslTlv = ssls[0];
  if (sslTlv !== undefined) {
    const v = sslTlv.value;
    if (v.length < 5) return { kind: "invalid" };
    const subs = new Map<number, string>();
    let p = 5;
    while (p < v.length) {
      if (v.length - p < 3) return { kind: "invalid" };
      const len = v.readUInt16BE(p + 1);
      if (p + 3 + len > v.length) return { kind: "invalid" };
      if (!subs.has(v[p]!)) subs.set(v[p]!, v.subarray(p + 3, p + 3 + len).toString("utf8"));
      p += 3 + len;
    }
    ssl = {
      client: v[0]!,
      verified: v.readUInt32BE(1) === 0 && (v[0]! & 6) !== 0,
      version: subs.get(0x21),
      cn: subs.get(0x22),
      cipher: subs.get(0x23),
    };
  }
  let source: RefEndpoint | null = null;
  let destination: RefEndpoint | null = null;
  if (fam === 1 || fam === 2) {
    const size = fam === 1 ? 4 : 16;
    const family = fam === 1 ? "IPv4" : "IPv6";
    const text = (o: number): string =>
      fam === 1 ? [...h.subarray(o, o + 4)].join(".") : canonical6(ipv6Text(h.subarray(o, o + 16)));
    source = { address: text(16), port: h.readUInt16BE(16 + 2 * size), family };
    destination = { address: text(16 + size), port: h.readUInt16BE(18 + 2 * size), family };
  }
  return {
    kind: "valid",
    header: {
      version: 2,
      command: "PROXY",
      family: (["unspec", "IPv4", "IPv6", "unix"] as const)[fam]!,
      transport: (["unspec", "stream", "dgram"] as const)[h[13]! & 15]!,
      source,
      destination,
      tlvs: tlvs.map((t) => ({ type: t.type, value: t.value.toString("hex") })),
      ssl,
      checksummed: crc !== undefined,
      length,
    },
  };
}

/** Full, uncompressed IPv6 text of 16 bytes. */
export function ipv6Text(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(":");
}

/** Bitwise CRC32c, no table. */
export function refCrc32c(bytes: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** What the parser returns, in the same plain shape as {@link RefHeader}. */
export function plain(header: {
  version: 1 | 2;
  command: "PROXY" | "LOCAL";
  family: RefHeader["family"];
  transport: RefHeader["transport"];
  source: RefEndpoint | null;
  destination: RefEndpoint | null;
  tlvs: readonly { type: number; value: Uint8Array }[];
  ssl: RefHeader["ssl"];
  checksummed: boolean;
  length: number;
}): RefHeader {
  return {
    version: header.version,
    command: header.command,
    family: header.family,
    transport: header.transport,
    source: header.source === null ? null : { ...header.source },
    destination: header.destination === null ? null : { ...header.destination },
    tlvs: header.tlvs.map((t) => ({ type: t.type, value: Buffer.from(t.value).toString("hex") })),
    ssl: header.ssl === null ? null : { ...header.ssl },
    checksummed: header.checksummed,
    length: header.length,
  };
}

/** A v2 header model for the test encoder. */
export interface V2Model {
  command: 0 | 1;
  famProto: number;
  /** The address block (its size may exceed what the family needs). */
  addresses: Uint8Array;
  tlvs: { type: number; value: Uint8Array }[];
  crc: boolean;
}

/** Encodes a v2 header; with `crc`, appends a CRC32c TLV and fills it in. */
export function encodeV2(model: V2Model): Buffer {
  const tlvs = model.tlvs.map((t) =>
    Buffer.concat([Buffer.from([t.type, t.value.length >> 8, t.value.length & 255]), t.value]),
  );
  if (model.crc) tlvs.push(Buffer.from([3, 0, 4, 0, 0, 0, 0]));
  const body = Buffer.concat([model.addresses, ...tlvs]);
  const header = Buffer.concat([
    Buffer.from(SIG),
    Buffer.from([0x20 | model.command, model.famProto, body.length >> 8, body.length & 255]),
    body,
  ]);
  if (model.crc) header.writeUInt32BE(refCrc32c(header), header.length - 4);
  return header;
}
