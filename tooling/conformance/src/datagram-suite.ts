/**
 * The datagram part of the conformance suite (UDP echo, RFC 862): every model that serves
 * `transport: "udp"` runs it unchanged. A package calls `datagramSuite(target)` from a test file.
 */
import { Buffer } from "node:buffer";
import { afterEach, describe, expect, it } from "vitest";
import { datagramRoundTrip, openPeer } from "./dgram-helpers.js";
import { roundTrip } from "./net-helpers.js";
import type { CoreErrors } from "./suite.js";
import { fileURLToPath } from "node:url";

/** Options the datagram suite asks a target to start with (core's option names). */
export interface DatagramStartOptions {
  handler: string;
  transport: "udp" | "both";
  maxDatagram?: number;
  maxDatagramsPerAddress?: string;
}

/** The datagram counters the suite reads (core's `stats().datagram`). */
export interface SuiteDatagramStats {
  received: number;
  replied: number;
  errors: number;
  dropped: { reflection: number; truncated: number; rateLimited: number };
}

/** A started datagram server. */
export interface RunningDatagramTarget {
  /** The UDP address (for `both`, TCP listens on the same port). */
  address: { host: string; port: number };
  stats(): { datagram?: SuiteDatagramStats } | Promise<{ datagram?: SuiteDatagramStats }>;
  close(): Promise<void>;
}

/** A model under test for datagrams. */
export interface DatagramTarget {
  name: string;
  start(options: DatagramStartOptions): Promise<RunningDatagramTarget>;
  /** What `whoami` names as the worker. */
  worker: RegExp;
  /** How many workers may each read the socket (per-address rate limits are per worker). @default 1 */
  workers?: number;
  errors: CoreErrors;
}

const throwingFixture = fileURLToPath(new URL("../fixtures/datagram-throwing.mjs", import.meta.url));
const sizes = [1, 2, 100, 1472, 8192, 8193, 32_768, 65_507];

/** Polls `read` until `done` holds, for at most `timeoutMs`; returns the last value. */
async function until<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether this process may bind ports below 1024 (root), for the reflection-port tests. */
const canBindLowPorts = process.getuid?.() === 0;

/** Registers the datagram conformance tests for `target` with vitest. */
export function datagramSuite(target: DatagramTarget): void {
  describe(`datagram conformance: ${target.name}`, () => {
    const running: RunningDatagramTarget[] = [];
    const start = async (options: DatagramStartOptions): Promise<RunningDatagramTarget> => {
      const server = await target.start(options);
      running.push(server);
      return server;
    };
    const dstats = async (server: RunningDatagramTarget): Promise<SuiteDatagramStats> => {
      const s = (await server.stats()).datagram;
      if (!s) throw new Error("stats() has no datagram section");
      return s;
    };
    afterEach(async () => {
      await Promise.all(running.splice(0).map((server) => server.close()));
    });

    it("echoes datagrams of 1 B to 65,507 B byte for byte, one reply each", async () => {
      const { address } = await start({ handler: "echo", transport: "udp" });
      const peer = await openPeer();
      try {
        for (const size of sizes) {
          const payload = Buffer.alloc(size);
          for (let i = 0; i < size; i++) payload[i] = (i * 31 + size) & 0xff;
          const reply = await datagramRoundTrip(address, payload, { peer });
          expect(reply.length, `size ${size}`).toBe(size);
          expect(reply.equals(payload), `size ${size}`).toBe(true);
        }
      } finally {
        await peer.close();
      }
    });

    it("serves the datagram forms of upper and whoami", async () => {
      const upper = await start({ handler: "upper", transport: "udp" });
      expect((await datagramRoundTrip(upper.address, "Hello, udp")).toString()).toBe("HELLO, UDP");
      // One server at a time: cluster keys shared handles by address, so two prefork masters'
      // port-0 sockets in one process would be the same socket.
      await running.splice(0).map((server) => server.close())[0];
      const whoami = await start({ handler: "whoami", transport: "udp" });
      const reply = (await datagramRoundTrip(whoami.address, "hi")).toString();
      const [worker, rest] = reply.split(": ");
      expect(worker).toMatch(target.worker);
      expect(rest).toBe("hi");
    });

    it.skipIf(!canBindLowPorts)(
      "never replies to the small-service ports 7 and 19 (CERT CA-1996-01) and counts the drops",
      async () => {
        const server = await start({ handler: "echo", transport: "udp" });
        // A loopback address of its own, so ports 7/19 are free whatever else runs here.
        const host = `127.${18 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 250)}.7`;
        const echo7 = await openPeer(host, 7);
        const chargen19 = await openPeer(host, 19);
        try {
          await echo7.send("loop?", server.address);
          await chargen19.send("loop?", server.address);
          const s = await until(
            () => dstats(server),
            (v) => v.dropped.reflection >= 2,
          );
          expect(s.dropped.reflection).toBe(2);
          // The server still answers a normal source; the small-service sockets got nothing.
          expect((await datagramRoundTrip(server.address, "ok")).toString()).toBe("ok");
          expect(echo7.received).toEqual([]);
          expect(chargen19.received).toEqual([]);
        } finally {
          await echo7.close();
          await chargen19.close();
        }
      },
    );

    it("drops a datagram over maxDatagram whole (never half-echoed) and counts it as truncated", async () => {
      const server = await start({ handler: "echo", transport: "udp", maxDatagram: 1000 });
      const peer = await openPeer();
      try {
        await peer.send(Buffer.alloc(1001, 0x61), server.address);
        const s = await until(
          () => dstats(server),
          (v) => v.dropped.truncated >= 1,
        );
        expect(s.dropped.truncated).toBe(1);
        const exact = Buffer.alloc(1000, 0x62);
        const reply = await datagramRoundTrip(server.address, exact, { peer });
        expect(reply.equals(exact)).toBe(true);
        expect(peer.received.every((d) => d.length === 1000 && d[0] === 0x62)).toBe(true);
      } finally {
        await peer.close();
      }
    });

    it("limits datagrams per source address and counts what it drops", async () => {
      const server = await start({ handler: "echo", transport: "udp", maxDatagramsPerAddress: "3/600" });
      const peer = await openPeer();
      const workers = target.workers ?? 1;
      try {
        for (let i = 0; i < 10; i++) await peer.send(`n${i}`, server.address);
        const s = await until(
          () => dstats(server),
          (v) => v.replied + v.dropped.rateLimited >= 10,
        );
        expect(s.replied + s.dropped.rateLimited).toBe(10);
        expect(s.replied).toBeLessThanOrEqual(3 * workers);
        expect(s.dropped.rateLimited).toBeGreaterThanOrEqual(10 - 3 * workers);
        // Another source address is not limited by the first one's rate.
        const other = await openPeer("127.0.0.2");
        try {
          expect((await datagramRoundTrip(server.address, "other", { peer: other })).toString()).toBe("other");
        } finally {
          await other.close();
        }
      } finally {
        await peer.close();
      }
    });

    it("keeps serving others when a datagram handler throws, and counts the error", async () => {
      const server = await start({ handler: throwingFixture, transport: "udp" });
      const peer = await openPeer();
      try {
        await peer.send("boom", server.address);
        const s = await until(
          () => dstats(server),
          (v) => v.errors >= 1,
        );
        expect(s.errors).toBe(1);
        expect((await datagramRoundTrip(server.address, "still here")).toString()).toBe("still here");
      } finally {
        await peer.close();
      }
    });

    it("serves TCP and UDP on the same port number with transport both", async () => {
      const server = await start({ handler: "echo", transport: "both" });
      expect((await datagramRoundTrip(server.address, "over udp")).toString()).toBe("over udp");
      expect((await roundTrip(server.address, "over tcp")).toString()).toBe("over tcp");
    });

    it("refuses a handler without onDatagram with core's HandlerLoadError", async () => {
      await expect(start({ handler: "http-hello", transport: "udp" })).rejects.toBeInstanceOf(
        target.errors.HandlerLoadError,
      );
    });
  });
}
