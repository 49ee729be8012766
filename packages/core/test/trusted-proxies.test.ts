import net from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTrustedProxies } from "../src/proxy/trusted-proxies.js";

const runs = Number(process.env.ECHO_FUZZ_RUNS ?? 1000);

describe("parseTrustedProxies", () => {
  it("matches single addresses and CIDRs of both families", () => {
    const t = parseTrustedProxies("127.0.0.1, 10.0.0.0/8,2001:db8::/32 ,::1");
    expect(t.entries).toEqual(["127.0.0.1/32", "10.0.0.0/8", "2001:db8::/32", "::1/128"]);
    for (const a of ["127.0.0.1", "10.255.0.3", "2001:db8:ffff::1", "::1"]) expect(t.matches(a)).toBe(true);
    for (const a of ["127.0.0.2", "11.0.0.1", "2001:db9::1", "::2", undefined, "", "localhost", "fe80::1%lo"])
      expect(t.matches(a)).toBe(false);
  });

  it("matches an IPv4-mapped IPv6 peer (a dual-stack listener's view of an IPv4 client) against IPv4 entries", () => {
    const t = parseTrustedProxies("127.0.0.0/8");
    expect(t.matches("::ffff:127.0.0.1")).toBe(true);
    expect(t.matches("::FFFF:7f00:1")).toBe(true);
    expect(t.matches("::ffff:128.0.0.1")).toBe(false);
  });

  it("reads an IPv4-mapped IPv6 network as the IPv4 network it maps", () => {
    const t = parseTrustedProxies(["::ffff:10.0.0.0/104"]);
    expect(t.entries).toEqual(["10.0.0.0/8"]);
    expect(t.matches("10.1.2.3")).toBe(true);
    expect(parseTrustedProxies("::/0").matches("192.0.2.1")).toBe(true);
    expect(parseTrustedProxies("0.0.0.0/0").matches("2001:db8::1")).toBe(false);
  });

  it.each([
    ["10.0.0.0/8,,127.0.0.1", "", "is empty (a stray comma?)"],
    ["10.0.0.256", "10.0.0.256", "is not an IPv4 or IPv6 address (ADDR or ADDR/PREFIX)"],
    ["010.0.0.1", "010.0.0.1", "is not an IPv4 or IPv6 address (ADDR or ADDR/PREFIX)"],
    ["localhost", "localhost", "is not an IPv4 or IPv6 address (ADDR or ADDR/PREFIX)"],
    ["fe80::1%eth0", "fe80::1%eth0", "is not an IPv4 or IPv6 address (ADDR or ADDR/PREFIX)"],
    ["10.0.0.0/33", "10.0.0.0/33", "has a prefix that is not an integer from 0 to 32"],
    ["10.0.0.0/08", "10.0.0.0/08", "has a prefix that is not an integer from 0 to 32"],
    ["::/129", "::/129", "has a prefix that is not an integer from 0 to 128"],
    ["10.0.0.0/", "10.0.0.0/", "has a prefix that is not an integer from 0 to 32"],
    ["10.0.0.1/8", "10.0.0.1/8", "has address bits set past its /8 prefix (did you mean 10.0.0.0/8?)"],
    ["2001:db8::1/32", "2001:db8::1/32", "has address bits set past its /32 prefix (did you mean 2001:db8::/32?)"],
  ])("refuses %j naming the entry", (list, entry, why) => {
    let error: unknown;
    try {
      parseTrustedProxies(list, "--trusted-proxies");
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: "ECHO_ERR_INVALID_ARG",
      name: "InvalidTrustedProxyError",
      entry,
      message: `--trusted-proxies entry ${JSON.stringify(entry)} ${why}`,
    });
  });

  it("refuses what is not a string or an array of strings", () => {
    expect(() => parseTrustedProxies(42 as never)).toThrow(/^trustedProxies entry "42" is not a string/);
    expect(() => parseTrustedProxies([1] as never)).toThrow(expect.objectContaining({ code: "ECHO_ERR_INVALID_ARG" }));
  });

  it("matches exactly as Node's net.BlockList does (fast-check)", () => {
    const v4 = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 }));
    const v6 = fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }));
    const mask = (bytes: Uint8Array, prefix: number): Uint8Array =>
      bytes.map((b, i) => b & ((0xff << (8 - Math.max(0, Math.min(8, prefix - i * 8)))) & 0xff));
    const text6 = (b: Uint8Array): string =>
      Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16)).join(":");
    const peer = fc.oneof(
      fc.ipV4(),
      fc.ipV4().map((a) => `::ffff:${a}`),
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map(text6),
    );
    fc.assert(
      fc.property(
        fc.array(v4, { maxLength: 3 }),
        fc.array(v6, { maxLength: 3 }),
        fc.array(peer, { minLength: 1, maxLength: 5 }),
        (nets4, nets6, peers) => {
          const entries: string[] = [];
          const list = new net.BlockList();
          for (const [a, p] of nets4) {
            const network = [...mask(Uint8Array.from(a.split(".").map(Number)), p)].join(".");
            entries.push(`${network}/${p}`);
            list.addSubnet(network, p, "ipv4");
          }
          for (const [b, p] of nets6) {
            const network = text6(mask(b, p));
            entries.push(`${network}/${p}`);
            list.addSubnet(network, p, "ipv6");
          }
          if (entries.length === 0) return;
          const trusted = parseTrustedProxies(entries.join(","));
          for (const p of peers) {
            // BlockList checks an IPv4 address against IPv6 subnets by its mapped form, and a mapped
            // IPv6 address against IPv4 subnets: the same rule as ours.
            const family = net.isIPv4(p) ? "ipv4" : "ipv6";
            expect(trusted.matches(p), `${p} in ${entries.join(",")}`).toBe(list.check(p, family));
          }
        },
      ),
      { numRuns: runs },
    );
  });
});
