/**
 * Property tests of the PROXY header parser with fast-check. Runs per property:
 * ECHO_FUZZ_RUNS (default 1000); a failure prints the seed and path to replay it, and
 * ECHO_FUZZ_SEED=<seed> replays a run.
 */
import net from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProxyHeaderParser, parseProxyHeader, type ProxyParseResult } from "../src/proxy/parser.js";
import { formatIPv6, parseIPv4, parseIPv6 } from "../src/proxy/ip.js";
import { canonical6, encodeV2, ipv6Text, plain, refDecode, type RefHeader, type V2Model } from "./proxy-reference.js";

const runs = Number(process.env.ECHO_FUZZ_RUNS ?? 1000);
const seed = process.env.ECHO_FUZZ_SEED === undefined ? undefined : Number(process.env.ECHO_FUZZ_SEED);
const params = (factor = 1): fc.Parameters<unknown> => ({
  numRuns: Math.max(1, Math.round(runs * factor)),
  ...(seed === undefined ? {} : { seed }),
});

const STATUSES = new Set(["needMore", "done", "error"]);

/** Feeds `chunks` one after the other, as a connection would, until a final result. */
function feedAll(chunks: Uint8Array[]): { result: ProxyParseResult; rest: Buffer } {
  const parser = new ProxyHeaderParser();
  for (let i = 0; i < chunks.length; i++) {
    const result = parser.feed(chunks[i] as Uint8Array);
    // Memory stays bounded: never more header bytes than the v2 cap (the v1 limit, 107, is lower).
    expect(parser.received).toBeLessThanOrEqual(2048);
    if (result.status === "done") return { result, rest: Buffer.concat([result.rest, ...chunks.slice(i + 1)]) };
    if (result.status === "error") return { result, rest: Buffer.alloc(0) };
  }
  return { result: { status: "needMore" }, rest: Buffer.alloc(0) };
}

/** Cuts `bytes` at the given offsets. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(last, p));
    last = p;
  }
  chunks.push(bytes.subarray(last));
  return chunks;
}

// ---- generators of valid headers, each with the header it must parse to ----

const port = fc.integer({ min: 0, max: 65535 });
const v4bytes = fc.uint8Array({ minLength: 4, maxLength: 4 });
/** IPv6 bytes, biased towards zero runs, IPv4-mapped and IPv4-compatible addresses. */
const v6bytes = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc
    .tuple(fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0x2001), { minLength: 8, maxLength: 8 }))
    .map(([w]) => Uint8Array.from(w.flatMap((x) => [x >> 8, x & 255]))),
  v4bytes.map((b) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...b])),
  v4bytes.map((b) => Uint8Array.from([...new Array<number>(12).fill(0), ...b])),
);

interface Case {
  bytes: Buffer;
  expected: RefHeader;
}

const endpoint = (address: string, p: number, family: "IPv4" | "IPv6"): RefHeader["source"] => ({
  address,
  port: p,
  family,
});

const v1Tcp4: fc.Arbitrary<Case> = fc.tuple(fc.ipV4(), fc.ipV4(), port, port).map(([s, d, sp, dp]) => {
  const line = `PROXY TCP4 ${s} ${d} ${sp} ${dp}\r\n`;
  return {
    bytes: Buffer.from(line),
    expected: {
      version: 1,
      command: "PROXY",
      family: "IPv4",
      transport: "stream",
      source: endpoint(s, sp, "IPv4"),
      destination: endpoint(d, dp, "IPv4"),
      tlvs: [],
      ssl: null,
      checksummed: false,
      length: line.length,
    },
  };
});

/** IPv6 text as a sender may write it: fast-check's forms (compressed, dotted tails) or fully expanded. */
const v6text = fc.oneof(
  fc
    .ipV6()
    .filter(
      (a) =>
        a.split(":").every((g) => g.includes(".") || g.length <= 4) &&
        !/(^|[:.])0\d/.test(a.slice(a.lastIndexOf(":") + 1)),
    ),
  v6bytes.map((b) => ipv6Text(b)),
  v6bytes.map((b) => ipv6Text(b).toUpperCase()),
);

const v1Tcp6: fc.Arbitrary<Case> = fc.tuple(v6text, v6text, port, port).map(([s, d, sp, dp]) => {
  const line = `PROXY TCP6 ${s} ${d} ${sp} ${dp}\r\n`;
  return {
    bytes: Buffer.from(line),
    expected: {
      version: 1,
      command: "PROXY",
      family: "IPv6",
      transport: "stream",
      source: endpoint(canonical6(s), sp, "IPv6"),
      destination: endpoint(canonical6(d), dp, "IPv6"),
      tlvs: [],
      ssl: null,
      checksummed: false,
      length: line.length,
    },
  };
});

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 92,
});
const v1Unknown: fc.Arbitrary<Case> = fc.option(printable, { nil: undefined }).map((tail) => {
  const line = `PROXY UNKNOWN${tail === undefined ? "" : ` ${tail}`}\r\n`;
  return {
    bytes: Buffer.from(line),
    expected: {
      version: 1,
      command: "PROXY",
      family: "unspec",
      transport: "unspec",
      source: null,
      destination: null,
      tlvs: [],
      ssl: null,
      checksummed: false,
      length: line.length,
    },
  };
});

const subTlv = (type: number, text: string): Buffer =>
  Buffer.concat([Buffer.from([type, Buffer.byteLength(text) >> 8, Buffer.byteLength(text) & 255]), Buffer.from(text)]);
const sslTlv = fc
  .tuple(
    fc.integer({ min: 0, max: 7 }),
    fc.constantFrom(0, 1, 0xffffffff),
    fc.option(fc.constantFrom("TLSv1.2", "TLSv1.3")),
    fc.option(fc.string({ maxLength: 30 })),
    fc.option(fc.constantFrom("ECDHE-RSA-AES128-GCM-SHA256")),
  )
  .map(([client, verify, version, cn, cipher]) => {
    const head = Buffer.alloc(5);
    head[0] = client;
    head.writeUInt32BE(verify, 1);
    const parts: Buffer[] = [head];
    if (version !== null) parts.push(subTlv(0x21, version));
    if (cn !== null) parts.push(subTlv(0x22, cn));
    if (cipher !== null) parts.push(subTlv(0x23, cipher));
    return { type: 0x20, value: Buffer.concat(parts) };
  });
const otherTlv = fc.record({
  type: fc.integer({ min: 0, max: 255 }).filter((t) => t !== 0x03 && t !== 0x20 && t !== 0x05),
  value: fc.uint8Array({ maxLength: 40 }),
});
const uniqueId = fc.uint8Array({ maxLength: 128 }).map((value) => ({ type: 0x05, value }));
const tlvList = fc
  .tuple(fc.array(fc.oneof(otherTlv, uniqueId), { maxLength: 6 }), fc.option(sslTlv), fc.nat())
  .map(([others, ssl, at]) => {
    const list: { type: number; value: Uint8Array }[] = [...others];
    if (ssl !== null) list.splice(at % (list.length + 1), 0, ssl);
    return list;
  });

function sslOf(tlvs: V2Model["tlvs"]): RefHeader["ssl"] {
  const t = tlvs.find((x) => x.type === 0x20);
  if (t === undefined) return null;
  const v = Buffer.from(t.value);
  const subs = new Map<number, string>();
  for (let p = 5; p < v.length; p += 3 + v.readUInt16BE(p + 1))
    if (!subs.has(v[p]!)) subs.set(v[p]!, v.subarray(p + 3, p + 3 + v.readUInt16BE(p + 1)).toString());
  return {
    client: v[0]!,
    verified: v.readUInt32BE(1) === 0 && (v[0]! & 6) !== 0,
    version: subs.get(0x21),
    cn: subs.get(0x22),
    cipher: subs.get(0x23),
  };
}

const v2Proxy: fc.Arbitrary<Case> = fc
  .tuple(
    fc.constantFrom(0x11, 0x12, 0x21, 0x22, 0x31, 0x32, 0x00),
    v4bytes,
    v4bytes,
    v6bytes,
    v6bytes,
    port,
    port,
    fc.uint8Array({ minLength: 216, maxLength: 216 }),
    tlvList,
    fc.boolean(),
  )
  .map(([famProto, s4, d4, s6, d6, sp, dp, unix, tlvs, crc]) => {
    const fam = famProto >> 4;
    const portBytes = [sp >> 8, sp & 255, dp >> 8, dp & 255];
    const addresses =
      fam === 1
        ? Uint8Array.from([...s4, ...d4, ...portBytes])
        : fam === 2
          ? Uint8Array.from([...s6, ...d6, ...portBytes])
          : fam === 3
            ? unix
            : new Uint8Array(0);
    const bytes = encodeV2({ command: 1, famProto, addresses, tlvs, crc });
    const family = (["unspec", "IPv4", "IPv6", "unix"] as const)[fam]!;
    const text = (b: Uint8Array): string => (fam === 1 ? [...b].join(".") : canonical6(ipv6Text(b)));
    const ipFamily = fam === 1 ? "IPv4" : "IPv6";
    const hasAddress = fam === 1 || fam === 2;
    const allTlvs = [...tlvs, ...(crc ? [{ type: 3, value: bytes.subarray(bytes.length - 4) }] : [])];
    return {
      bytes,
      expected: {
        version: 2,
        command: "PROXY",
        family,
        transport: (["unspec", "stream", "dgram"] as const)[famProto & 15]!,
        source: hasAddress ? endpoint(text(fam === 1 ? s4 : s6), sp, ipFamily) : null,
        destination: hasAddress ? endpoint(text(fam === 1 ? d4 : d6), dp, ipFamily) : null,
        tlvs: allTlvs.map((t) => ({ type: t.type, value: Buffer.from(t.value).toString("hex") })),
        ssl: sslOf(tlvs),
        checksummed: crc,
        length: bytes.length,
      },
    } satisfies Case;
  });

const v2Local: fc.Arbitrary<Case> = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 }), tlvList, fc.boolean())
  .map(([famProto, block, tlvs, crc]) => {
    // Whatever block a LOCAL sender presents (addresses, TLVs, garbage) is discarded, family byte included.
    const bytes = encodeV2({ command: 0, famProto, addresses: block, tlvs, crc });
    return {
      bytes,
      expected: {
        version: 2,
        command: "LOCAL",
        family: (["unspec", "IPv4", "IPv6", "unix"] as const)[famProto >> 4] ?? "unspec",
        transport: (["unspec", "stream", "dgram"] as const)[famProto & 15] ?? "unspec",
        source: null,
        destination: null,
        tlvs: [],
        ssl: null,
        checksummed: false,
        length: bytes.length,
      },
    } satisfies Case;
  });

const validHeader = fc.oneof(v1Tcp4, v1Tcp6, v1Unknown, v2Proxy, v2Local);

// ---- mutations ----

type Mutation =
  | { kind: "zero"; at: number }
  | { kind: "field"; at: number; token: string }
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "insert"; at: number; value: number }
  | { kind: "delete"; at: number }
  | { kind: "truncate"; at: number }
  | { kind: "length"; delta: number };

/** Tokens near the edges of the v1 grammar, to put in place of a field. */
const TOKENS = [
  "0",
  "00",
  "01",
  "255",
  "256",
  "65535",
  "65536",
  "-1",
  "+1",
  "1.2.3",
  "1.2.3.4.5",
  "1.2.3.04",
  "::",
  "::1",
  ":::",
  "1::2::3",
  "::ffff:1.2.3.4",
  "::ffff:1.2.3.256",
  "12345::",
  "fe80::1%lo",
  "TCP4",
  "TCP6",
  "UNKNOWN",
  "",
  " ",
  "\t",
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("zero" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("field" as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant("set" as const),
    at: fc.nat(),
    value: fc.constantFrom(0x00, 0x0a, 0x0d, 0x20, 0x30, 0x3a, 0x2e, 0xff, 0x7f, 0x39),
  }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("length" as const), delta: fc.integer({ min: -40, max: 40 }) }),
);

function mutate(bytes: Buffer, m: Mutation): Buffer {
  const out = Buffer.from(bytes);
  const at = "at" in m ? m.at % bytes.length : 0;
  switch (m.kind) {
    case "zero":
    case "field": {
      // v1: a leading zero at the start of a field, or a field replaced by an edge token.
      const spaces = [...out.entries()].filter(([, b]) => b === 0x20).map(([i]) => i);
      if (spaces.length === 0) return out;
      const start = (spaces[m.at % spaces.length] as number) + 1;
      if (m.kind === "zero") return Buffer.concat([out.subarray(0, start), Buffer.from("0"), out.subarray(start)]);
      let end = start;
      while (end < out.length && out[end] !== 0x20 && out[end] !== 0x0d) end++;
      return Buffer.concat([out.subarray(0, start), Buffer.from(m.token), out.subarray(end)]);
    }
    case "flip":
      out[at] = (out[at] as number) ^ (1 << m.bit);
      return out;
    case "set":
      out[at] = m.value;
      return out;
    case "insert":
      return Buffer.concat([out.subarray(0, at), Buffer.from([m.value]), out.subarray(at)]);
    case "delete":
      return Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
    case "truncate":
      return out.subarray(0, at);
    case "length":
      // The v2 length field (a v1 line has no such field: its byte 14/15 just change).
      if (out.length >= 16) out.writeUInt16BE(Math.max(0, Math.min(0xffff, out.readUInt16BE(14) + m.delta)), 14);
      return out;
  }
}

/** The parser and the reference agree on `bytes` (+ `tail` after them): same verdict, same header, same rest. */
function agree(bytes: Buffer, chunks: Buffer[]): void {
  const ref = refDecode(bytes);
  const { result, rest } = feedAll(chunks);
  if (ref.kind === "valid") {
    expect(result.status).toBe("done");
    if (result.status !== "done") return;
    expect(plain(result.header)).toEqual(ref.header);
    expect(rest.equals(bytes.subarray(ref.header.length))).toBe(true);
  } else if (ref.kind === "invalid") {
    expect(result.status).toBe("error");
  } else {
    // A prefix the reference cannot decide yet: never accepted, possibly refused early.
    expect(result.status).not.toBe("done");
  }
}

describe("PROXY parser properties (fast-check)", () => {
  it("no input crashes it: every byte string gives needMore, done or error, whole or in chunks", () => {
    const anyStart = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.concat([Buffer.from("PROXY "), b])),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.concat([Buffer.from("0d0a0d0a000d0a515549540a", "hex"), b])),
    );
    fc.assert(
      fc.property(anyStart, fc.array(fc.nat(), { maxLength: 8 }), (bytes, offsets) => {
        const whole = parseProxyHeader(bytes);
        expect(STATUSES.has(whole.status)).toBe(true);
        const { result } = feedAll(cut(Buffer.from(bytes), offsets));
        expect(STATUSES.has(result.status)).toBe(true);
        agree(Buffer.from(bytes), cut(Buffer.from(bytes), offsets));
      }),
      params(),
    );
  });

  it("every valid header parses to exactly what it encodes, and the reference agrees", () => {
    fc.assert(
      fc.property(validHeader, ({ bytes, expected }) => {
        const r = parseProxyHeader(bytes);
        expect(r.status).toBe("done");
        if (r.status !== "done") return;
        expect(plain(r.header)).toEqual(expected);
        expect(r.rest.length).toBe(0);
        expect(refDecode(bytes)).toEqual({ kind: "valid", header: expected });
      }),
      params(),
    );
  });

  it("a valid header split at any byte boundaries parses identically, and the bytes after it come back in order", () => {
    fc.assert(
      fc.property(
        validHeader,
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        ({ bytes, expected }, after, offsets) => {
          const stream = Buffer.concat([bytes, after]);
          const { result, rest } = feedAll(cut(stream, offsets));
          expect(result.status).toBe("done");
          if (result.status !== "done") return;
          expect(plain(result.header)).toEqual(expected);
          expect(rest.equals(Buffer.from(after))).toBe(true);
        },
      ),
      params(),
    );
  });

  it("one byte at a time is the same as all at once", () => {
    fc.assert(
      fc.property(validHeader, ({ bytes, expected }) => {
        const { result } = feedAll([...bytes].map((b) => Buffer.from([b])));
        expect(result.status === "done" && plain(result.header)).toEqual(expected);
      }),
      params(0.3),
    );
  });

  it("no malformed header is accepted: a mutated header is refused, or parses to exactly what the reference says", () => {
    fc.assert(
      fc.property(
        validHeader,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.uint8Array({ maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        ({ bytes }, mutations, after, offsets) => {
          const mutated = Buffer.concat([mutations.reduce(mutate, bytes), after]);
          agree(mutated, cut(mutated, offsets));
        },
      ),
      params(3),
    );
  });
});

describe("addresses (fast-check against Node's own parsing and formatting)", () => {
  it("formats any 16 bytes exactly as Node writes that IPv6 address", () => {
    fc.assert(
      fc.property(v6bytes, (bytes) => {
        expect(formatIPv6(bytes)).toBe(canonical6(ipv6Text(bytes)));
      }),
      params(),
    );
  });

  it("parses IPv6 text to the bytes Node reads, and refuses what Node refuses", () => {
    const text = fc.oneof(
      fc.ipV6(),
      v6bytes.map(ipv6Text),
      fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:.%"), maxLength: 45 }),
    );
    fc.assert(
      fc.property(text, (t) => {
        const bytes = parseIPv6(t);
        const node = net.isIPv6(t) && !t.includes("%");
        const strict =
          node &&
          t.split(":").every((g) => g.includes(".") || g.length <= 4) &&
          (parseIPv4(t.slice(t.lastIndexOf(":") + 1)) !== null) === t.slice(t.lastIndexOf(":") + 1).includes(".");
        if (bytes !== null) {
          expect(node).toBe(true);
          expect(formatIPv6(bytes)).toBe(canonical6(t));
        } else expect(strict).toBe(false);
      }),
      params(),
    );
  });

  it("parses IPv4 only in strict dotted decimal (no leading zeros), as the specification says", () => {
    const text = fc.oneof(
      fc.ipV4(),
      fc.ipV4Extended(),
      fc.string({ unit: fc.constantFrom(..."0123456789."), maxLength: 16 }),
    );
    fc.assert(
      fc.property(text, (t) => {
        const strict = net.isIPv4(t) && t.split(".").every((p) => p === "0" || !p.startsWith("0"));
        expect(parseIPv4(t) !== null).toBe(strict);
      }),
      params(),
    );
  });
});
