/**
 * HAProxy itself as the sender: `mode tcp` with `send-proxy` (v1) and `send-proxy-v2` (with the
 * CRC32c and unique-id TLVs, and health checks that send a header too), in front of a listener
 * of this test that parses what arrives with core's parser. Clients connect from 127.0.0.2 (and
 * ::1), so the header must carry an address that is not the proxy's own.
 *
 * HAProxy is installed with apt-get when missing (the test runs as root, as CI does).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EchoClient } from "@echo/client";
import { freePort, proxiedEcho, roundTrip, type Arrival } from "./proxy-helpers.js";

function findHaproxy(): string | undefined {
  for (const candidate of ["haproxy", "/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]) {
    if (spawnSync(candidate, ["-v"], { encoding: "utf8" }).status === 0) return candidate;
  }
  return undefined;
}

function ensureHaproxy(): string {
  const found = findHaproxy();
  if (found !== undefined) return found;
  if (process.getuid?.() !== 0)
    throw new Error("haproxy is not installed and installing it needs root: apt-get install -y haproxy");
  for (const args of [["update"], ["install", "-y", "--no-install-recommends", "haproxy"]]) {
    const r = spawnSync("apt-get", args, {
      encoding: "utf8",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      timeout: 300_000,
    });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed: ${r.stderr}`);
  }
  const installed = findHaproxy();
  if (installed === undefined) throw new Error("apt-get installed haproxy but it cannot be run");
  return installed;
}

async function hasIPv6(): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(0, "::1", () => server.close(() => resolve(true)));
  });
}

describe("HAProxy send-proxy / send-proxy-v2 into core's parser", () => {
  let haproxy: string;
  let dir: string;
  let pid: number | undefined;
  let ipv6 = false;
  const v4 = proxiedEcho();
  const v6 = proxiedEcho();
  const checks = proxiedEcho();
  const ports = { v1: 0, v2: 0, v1six: 0, v2six: 0, relay: 0 };

  beforeAll(async () => {
    haproxy = ensureHaproxy();
    ipv6 = await hasIPv6();
    dir = mkdtempSync(join(tmpdir(), "echo-haproxy-"));
    await v4.listen();
    await checks.listen();
    if (ipv6) await v6.listen("::1");
    const port = (s: net.Server): number => (s.address() as net.AddressInfo).port;
    ports.v1 = await freePort();
    ports.v2 = await freePort();
    ports.relay = await freePort();
    if (ipv6) {
      ports.v1six = await freePort("::1");
      ports.v2six = await freePort("::1");
    }
    const config = [
      "global",
      "  maxconn 200",
      "defaults",
      "  mode tcp",
      "  timeout connect 5s",
      "  timeout client 30s",
      "  timeout server 30s",
      "frontend v1",
      `  bind 127.0.0.1:${ports.v1}`,
      "  default_backend v1",
      "backend v1",
      `  server s 127.0.0.1:${port(v4.server)} send-proxy`,
      "frontend v2",
      `  bind 127.0.0.1:${ports.v2}`,
      "  unique-id-format %ci:%cp",
      "  default_backend v2",
      "backend v2",
      `  server s 127.0.0.1:${port(v4.server)} send-proxy-v2 proxy-v2-options crc32c,unique-id`,
      // HAProxy as the receiver of @echo/client's headers: accept-proxy, then relayed as v2.
      "frontend relay",
      `  bind 127.0.0.1:${ports.relay} accept-proxy`,
      "  default_backend relay",
      "backend relay",
      `  server s 127.0.0.1:${port(v4.server)} send-proxy-v2`,
      // Health checks that send a header: v2 checks announce LOCAL.
      "backend checks",
      `  server v1 127.0.0.1:${port(checks.server)} send-proxy check check-send-proxy inter 100ms`,
      `  server v2 127.0.0.1:${port(checks.server)} send-proxy-v2 check check-send-proxy inter 100ms`,
      ...(ipv6
        ? [
            "frontend v1six",
            `  bind [::1]:${ports.v1six}`,
            "  default_backend v1six",
            "backend v1six",
            `  server s [::1]:${port(v6.server)} send-proxy`,
            "frontend v2six",
            `  bind [::1]:${ports.v2six}`,
            "  default_backend v2six",
            "backend v2six",
            `  server s [::1]:${port(v6.server)} send-proxy-v2 proxy-v2-options crc32c`,
          ]
        : []),
      "",
    ].join("\n");
    const file = join(dir, "haproxy.cfg");
    writeFileSync(file, config);
    const check = spawnSync(haproxy, ["-c", "-f", file], { encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    // -D: the command returns once the listeners are bound and the daemon runs.
    const pidFile = join(dir, "haproxy.pid");
    const start = spawnSync(haproxy, ["-D", "-f", file, "-p", pidFile], { encoding: "utf8", timeout: 30_000 });
    expect(start.status, start.stdout + start.stderr).toBe(0);
    pid = Number(readFileSync(pidFile, "utf8").trim());
  });

  afterAll(async () => {
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const b of [v4, v6, checks]) await b.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("send-proxy (v1): the header carries the client's real address and port, not HAProxy's", async () => {
    const clientPort = await roundTrip(ports.v1, "127.0.0.1", "hello through haproxy v1", "127.0.0.2");
    await v4.until(() => v4.arrivals.some((a) => a.header.source?.port === clientPort));
    const arrival = v4.arrivals.find((a) => a.header.source?.port === clientPort) as Arrival;
    expect(arrival.header).toMatchObject({ version: 1, command: "PROXY", family: "IPv4" });
    expect(arrival.header.source).toEqual({ address: "127.0.0.2", port: clientPort, family: "IPv4" });
    expect(arrival.header.destination).toEqual({ address: "127.0.0.1", port: ports.v1, family: "IPv4" });
    expect(arrival.peer.address).toBe("127.0.0.1");
    expect(v4.refused).toEqual([]);
  });

  it("send-proxy-v2 with CRC32c and unique-id TLVs: verified checksum, the client's address", async () => {
    const clientPorts: number[] = [];
    for (const from of ["127.0.0.2", "127.0.0.3", "127.0.0.9"])
      clientPorts.push(await roundTrip(ports.v2, "127.0.0.1", `v2 from ${from}`, from));
    await v4.until(() =>
      clientPorts.every((p) => v4.arrivals.some((a) => a.header.version === 2 && a.header.source?.port === p)),
    );
    ["127.0.0.2", "127.0.0.3", "127.0.0.9"].forEach((from, i) => {
      const arrival = v4.arrivals.find(
        (a) => a.header.version === 2 && a.header.source?.port === clientPorts[i],
      ) as Arrival;
      expect(arrival.header).toMatchObject({
        command: "PROXY",
        family: "IPv4",
        transport: "stream",
        checksummed: true,
      });
      expect(arrival.header.source).toEqual({ address: from, port: clientPorts[i], family: "IPv4" });
      expect(arrival.header.destination).toEqual({ address: "127.0.0.1", port: ports.v2, family: "IPv4" });
      const uniqueId = arrival.header.tlvs.find((t) => t.type === 0x05);
      expect(Buffer.from(uniqueId?.value ?? []).toString()).toMatch(
        new RegExp(`${from.replace(/\./g, "\\.")}:${clientPorts[i]}$`),
      );
    });
    expect(v4.refused).toEqual([]);
  });

  it("HAProxy's accept-proxy takes @echo/client's v1 and v2 headers, and relays the announced client", async () => {
    const sources = [
      { version: 1 as const, source: { address: "203.0.113.5", port: 4444 } },
      { version: 2 as const, source: { address: "203.0.113.6", port: 5555 } },
      { version: 1 as const, source: { address: "2001:db8::7", port: 6666 } },
      { version: 2 as const, source: { address: "2001:db8::8", port: 7777 } },
    ];
    for (const proxyHeader of sources) {
      const client = await EchoClient.connect({ port: ports.relay }, { proxyHeader });
      expect((await client.request(`relay ${proxyHeader.source.address}`, { timeout: 10_000 })).toString()).toBe(
        `relay ${proxyHeader.source.address}`,
      );
      await client.close();
    }
    await v4.until(() => sources.every((s) => v4.arrivals.some((a) => a.header.source?.port === s.source.port)));
    for (const s of sources) {
      const arrival = v4.arrivals.find((a) => a.header.source?.port === s.source.port) as Arrival;
      expect(arrival.header).toMatchObject({ version: 2, source: { address: s.source.address, port: s.source.port } });
    }
  });

  it("health checks with check-send-proxy: v1 sends a TCP4 line, v2 a LOCAL command", async () => {
    await checks.until(
      () => checks.arrivals.some((a) => a.header.version === 1) && checks.arrivals.some((a) => a.header.version === 2),
    );
    const v2check = checks.arrivals.find((a) => a.header.version === 2) as Arrival;
    expect(v2check.header).toMatchObject({ command: "LOCAL", source: null, destination: null });
    const v1check = checks.arrivals.find((a) => a.header.version === 1) as Arrival;
    expect(v1check.header.command).toBe("PROXY");
    expect(checks.refused).toEqual([]);
  });

  it("IPv6 clients through v1 (TCP6) and v2 (AF_INET6)", async (ctx) => {
    if (!ipv6) ctx.skip();
    const p1 = await roundTrip(ports.v1six, "::1", "six v1", "::1");
    const p2 = await roundTrip(ports.v2six, "::1", "six v2", "::1");
    await v6.until(() => [p1, p2].every((p) => v6.arrivals.some((a) => a.header.source?.port === p)));
    const a1 = v6.arrivals.find((a) => a.header.source?.port === p1) as Arrival;
    const a2 = v6.arrivals.find((a) => a.header.source?.port === p2) as Arrival;
    expect(a1.header).toMatchObject({
      version: 1,
      family: "IPv6",
      source: { address: "::1", port: p1, family: "IPv6" },
      destination: { address: "::1", port: ports.v1six },
    });
    expect(a2.header).toMatchObject({
      version: 2,
      family: "IPv6",
      checksummed: true,
      source: { address: "::1", port: p2, family: "IPv6" },
      destination: { address: "::1", port: ports.v2six },
    });
    expect(v6.refused).toEqual([]);
  });
});
