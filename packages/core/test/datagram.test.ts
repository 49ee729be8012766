import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { EchoServer, type Datagram } from "@echo/core";
import {
  RateLimiter,
  isReflectionPort,
  normalizeModelOptions,
  parseServerArgs,
  sumStats,
  ServerStats,
  DatagramStats,
} from "@echo/core/model-kit";
import { datagramRoundTrip, openPeer } from "@echo/conformance";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../dist/cli/echo-server.js", import.meta.url));
const quiet = { info: () => {}, error: () => {} };
const servers: EchoServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("datagram options, validated once in the kit", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ transport: "sctp" }, /options\.transport must be one of "tcp", "udp", "both", got "sctp"/],
    [
      { transport: "udp", path: "/tmp/x.sock" },
      /options\.transport "udp" serves UDP on host and port: it cannot be used with options\.path/,
    ],
    [{ maxDatagram: 0 }, /options\.maxDatagram must be an integer between 1 and 65507, got 0/],
    [{ maxDatagram: 65_508 }, /options\.maxDatagram must be an integer between 1 and 65507/],
    [{ maxDatagramsPerAddress: "10" }, /options\.maxDatagramsPerAddress must be N\/SECONDS/],
    [{ maxDatagramsPerAddress: "0/1" }, /options\.maxDatagramsPerAddress must be N\/SECONDS with N >= 1/],
    [
      { maxDatagramsPerAddress: { count: 1, seconds: 0 } },
      /options\.maxDatagramsPerAddress\.seconds must be an integer/,
    ],
  ];
  for (const [options, message] of cases) {
    it(`rejects ${JSON.stringify(options)}`, () => {
      expect(() => normalizeModelOptions(options, { carrier: { kind: "in-process" } })).toThrow(
        expect.objectContaining({ code: "ECHO_ERR_INVALID_ARG", message: expect.stringMatching(message) }),
      );
    });
  }

  it("defaults: tcp, 65507 bytes, no rate limit", () => {
    expect(normalizeModelOptions({}, { carrier: { kind: "in-process" } }).datagram).toEqual({
      transport: "tcp",
      maxDatagram: 65_507,
      maxDatagramsPerAddress: undefined,
    });
    expect(
      normalizeModelOptions({ maxDatagramsPerAddress: "100/2" }, { carrier: { kind: "in-process" } }).datagram
        .maxDatagramsPerAddress,
    ).toEqual({ count: 100, seconds: 2 });
  });

  it("the model once cannot serve UDP", () => {
    expect(() => new EchoServer({ model: "once", transport: "udp" })).toThrow(
      /options\.model "once" serves one connection/,
    );
  });

  it("the CLI flags parse into the same options", () => {
    const args = parseServerArgs([
      "--transport",
      "both",
      "--max-datagram",
      "512",
      "--max-datagrams-per-address",
      "5/1",
    ]);
    expect(args.options).toMatchObject({
      transport: "both",
      maxDatagram: 512,
      maxDatagramsPerAddress: { count: 5, seconds: 1 },
    });
    expect(parseServerArgs([]).options.transport).toBeUndefined();
    expect(() => parseServerArgs(["--transport", "udp6"])).toThrow(/--transport must be one of tcp, udp, both/);
    expect(() => parseServerArgs(["--max-datagram", "70000"])).toThrow(
      /--max-datagram must be an integer from 1 to 65507/,
    );
    expect(() => parseServerArgs(["--max-datagrams-per-address", "lots"])).toThrow(
      /--max-datagrams-per-address must be N\/SECONDS/,
    );
  });

  it("echo-server exits 2 on a bad --transport", async () => {
    const bad = await run(process.execPath, [cli, "--transport", "quic"]).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/--transport must be one of tcp, udp, both/) });
  });
});

describe("datagram safety building blocks", () => {
  it("the reflection ports are 0, 7, 13, 17, 19 and 37", () => {
    for (const port of [0, 7, 13, 17, 19, 37]) expect(isReflectionPort(port)).toBe(true);
    for (const port of [1, 9, 1024, 65535]) expect(isReflectionPort(port)).toBe(false);
  });

  it("the rate limiter allows N per window per address, and its table stays bounded", () => {
    let now = 0;
    const limiter = new RateLimiter({ count: 2, seconds: 1 }, 100, () => now);
    expect([limiter.allow("a"), limiter.allow("a"), limiter.allow("a"), limiter.allow("b")]).toEqual([
      true,
      true,
      false,
      true,
    ]);
    now = 1000;
    expect(limiter.allow("a")).toBe(true);
    for (let i = 0; i < 10_000; i++) limiter.allow(`10.0.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
  });

  it("sumStats adds datagram sections, and leaves TCP-only stats without one", () => {
    const a = new ServerStats().snapshot();
    const d = new DatagramStats();
    d.received = 3;
    d.drop("reflection");
    const withDatagrams = { ...a, datagram: d.snapshot() };
    const total = sumStats([withDatagrams, withDatagrams, a]);
    expect(total.datagram).toMatchObject({ received: 6, dropped: { reflection: 2, truncated: 0 } });
    expect(sumStats([a, a]).datagram).toBeUndefined();
  });
});

describe("core's datagram models", () => {
  async function listen(
    options: ConstructorParameters<typeof EchoServer>[0],
  ): Promise<{ server: EchoServer; address: { host: string; port: number } }> {
    const server = new EchoServer({ logger: quiet, ...options });
    servers.push(server);
    const a = await server.listen();
    if (a.kind === "unix") throw new Error("unexpected");
    expect(a.kind).toBe(options?.transport === "both" ? "tcp" : "udp");
    return { server, address: { host: a.host, port: a.port } };
  }

  it("iterative awaits each handler call before the next datagram; async overlaps them", async () => {
    for (const model of ["iterative", "async"] as const) {
      let running = 0;
      let most = 0;
      const handler = {
        async onDatagram(datagram: Datagram, data: Uint8Array) {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setImmediate(resolve));
          running--;
          datagram.reply(data);
        },
      };
      const { address } = await listen({ model, transport: "udp", handler });
      const peer = await openPeer();
      try {
        for (let i = 0; i < 20; i++) await peer.send(`n${i}`, address);
        const replies: string[] = [];
        for (let i = 0; i < 20; i++) {
          const r = await peer.next(5000);
          if (r) replies.push(r.toString());
        }
        expect(replies.length).toBe(20);
        if (model === "iterative") {
          expect(most).toBe(1);
          expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`));
        }
      } finally {
        await peer.close();
      }
    }
  });

  it("a handler's datagram gives the source and the worker name", async () => {
    let seen: Datagram | undefined;
    const { address } = await listen({
      transport: "udp",
      workerName: "W-1",
      handler: {
        onDatagram: (d: Datagram) => {
          seen = d;
          d.reply("ok");
        },
      },
    });
    const peer = await openPeer();
    try {
      expect((await datagramRoundTrip(address, "x", { peer })).toString()).toBe("ok");
      expect(seen).toMatchObject({ remoteAddress: "127.0.0.1", remotePort: peer.port, family: "IPv4", worker: "W-1" });
    } finally {
      await peer.close();
    }
  });

  it("a reply over maxDatagram is not sent and is counted as replyTooLarge", async () => {
    const { server, address } = await listen({ transport: "udp", handler: "whoami", maxDatagram: 100 });
    const peer = await openPeer();
    try {
      await peer.send(Buffer.alloc(95, 0x61), address);
      expect((await datagramRoundTrip(address, "small", { peer })).toString()).toBe("MainThread: small");
      expect(server.stats().datagram?.dropped.replyTooLarge).toBe(1);
    } finally {
      await peer.close();
    }
  });
});
