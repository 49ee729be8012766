/**
 * The parser against encoders it shares no code with: the npm package proxy-protocol-js, and
 * @echo/client's encoder over real sockets (HAProxy is in proxy-haproxy.test.ts).
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { EchoClient, runLoad, type ProxyHeaderOption } from "@echo/client";
import {
  Command,
  INETProtocol,
  IPv4Address,
  IPv4ProxyAddress,
  IPv6Address,
  IPv6ProxyAddress,
  Peer,
  TransportProtocol,
  UnixAddress,
  UnixProxyAddress,
  V1ProxyProtocol,
  V2ProxyProtocol,
} from "proxy-protocol-js";
import { parseProxyHeader, type ProxyParseResult } from "../src/proxy/parser.js";
import type { ProxyHeader } from "../src/proxy/header.js";
import { proxiedEcho, type Arrival, type ProxiedEcho } from "./proxy-helpers.js";
import { canonical6, ipv6Text } from "./proxy-reference.js";

const runs = Number(process.env.ECHO_FUZZ_RUNS ?? 1000);
const port = fc.integer({ min: 0, max: 65535 });
const bytes = (n: number): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n });

function done(r: ProxyParseResult): { header: ProxyHeader; rest: Buffer } {
  if (r.status !== "done") throw new Error(`expected done, got ${JSON.stringify(r)}`);
  return r;
}

describe("against proxy-protocol-js", () => {
  it("parses every v2 header it builds (IPv4, IPv6, UNIX; PROXY and LOCAL; STREAM and DGRAM), its trailing data as the rest", () => {
    const family = fc.constantFrom("v4", "v6", "unix");
    fc.assert(
      fc.property(
        family,
        fc.constantFrom(Command.PROXY, Command.LOCAL),
        fc.constantFrom(TransportProtocol.STREAM, TransportProtocol.DGRAM),
        bytes(16),
        bytes(16),
        port,
        port,
        fc.uint8Array({ maxLength: 32 }),
        (fam, command, transport, a, b, sp, dp, data) => {
          const address =
            fam === "v4"
              ? new IPv4ProxyAddress(
                  IPv4Address.createFrom(a.slice(0, 4)),
                  sp,
                  IPv4Address.createFrom(b.slice(0, 4)),
                  dp,
                )
              : fam === "v6"
                ? new IPv6ProxyAddress(IPv6Address.createFrom(a), sp, IPv6Address.createFrom(b), dp)
                : new UnixProxyAddress(
                    UnixAddress.createFrom([...a, ...new Array<number>(92).fill(0)]),
                    UnixAddress.createFrom([...b, ...new Array<number>(92).fill(0)]),
                  );
          const wire = new V2ProxyProtocol(command, transport, address, data).build();
          const { header, rest } = done(parseProxyHeader(wire));
          expect(Buffer.from(rest).equals(Buffer.from(data))).toBe(true);
          expect(header.command).toBe(command === Command.PROXY ? "PROXY" : "LOCAL");
          expect(header.transport).toBe(transport === TransportProtocol.STREAM ? "stream" : "dgram");
          expect(header.family).toBe({ v4: "IPv4", v6: "IPv6", unix: "unix" }[fam]);
          if (command === Command.LOCAL || fam === "unix") {
            expect(header.source).toBeNull();
            return;
          }
          const text = (x: number[]): string =>
            fam === "v4" ? x.slice(0, 4).join(".") : canonical6(ipv6Text(Uint8Array.from(x)));
          expect(header.source).toEqual({ address: text(a), port: sp, family: fam === "v4" ? "IPv4" : "IPv6" });
          expect(header.destination).toEqual({ address: text(b), port: dp, family: fam === "v4" ? "IPv4" : "IPv6" });
        },
      ),
      { numRuns: runs },
    );
  });

  it("parses every v1 TCP4/TCP6 line it builds, and agrees with its own parser", () => {
    const tcp4 = fc.tuple(fc.constant(INETProtocol.TCP4), fc.ipV4(), fc.ipV4());
    const tcp6 = fc.tuple(
      fc.constant(INETProtocol.TCP6),
      bytes(16).map((b) => canonical6(ipv6Text(Uint8Array.from(b)))),
      bytes(16).map((b) => ipv6Text(Uint8Array.from(b))),
    );
    fc.assert(
      fc.property(fc.oneof(tcp4, tcp6), port, port, fc.string({ maxLength: 20 }), ([proto, src, dst], sp, dp, data) => {
        const line = new V1ProxyProtocol(proto, new Peer(src, sp), new Peer(dst, dp), data).build();
        const theirs = V1ProxyProtocol.parse(line);
        const { header, rest } = done(parseProxyHeader(Buffer.from(line, "utf8")));
        const fix = (a: string): string => (proto === INETProtocol.TCP4 ? a : canonical6(a));
        expect(header.source).toEqual({
          address: fix(theirs.source.ipAddress),
          port: theirs.source.port,
          family: proto === INETProtocol.TCP4 ? "IPv4" : "IPv6",
        });
        expect(header.destination?.address).toBe(fix(theirs.destination.ipAddress));
        expect(header.destination?.port).toBe(theirs.destination.port);
        expect(rest.toString("utf8")).toBe(theirs.data ?? "");
      }),
      { numRuns: runs },
    );
  });
});

const listeners = new Set<ProxiedEcho>();
afterEach(async () => {
  for (const l of listeners) await l.close();
  listeners.clear();
});

/** A real listener that parses each connection's header with core's parser, then echoes. */
async function listener(): Promise<ProxiedEcho & { port: number }> {
  const l = proxiedEcho();
  listeners.add(l);
  return Object.assign(l, { port: await l.listen() });
}

describe("against @echo/client's encoder, over real sockets", () => {
  it.each(["v1", "v2"] as const)("%s: the header announces the client's own address and port", async (version) => {
    const server = await listener();
    const client = await EchoClient.connect({ port: server.port }, { proxyHeader: version });
    expect((await client.request("ping")).toString()).toBe("ping");
    await client.close();
    const { header, peer } = server.arrivals[0] as Arrival;
    expect(header.version).toBe(version === "v1" ? 1 : 2);
    expect(header.source).toEqual({ address: "127.0.0.1", port: peer.port, family: "IPv4" });
    expect(header.destination).toEqual({ address: "127.0.0.1", port: server.port, family: "IPv4" });
  });

  it("explicit sources of both families, and a LOCAL health check, parse to what was given", async () => {
    const server = await listener();
    const cases: [ProxyHeaderOption, Partial<ProxyHeader>][] = [
      [
        { version: 1, source: { address: "203.0.113.9", port: 1 } },
        { source: { address: "203.0.113.9", port: 1, family: "IPv4" } },
      ],
      [
        { version: 2, source: { address: "2001:db8::9", port: 65535 } },
        {
          source: { address: "2001:db8::9", port: 65535, family: "IPv6" },
          destination: { address: "::ffff:127.0.0.1", port: server.port, family: "IPv6" },
        },
      ],
      [
        { version: 1, source: { address: "0:0:0:0:0:0:0:1", port: 0 }, destination: { address: "::", port: 7 } },
        {
          source: { address: "::1", port: 0, family: "IPv6" },
          destination: { address: "::", port: 7, family: "IPv6" },
        },
      ],
      [
        { version: 2, command: "local" },
        { command: "LOCAL", source: null, destination: null },
      ],
    ];
    for (const [proxyHeader] of cases) {
      const client = await EchoClient.connect({ port: server.port }, { proxyHeader });
      await client.request("x");
      await client.close();
    }
    cases.forEach(([, expected], i) => expect(server.arrivals[i]?.header).toMatchObject(expected));
    expect(server.refused).toEqual([]);
  });

  it("echo-load through the parser: every connection's header parses, every echo is intact", async () => {
    const server = await listener();
    const result = await runLoad({ port: server.port, connections: 8, count: 400, proxyHeader: "v2" });
    expect(result).toMatchObject({ roundTrips: 400, errors: 0, mismatches: 0 });
    expect(server.refused).toEqual([]);
    expect(server.arrivals.length).toBe(9); // the probe and 8 connections
    for (const { header, peer } of server.arrivals) expect(header.source?.port).toBe(peer.port);
  });

  it("a client that sends no header is refused at its first byte", async () => {
    const server = await listener();
    const client = await EchoClient.connect({ port: server.port });
    await expect(client.request("hello", { timeout: 10_000 })).rejects.toMatchObject({
      code: expect.stringMatching(/ECHO_ERR_(CLOSED|RESET)/),
    });
    await client.close();
    expect(server.refused).toEqual([expect.stringMatching(/^signature: /)]);
  });
});
