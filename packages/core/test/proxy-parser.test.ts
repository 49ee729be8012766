import { describe, expect, it } from "vitest";
import { ProxyHeaderParser, parseProxyHeader, type ProxyParseResult } from "../src/proxy/parser.js";
import { ProxyHeaderError, ProxyErrorCodes } from "../src/proxy/errors.js";
import { encodeV2, plain, refCrc32c } from "./proxy-reference.js";
import { crc32c } from "../src/proxy/crc32c.js";

const v1 = (line: string): Buffer => Buffer.from(line, "latin1");

function done(r: ProxyParseResult): Extract<ProxyParseResult, { status: "done" }> {
  if (r.status !== "done") throw new Error(`expected done, got ${JSON.stringify(r)}`);
  return r;
}

function reason(bytes: Uint8Array, options?: ConstructorParameters<typeof ProxyHeaderParser>[0]): string {
  const r = parseProxyHeader(bytes, options);
  return r.status === "error" ? r.reason : r.status;
}

const ipv4Block = (src: number[], dst: number[], sp: number, dp: number): Buffer =>
  Buffer.from([...src, ...dst, sp >> 8, sp & 255, dp >> 8, dp & 255]);

describe("PROXY v1", () => {
  it("parses the specification's TCP4 example and hands back the bytes after it", () => {
    const r = done(parseProxyHeader(v1("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n")));
    expect(r.header.source).toEqual({ address: "192.168.0.1", port: 56324, family: "IPv4" });
    expect(r.header.destination).toEqual({ address: "192.168.0.11", port: 443, family: "IPv4" });
    expect(r.header).toMatchObject({ version: 1, command: "PROXY", family: "IPv4", transport: "stream", length: 47 });
    expect(r.rest.toString()).toBe("GET / HTTP/1.1\r\n");
  });

  it("parses TCP6 and writes the addresses as Node does", () => {
    const r = done(parseProxyHeader(v1("PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::FFFF:127.0.0.1 65535 0\r\n")));
    expect(r.header.source).toEqual({ address: "2001:db8::1", port: 65535, family: "IPv6" });
    expect(r.header.destination).toEqual({ address: "::ffff:127.0.0.1", port: 0, family: "IPv6" });
  });

  it("takes UNKNOWN, short or with anything before the CRLF, as 'use the real addresses'", () => {
    for (const line of [
      "PROXY UNKNOWN\r\n",
      "PROXY UNKNOWN ffff:f::f ffff:f::f 65535 65535\r\n",
      "PROXY UNKNOWN whatever it says\r\n",
    ]) {
      const r = done(parseProxyHeader(v1(line)));
      expect(r.header).toMatchObject({
        family: "unspec",
        transport: "unspec",
        source: null,
        destination: null,
        length: line.length,
      });
    }
  });

  it("accepts the longest line (107 bytes) and refuses one byte more without CRLF", () => {
    const longest = `PROXY UNKNOWN ${"ffff:".repeat(7)}ffff ${"ffff:".repeat(7)}ffff 65535 65535\r\n`;
    expect(longest.length).toBe(107);
    expect(done(parseProxyHeader(v1(longest))).header.length).toBe(107);
    expect(reason(v1(`PROXY UNKNOWN ${"x".repeat(93)}`))).toBe("too-long");
    expect(reason(v1(`PROXY UNKNOWN ${"x".repeat(92)}`))).toBe("needMore");
  });

  it.each([
    ["PROXY TCP4 010.0.0.1 10.0.0.2 1 2\r\n", "address"], // leading zero
    ["PROXY TCP4 10.0.0.1 10.0.0.256 1 2\r\n", "address"],
    ["PROXY TCP4 ::1 10.0.0.2 1 2\r\n", "address"], // wrong family
    ["PROXY TCP6 10.0.0.1 ::1 1 2\r\n", "address"],
    ["PROXY TCP6 ::1 fe80::1%eth0 1 2\r\n", "address"],
    ["PROXY TCP6 ::1 1:2:3:4:5:6:7:8:9 1 2\r\n", "address"],
    ["PROXY TCP4 10.0.0.1 10.0.0.2 01 2\r\n", "port"], // leading zero
    ["PROXY TCP4 10.0.0.1 10.0.0.2 1 65536\r\n", "port"],
    ["PROXY TCP4 10.0.0.1 10.0.0.2 -1 2\r\n", "port"],
    ["PROXY TCP4 10.0.0.1  10.0.0.2 1 2\r\n", "syntax"], // two spaces
    ["PROXY TCP4 10.0.0.1 10.0.0.2 1 2 \r\n", "syntax"],
    ["PROXY TCP4 10.0.0.1 10.0.0.2 1\r\n", "syntax"],
    ["PROXY TCP5 10.0.0.1 10.0.0.2 1 2\r\n", "syntax"],
    ["PROXY UNKNOWNX\r\n", "syntax"],
    ["PROXY TCP4 10.0.0.1 10.0.0.2 1 2\n", "syntax"], // lone LF
    ["PROXY TCP4 10.0.0.1\r10.0.0.2 1 2\r\n", "syntax"], // lone CR
    ["PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\r\n", "syntax"],
    ["PROXY TCP4 10.0.0.1 10.0.0.2 1 2\u00e9\r\n", "syntax"], // not US-ASCII
    ["PROXYTCP4 10.0.0.1 10.0.0.2 1 2\r\n", "signature"],
    ["proxy TCP4 10.0.0.1 10.0.0.2 1 2\r\n", "signature"],
    ["GET / HTTP/1.1\r\n", "signature"],
  ])("refuses %j (%s)", (line, why) => {
    expect(reason(v1(line))).toBe(why);
  });

  it("refuses at the first wrong byte, without waiting for more", () => {
    const parser = new ProxyHeaderParser();
    expect(parser.feed(v1("PROX")).status).toBe("needMore");
    expect(parser.feed(v1("Z")).status).toBe("error");
    expect(new ProxyHeaderParser().feed(v1("G"))).toMatchObject({ status: "error", reason: "signature" });
  });
});

describe("PROXY v2", () => {
  const sig = Buffer.from("0d0a0d0a000d0a515549540a", "hex");

  it("parses TCP over IPv4 and the bytes after it", () => {
    const bytes = Buffer.concat([
      encodeV2({
        command: 1,
        famProto: 0x11,
        addresses: ipv4Block([192, 0, 2, 1], [198, 51, 100, 7], 56324, 443),
        tlvs: [],
        crc: false,
      }),
      Buffer.from("hi"),
    ]);
    const r = done(parseProxyHeader(bytes));
    expect(r.header).toMatchObject({ version: 2, command: "PROXY", family: "IPv4", transport: "stream", length: 28 });
    expect(r.header.source).toEqual({ address: "192.0.2.1", port: 56324, family: "IPv4" });
    expect(r.header.destination).toEqual({ address: "198.51.100.7", port: 443, family: "IPv4" });
    expect(r.rest.toString()).toBe("hi");
  });

  it("parses TCP over IPv6, writing an IPv4-mapped source as Node does", () => {
    const src = Buffer.from("00000000000000000000ffff7f000001", "hex");
    const dst = Buffer.from("20010db8000000000000000000000001", "hex");
    const r = done(
      parseProxyHeader(
        encodeV2({
          command: 1,
          famProto: 0x21,
          addresses: Buffer.concat([src, dst, Buffer.from([0, 80, 1, 187])]),
          tlvs: [],
          crc: false,
        }),
      ),
    );
    expect(r.header.source).toEqual({ address: "::ffff:127.0.0.1", port: 80, family: "IPv6" });
    expect(r.header.destination).toEqual({ address: "2001:db8::1", port: 443, family: "IPv6" });
  });

  it("takes LOCAL (a health check) as 'use the real addresses', whatever the block holds", () => {
    const withBlock = encodeV2({
      command: 0,
      famProto: 0x11,
      addresses: ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2),
      tlvs: [],
      crc: false,
    });
    expect(done(parseProxyHeader(withBlock)).header).toMatchObject({
      command: "LOCAL",
      source: null,
      destination: null,
      family: "IPv4",
    });
    const empty = Buffer.concat([sig, Buffer.from([0x20, 0x00, 0, 0])]);
    expect(done(parseProxyHeader(empty)).header).toMatchObject({ command: "LOCAL", family: "unspec", length: 16 });
    // LOCAL must not be assumed to carry zero bytes, and its block is discarded whatever it holds:
    // a short block, a broken TLV, a family byte no PROXY header may have.
    const short = encodeV2({ command: 0, famProto: 0x21, addresses: Buffer.alloc(5), tlvs: [], crc: false });
    expect(done(parseProxyHeader(short)).header.length).toBe(21);
    const odd = encodeV2({ command: 0, famProto: 0xff, addresses: Buffer.from([1, 0, 9]), tlvs: [], crc: false });
    expect(done(parseProxyHeader(odd)).header).toMatchObject({
      command: "LOCAL",
      family: "unspec",
      transport: "unspec",
      tlvs: [],
      length: 19,
    });
  });

  it("gives no address for AF_UNIX and AF_UNSPEC", () => {
    const unix = encodeV2({ command: 1, famProto: 0x31, addresses: Buffer.alloc(216, 0x61), tlvs: [], crc: false });
    expect(done(parseProxyHeader(unix)).header).toMatchObject({ family: "unix", source: null });
    const unspec = encodeV2({ command: 1, famProto: 0x00, addresses: Buffer.alloc(0), tlvs: [], crc: false });
    expect(done(parseProxyHeader(unspec)).header).toMatchObject({
      family: "unspec",
      transport: "unspec",
      source: null,
    });
  });

  it("collects TLVs in order and decodes the SSL TLV and its sub-TLVs", () => {
    const sub = (type: number, text: string): Buffer =>
      Buffer.concat([Buffer.from([type, 0, text.length]), Buffer.from(text)]);
    const ssl = Buffer.concat([
      Buffer.from([0x07, 0, 0, 0, 0]),
      sub(0x21, "TLSv1.3"),
      sub(0x22, "client.example"),
      sub(0x23, "TLS_AES_128_GCM_SHA256"),
    ]);
    const tlvs = [
      { type: 0x01, value: Buffer.from("h2") },
      { type: 0x04, value: Buffer.alloc(0) },
      { type: 0x20, value: ssl },
      { type: 0xe0, value: Buffer.from([1, 2, 3]) },
    ];
    const r = done(
      parseProxyHeader(
        encodeV2({
          command: 1,
          famProto: 0x11,
          addresses: ipv4Block([10, 0, 0, 1], [10, 0, 0, 2], 1, 2),
          tlvs,
          crc: true,
        }),
      ),
    );
    expect(r.header.tlvs.map((t) => t.type)).toEqual([0x01, 0x04, 0x20, 0xe0, 0x03]);
    expect(Buffer.from(r.header.tlvs[0]!.value).toString()).toBe("h2");
    expect(r.header.ssl).toEqual({
      client: 7,
      verified: true,
      version: "TLSv1.3",
      cn: "client.example",
      cipher: "TLS_AES_128_GCM_SHA256",
    });
    expect(r.header.checksummed).toBe(true);
  });

  it("reports an SSL client without a verified certificate as not verified", () => {
    const noCert = Buffer.from([0x01, 0, 0, 0, 0]);
    const failed = Buffer.from([0x03, 0, 0, 0, 1]);
    for (const [value, client] of [
      [noCert, 1],
      [failed, 3],
    ] as const) {
      const r = done(
        parseProxyHeader(
          encodeV2({
            command: 1,
            famProto: 0x11,
            addresses: ipv4Block([1, 1, 1, 1], [2, 2, 2, 2], 1, 2),
            tlvs: [{ type: 0x20, value }],
            crc: false,
          }),
        ),
      );
      expect(r.header.ssl).toMatchObject({ client, verified: false, version: undefined, cn: undefined });
    }
  });

  it("verifies the CRC32c TLV and refuses a header whose checksum does not match", () => {
    const good = encodeV2({
      command: 1,
      famProto: 0x11,
      addresses: ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 9, 10),
      tlvs: [],
      crc: true,
    });
    expect(done(parseProxyHeader(good)).header.checksummed).toBe(true);
    const bad = Buffer.from(good);
    bad[17] = (bad[17] as number) ^ 1; // an address byte
    expect(reason(bad)).toBe("checksum");
  });

  it("computes CRC32c as RFC 3720's test vectors say", () => {
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    expect(refCrc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
  });

  it.each([
    ["version 1", Buffer.concat([sig, Buffer.from([0x11, 0x11, 0, 12]), Buffer.alloc(12)]), "version"],
    ["command 2", Buffer.concat([sig, Buffer.from([0x22, 0x11, 0, 12]), Buffer.alloc(12)]), "command"],
    ["family 4", Buffer.concat([sig, Buffer.from([0x21, 0x41, 0, 12]), Buffer.alloc(12)]), "family"],
    ["transport 3", Buffer.concat([sig, Buffer.from([0x21, 0x13, 0, 12]), Buffer.alloc(12)]), "family"],
    [
      "PROXY with INET and UNSPEC transport",
      Buffer.concat([sig, Buffer.from([0x21, 0x10, 0, 12]), Buffer.alloc(12)]),
      "family",
    ],
    ["an IPv4 block of 11 bytes", Buffer.concat([sig, Buffer.from([0x21, 0x11, 0, 11]), Buffer.alloc(11)]), "length"],
    ["an IPv6 block of 35 bytes", Buffer.concat([sig, Buffer.from([0x21, 0x21, 0, 35]), Buffer.alloc(35)]), "length"],
    [
      "a TLV longer than the header",
      Buffer.concat([sig, Buffer.from([0x21, 0x11, 0, 16]), Buffer.alloc(12), Buffer.from([1, 0, 2, 0])]),
      "tlv",
    ],
    [
      "two bytes of a TLV",
      Buffer.concat([sig, Buffer.from([0x21, 0x11, 0, 14]), Buffer.alloc(12), Buffer.from([1, 0])]),
      "tlv",
    ],
    [
      "a 3-byte CRC32c",
      Buffer.concat([sig, Buffer.from([0x21, 0x11, 0, 18]), Buffer.alloc(12), Buffer.from([3, 0, 3, 0, 0, 0])]),
      "tlv",
    ],
    [
      "an SSL TLV of 4 bytes",
      Buffer.concat([sig, Buffer.from([0x21, 0x11, 0, 19]), Buffer.alloc(12), Buffer.from([0x20, 0, 4, 0, 0, 0, 0])]),
      "tlv",
    ],
    [
      "an SSL sub-TLV past its TLV",
      Buffer.concat([
        sig,
        Buffer.from([0x21, 0x11, 0, 23]),
        Buffer.alloc(12),
        Buffer.from([0x20, 0, 8, 1, 0, 0, 0, 0, 0x21, 0, 9]),
      ]),
      "tlv",
    ],
    [
      "a unique id of 129 bytes",
      Buffer.concat([
        sig,
        Buffer.from([0x21, 0x11, 0, 144]),
        Buffer.alloc(12),
        Buffer.from([5, 0, 129]),
        Buffer.alloc(129),
      ]),
      "tlv",
    ],
  ])("refuses %s", (_what, bytes, why) => {
    expect(reason(bytes)).toBe(why);
  });

  it("refuses a header longer than the cap as soon as its length field arrives", () => {
    const parser = new ProxyHeaderParser({ maxV2Length: 300 });
    expect(parser.feed(Buffer.concat([sig, Buffer.from([0x21, 0x11, 0x01])])).status).toBe("needMore");
    expect(parser.feed(Buffer.from([0x1d]))).toMatchObject({ status: "error", reason: "too-long" }); // 16 + 285
    expect(reason(Buffer.concat([sig, Buffer.from([0x21, 0x11, 0xff, 0xff])]))).toBe("too-long");
    expect(reason(Buffer.concat([sig, Buffer.from([0x21, 0x11, 0x01, 0x1c])]), { maxV2Length: 300 })).toBe("needMore");
  });

  it("refuses the moment byte 13 or 14 is wrong", () => {
    expect(new ProxyHeaderParser().feed(Buffer.concat([sig, Buffer.from([0x31])]))).toMatchObject({
      status: "error",
      reason: "version",
    });
    expect(new ProxyHeaderParser().feed(Buffer.concat([sig, Buffer.from([0x21, 0x51])]))).toMatchObject({
      status: "error",
      reason: "family",
    });
  });
});

describe("ProxyHeaderParser", () => {
  it("parses a header fed one byte at a time, and the rest arrives in the same chunk", () => {
    const header = encodeV2({
      command: 1,
      famProto: 0x11,
      addresses: ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 9, 10),
      tlvs: [{ type: 1, value: Buffer.from("x") }],
      crc: true,
    });
    const parser = new ProxyHeaderParser();
    for (let i = 0; i < header.length - 1; i++) expect(parser.feed(header.subarray(i, i + 1)).status).toBe("needMore");
    const r = done(parser.feed(Buffer.concat([header.subarray(-1), Buffer.from("data")])));
    expect(plain(r.header)).toEqual(plain(done(parseProxyHeader(header)).header));
    expect(r.rest.toString()).toBe("data");
    expect(parser.received).toBe(header.length);
  });

  it("can be limited to one version", () => {
    expect(reason(v1("PROXY UNKNOWN\r\n"), { v1: false })).toBe("signature");
    expect(
      reason(encodeV2({ command: 0, famProto: 0, addresses: Buffer.alloc(0), tlvs: [], crc: false }), { v2: false }),
    ).toBe("signature");
  });

  it("is finished after done or error, and says so when fed again", () => {
    const parser = new ProxyHeaderParser();
    parser.feed(v1("X"));
    expect(parser.finished).toBe(true);
    expect(() => parser.feed(v1("P"))).toThrow(expect.objectContaining({ code: "ECHO_ERR_SERVER_STATE" }));
  });

  it.each([
    [{ maxV2Length: 231 }, "options.maxV2Length must be an integer from 232 to 65551, got 231"],
    [{ maxV2Length: 65552 }, "options.maxV2Length must be an integer from 232 to 65551, got 65552"],
    [{ maxV2Length: 1.5 }, "options.maxV2Length must be an integer from 232 to 65551, got 1.5"],
    [{ v1: "yes" }, "options.v1 must be a boolean, got yes"],
    [{ v2: 0 }, "options.v2 must be a boolean, got 0"],
    [{ v1: false, v2: false }, "options.v1 and options.v2 cannot both be false"],
  ])("validates options: %j", (options, message) => {
    expect(() => new ProxyHeaderParser(options as never)).toThrow(
      expect.objectContaining({ code: "ECHO_ERR_INVALID_ARG", message }),
    );
  });

  it("has a typed error for a rejected header, naming the reason", () => {
    const error = new ProxyHeaderError("checksum", "x");
    expect(error).toMatchObject({ code: ProxyErrorCodes.PROXY_HEADER, reason: "checksum", name: "ProxyHeaderError" });
    expect(error.message).toBe("invalid PROXY protocol header (checksum): x");
  });
});
