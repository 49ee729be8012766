/**
 * The PROXY protocol part of the conformance suite: every model, started with `proxyProtocol`,
 * reads the header before its handler sees a byte, serves the client it names, and refuses
 * (closing only that connection, counted in `proxyRejected`) whatever is not a valid header
 * from a trusted peer. Headers come from `@echo/client`, an independent encoder.
 */
import { Buffer } from "node:buffer";
import { EchoClient, encodeProxyHeader } from "@echo/client";
import { afterEach, describe, expect, it } from "vitest";
import { collect, open, readExactly, write, type TargetAddress } from "./net-helpers.js";
import type { ConformanceTarget, RunningTarget, StartOptions } from "./suite.js";

const peerFixture = new URL("../fixtures/peer.mjs", import.meta.url).pathname;
/** The peer fixture's first line: `ADDRESS PORT`, padded to 64 bytes. */
const LINE = 64;

function tcp(address: TargetAddress): { host: string; port: number } {
  if ("path" in address) throw new Error("the PROXY suite runs on TCP");
  return address;
}

function peerOf(line: Buffer): string {
  return line.toString("latin1").trim();
}

/** Registers the PROXY protocol tests for `target`. */
export function proxySuite(target: ConformanceTarget): void {
  describe(`PROXY protocol: ${target.name}`, () => {
    const running: RunningTarget[] = [];
    const start = async (options: Partial<StartOptions> = {}): Promise<RunningTarget> => {
      const server = await target.start({
        handler: peerFixture,
        proxyProtocol: true,
        trustedProxies: "127.0.0.1",
        ...options,
      });
      running.push(server);
      return server;
    };
    afterEach(async () => {
      await Promise.all(running.splice(0).map((server) => server.close()));
    });

    it("serves the client a v1 header names (conn.remoteAddress/remotePort), then echoes byte for byte", async () => {
      const server = await start();
      const { host, port } = tcp(server.address);
      const client = await EchoClient.connect(
        { host, port },
        { proxyHeader: { version: 1, source: { address: "192.0.2.10", port: 40001 } } },
      );
      try {
        expect(peerOf(await client.receive(LINE))).toBe("192.0.2.10 40001");
        const payload = Buffer.from("PROXY inside the data is just data\r\n");
        await client.send(payload);
        expect((await client.receive(payload.length)).equals(payload)).toBe(true);
      } finally {
        await client.close();
      }
      expect((await server.stats()).proxyRejected).toBe(0);
    });

    it("serves an IPv6 client a v2 header names", async () => {
      const server = await start();
      const { host, port } = tcp(server.address);
      const client = await EchoClient.connect(
        { host, port },
        {
          proxyHeader: {
            version: 2,
            source: { address: "2001:db8::7", port: 443 },
            destination: { address: "2001:db8::1", port: 7 },
          },
        },
      );
      try {
        expect(peerOf(await client.receive(LINE))).toBe("2001:db8::7 443");
        await client.send("v2");
        expect((await client.receive(2)).toString()).toBe("v2");
      } finally {
        await client.close();
      }
    });

    it("reads a header that arrives one byte at a time, with data in its last segment", async () => {
      const server = await start();
      const socket = await open(server.address);
      const header = encodeProxyHeader({
        version: 2,
        source: { address: "198.51.100.3", port: 9 },
        destination: { address: "127.0.0.1", port: 7 },
      });
      for (let i = 0; i < header.length - 1; i++) await write(socket, header.subarray(i, i + 1));
      await write(socket, Buffer.concat([header.subarray(header.length - 1), Buffer.from("tail")]));
      const reply = await readExactly(socket, LINE + 4);
      expect(peerOf(reply.subarray(0, LINE))).toBe("198.51.100.3 9");
      expect(reply.subarray(LINE).toString()).toBe("tail");
      socket.destroy();
    });

    it("serves a v2 LOCAL connection (a health check) with the proxy's own address", async () => {
      const server = await start();
      const socket = await open(server.address);
      await write(socket, Buffer.concat([encodeProxyHeader({ version: 2, command: "local" }), Buffer.from("ok")]));
      const reply = await readExactly(socket, LINE + 2);
      expect(peerOf(reply.subarray(0, LINE))).toBe(`127.0.0.1 ${socket.localPort}`);
      expect(reply.subarray(LINE).toString()).toBe("ok");
      socket.destroy();
    });

    it("closes a connection from an untrusted address without a reply, and counts it", async () => {
      const server = await start({ trustedProxies: "192.0.2.0/24,2001:db8::/32" });
      const socket = await open(server.address);
      const done = collect(socket);
      socket.write(
        encodeProxyHeader({
          version: 1,
          source: { address: "192.0.2.1", port: 1 },
          destination: { address: "127.0.0.1", port: 7 },
        }),
      );
      socket.write("hello");
      const { data } = await done;
      expect(data.length).toBe(0);
      const stats = await server.stats();
      expect(stats.proxyRejected).toBe(1);
      expect(stats.accepted).toBe(0);
    });

    it("closes a connection without a header, or with a malformed one, and keeps serving another client", async () => {
      const server = await start();
      const { host, port } = tcp(server.address);
      const connectGood = (): Promise<EchoClient> =>
        EchoClient.connect(
          { host, port },
          { proxyHeader: { version: 1, source: { address: "192.0.2.20", port: 2000 } } },
        );
      // One at a time (iterative): a waiting bad connection's turn comes after the open one, so
      // the other client is served before and after instead of alongside.
      let good = target.concurrent ? await connectGood() : undefined;
      try {
        if (good) expect(peerOf(await good.receive(LINE))).toBe("192.0.2.20 2000");
        for (const bad of [
          "hello, no header\n",
          "PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n",
          "PROXY TCP4 " + "9".repeat(120),
        ]) {
          const socket = await open(server.address);
          const done = collect(socket);
          socket.write(bad);
          expect((await done).data.length, JSON.stringify(bad)).toBe(0);
          if (good) {
            await good.send("still here");
            expect((await good.receive(10)).toString()).toBe("still here");
          }
        }
        if (!good) {
          good = await connectGood();
          expect(peerOf(await good.receive(LINE))).toBe("192.0.2.20 2000");
        }
      } finally {
        await good?.close();
      }
      expect((await server.stats()).proxyRejected).toBe(3);
    });

    it("closes a connection whose header stalls past proxyHeaderTimeout; another client keeps being served", async () => {
      const server = await start({ proxyHeaderTimeout: 200 });
      const { host, port } = tcp(server.address);
      const good = await EchoClient.connect({ host, port }, { proxyHeader: "v2" });
      try {
        await good.receive(LINE);
        const stalled = await open(server.address);
        const done = collect(stalled);
        await write(stalled, "PROXY TCP4 192.0.2.1 ");
        await good.send("a");
        expect((await good.receive(1)).toString()).toBe("a");
        if (target.concurrent) {
          // Closed by the server (the suite would time out otherwise), with no reply.
          expect((await done).data.length).toBe(0);
          await good.send("b");
          expect((await good.receive(1)).toString()).toBe("b");
        } else {
          // One at a time: the stalled connection's turn (and its deadline) comes after this one.
          await good.close();
          expect((await done).data.length).toBe(0);
        }
      } finally {
        await good.close();
      }
      expect((await server.stats()).proxyRejected).toBe(1);
    });
  });
}
