import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { EchoClient, encodeProxyHeader, runLoad } from "@echo/client";
import { closeAll, hasIPv6, startServer, type ConnectionHandler } from "./helpers.js";

afterEach(closeAll);

const SIG = "0d0a0d0a000d0a515549540a";

/** A server that strips one PROXY header (v1 up to CRLF, v2 by its length field), records it, then echoes. */
function headerThenEcho(seen: Buffer[]): ConnectionHandler {
  return (socket) => {
    let held = Buffer.alloc(0);
    let passed = false;
    socket.on("data", (chunk: Buffer) => {
      if (passed) return void socket.write(chunk);
      held = Buffer.concat([held, chunk]);
      let end = -1;
      if (held[0] === 0x50) end = held.indexOf("\r\n") === -1 ? -1 : held.indexOf("\r\n") + 2;
      else if (held.length >= 16) end = 16 + held.readUInt16BE(14) <= held.length ? 16 + held.readUInt16BE(14) : -1;
      if (end === -1) return;
      seen.push(held.subarray(0, end));
      passed = true;
      if (end < held.length) socket.write(held.subarray(end));
    });
  };
}

/** Connects with `proxyHeader`, sends "x", and returns what the server saw as the header. */
async function headerSeen(
  options: Parameters<typeof EchoClient.connect>[1],
  where: "v4" | "v6" = "v4",
): Promise<{ header: Buffer; client: { port: number } }> {
  const seen: Buffer[] = [];
  const server = await startServer(headerThenEcho(seen), where);
  const client = await EchoClient.connect({ host: where === "v6" ? "::1" : "127.0.0.1", port: server.port }, options);
  expect((await client.request("x")).toString()).toBe("x");
  const port = client.localPort as number;
  await client.close();
  return { header: seen[0] as Buffer, client: { port } };
}

describe("proxyHeader on EchoClient.connect", () => {
  it('"v1" announces the connection\'s own addresses in the text format', async () => {
    const seen: Buffer[] = [];
    const server = await startServer(headerThenEcho(seen));
    const client = await EchoClient.connect({ port: server.port }, { proxyHeader: "v1" });
    expect((await client.request("hello")).toString()).toBe("hello");
    expect(seen[0]?.toString("latin1")).toBe(`PROXY TCP4 127.0.0.1 127.0.0.1 ${client.localPort} ${server.port}\r\n`);
    expect(client.bytesWritten).toBe((seen[0] as Buffer).length + 5);
    await client.close();
  });

  it('"v2" sends the binary header, byte for byte as the specification lays it out', async () => {
    const seen: Buffer[] = [];
    const server = await startServer(headerThenEcho(seen));
    const client = await EchoClient.connect({ port: server.port }, { proxyHeader: "v2" });
    await client.request("x");
    const port = (n: number): string => n.toString(16).padStart(4, "0");
    expect(seen[0]?.toString("hex")).toBe(
      `${SIG}2111000c7f0000017f000001${port(client.localPort as number)}${port(server.port)}`,
    );
    await client.close();
  });

  it("announces a given source, and the server as destination by default", async () => {
    const { header } = await headerSeen({
      proxyHeader: { version: 1, source: { address: "203.0.113.7", port: 40000 } },
    });
    expect(header.toString("latin1")).toMatch(/^PROXY TCP4 203\.0\.113\.7 127\.0\.0\.1 40000 \d+\r\n$/);
    const v2 = (
      await headerSeen({
        proxyHeader: {
          version: 2,
          source: { address: "203.0.113.7", port: 40000 },
          destination: { address: "198.51.100.1", port: 7 },
        },
      })
    ).header;
    expect(v2.toString("hex")).toBe(`${SIG}2111000ccb007107c6336401${(40000).toString(16)}0007`);
  });

  it("sends IPv6 (and an IPv4 end IPv4-mapped when the families differ)", async () => {
    const v1 = encodeProxyHeader({
      version: 1,
      source: { address: "2001:DB8:0::1", port: 1 },
      destination: { address: "192.0.2.1", port: 2 },
    });
    expect(v1.toString("latin1")).toBe("PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 1 2\r\n");
    const v2 = encodeProxyHeader({
      version: 2,
      source: { address: "2001:db8::1", port: 1 },
      destination: { address: "::ffff:192.0.2.1", port: 2 },
    });
    expect(v2.toString("hex")).toBe(
      `${SIG}21210024` + "20010db8000000000000000000000001" + "00000000000000000000ffffc0000201" + "00010002",
    );
    if (await hasIPv6()) {
      const { header, client } = await headerSeen({ proxyHeader: "v1" }, "v6");
      expect(header.toString("latin1")).toMatch(new RegExp(`^PROXY TCP6 ::1 ::1 ${client.port} \\d+\\r\\n$`));
    }
  });

  it("sends a v2 LOCAL header (a health check's)", () => {
    expect(encodeProxyHeader({ version: 2, command: "local" }).toString("hex")).toBe(`${SIG}20000000`);
  });

  it('over a Unix socket sends UNKNOWN / AF_UNSPEC for "v1"/"v2", and wants a destination with an explicit source', async () => {
    const seen: Buffer[] = [];
    const server = await startServer(headerThenEcho(seen), "unix");
    for (const proxyHeader of ["v1", "v2"] as const) {
      const client = await EchoClient.connect({ path: server.path as string }, { proxyHeader });
      await client.request("x");
      await client.close();
    }
    expect(seen.map((b) => b.toString("hex"))).toEqual([
      Buffer.from("PROXY UNKNOWN\r\n").toString("hex"),
      `${SIG}21000000`,
    ]);
    await expect(
      EchoClient.connect(
        { path: server.path as string },
        { proxyHeader: { version: 1, source: { address: "10.0.0.1", port: 1 } } },
      ),
    ).rejects.toMatchObject({
      code: "ECHO_ERR_INVALID_ARG",
      message:
        "options.proxyHeader.destination is required when connecting to a Unix socket (it has no address to announce)",
    });
  });

  it.each([
    ["v3", 'options.proxyHeader must be "v1" or "v2", got "v3"'],
    ["yes", 'options.proxyHeader must be "v1", "v2" or an object { version, source, destination? }, got "yes"'],
    [{ version: 3, source: { address: "10.0.0.1", port: 1 } }, "options.proxyHeader.version must be 1 or 2, got 3"],
    [
      { version: 1 },
      'options.proxyHeader.source is required: an object { address, port } (or give "v1"/"v2" to use the connection\'s own addresses)',
    ],
    [
      { version: 1, source: "10.0.0.1:1" },
      'options.proxyHeader.source must be an object { address, port }, got "10.0.0.1:1"',
    ],
    [
      { version: 1, source: { address: "example.com", port: 1 } },
      'options.proxyHeader.source.address must be an IPv4 or IPv6 address, got "example.com"',
    ],
    [
      { version: 1, source: { address: "fe80::1%lo", port: 1 } },
      'options.proxyHeader.source.address must be an IPv4 or IPv6 address, got "fe80::1%lo"',
    ],
    [
      { version: 1, source: { address: "10.0.0.1", port: 70000 } },
      "options.proxyHeader.source.port must be an integer from 0 to 65535, got 70000",
    ],
    [
      { version: 2, source: { address: "10.0.0.1", port: 1 }, destination: { address: "10.0.0.2", port: -1 } },
      "options.proxyHeader.destination.port must be an integer from 0 to 65535, got -1",
    ],
    [{ version: 2, command: "health" }, 'options.proxyHeader.command must be "proxy" or "local", got "health"'],
    [{ version: 1, command: "local" }, 'options.proxyHeader.command "local" needs version 2 (v1 has no LOCAL command)'],
  ])("validates %j before connecting", async (proxyHeader, message) => {
    // Port 1 on loopback: nothing is there, so only validation can produce INVALID_ARG.
    await expect(EchoClient.connect({ port: 1 }, { proxyHeader: proxyHeader as never })).rejects.toMatchObject({
      code: "ECHO_ERR_INVALID_ARG",
      message,
    });
    await expect(runLoad({ port: 1, proxyHeader: proxyHeader as never })).rejects.toMatchObject({
      code: "ECHO_ERR_INVALID_ARG",
      message,
    });
  });

  it("encodeProxyHeader needs both ends without a socket", () => {
    expect(() => encodeProxyHeader({ version: 1, source: { address: "10.0.0.1", port: 1 } })).toThrow(
      /options\.proxyHeader\.destination is required/,
    );
  });
});

describe("proxyHeader on runLoad", () => {
  it("sends one header on every connection, the probe's included, and every echo comes back intact", async () => {
    const seen: Buffer[] = [];
    const server = await startServer(headerThenEcho(seen));
    const result = await runLoad({
      port: server.port,
      connections: 4,
      count: 200,
      proxyHeader: { version: 2, source: { address: "192.0.2.9", port: 9 } },
    });
    expect(result).toMatchObject({ roundTrips: 200, errors: 0, mismatches: 0, connects: 4, bytesSent: 200 * 64 });
    expect(seen).toHaveLength(5); // the probe and 4 connections
    for (const header of seen) expect(header.subarray(16, 20).toString("hex")).toBe("c0000209");
  });

  it("with newConnection, each round trip's connection announces its own port", async () => {
    const seen: Buffer[] = [];
    const server = await startServer(headerThenEcho(seen));
    const result = await runLoad({
      port: server.port,
      connections: 2,
      count: 20,
      newConnection: true,
      proxyHeader: "v1",
    });
    expect(result).toMatchObject({ roundTrips: 20, errors: 0, mismatches: 0 });
    const ports = new Set(seen.map((h) => h.toString().split(" ")[4]));
    expect(ports.size).toBe(seen.length);
  });
});

describe("--proxy-header / --proxy-source", () => {
  const bin = (name: string): string => fileURLToPath(new URL(`../dist/cli/${name}.js`, import.meta.url));
  const run = (name: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [bin(name), ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });

  it("echo-client sends the header, with the given source", async () => {
    const seen: Buffer[] = [];
    const server = await startServer(headerThenEcho(seen));
    const r = await run("echo-client", [
      "--port",
      String(server.port),
      "--proxy-header",
      "v1",
      "--proxy-source",
      "[2001:db8::5]:4242",
      "hi",
    ]);
    expect(r).toMatchObject({ code: 0, stdout: "hi\n", stderr: "" });
    expect(seen[0]?.toString()).toBe(`PROXY TCP6 2001:db8::5 ::ffff:127.0.0.1 4242 ${server.port}\r\n`);
  });

  it("echo-load sends it on every connection", async () => {
    const seen: Buffer[] = [];
    const server = await startServer(headerThenEcho(seen));
    const r = await run("echo-load", [
      "--port",
      String(server.port),
      "-c",
      "2",
      "-n",
      "50",
      "--proxy-header",
      "v2",
      "--json",
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ roundTrips: 50, errors: 0, mismatches: 0 });
    expect(seen.length).toBe(3);
    for (const h of seen) expect(h.subarray(0, 14).toString("hex")).toBe(`${SIG}2111`);
  });

  it.each([
    [["--proxy-header", "v3"], '--proxy-header must be v1 or v2, got "v3"'],
    [["--proxy-source", "10.0.0.1:1"], "--proxy-source needs --proxy-header v1|v2"],
    [
      ["--proxy-header", "v1", "--proxy-source", "10.0.0.1"],
      '--proxy-source must be ADDR:PORT with an IPv4 address or [IPv6]:PORT, port 0-65535, got "10.0.0.1"',
    ],
    [
      ["--proxy-header", "v1", "--proxy-source", "::1:80"],
      '--proxy-source must be ADDR:PORT with an IPv4 address or [IPv6]:PORT, port 0-65535, got "::1:80"',
    ],
    [
      ["--proxy-header", "v1", "--proxy-source", "10.0.0.1:65536"],
      '--proxy-source must be ADDR:PORT with an IPv4 address or [IPv6]:PORT, port 0-65535, got "10.0.0.1:65536"',
    ],
  ])("both CLIs refuse %j with exit 2", async (args, message) => {
    for (const name of ["echo-client", "echo-load"]) {
      const r = await run(name, ["--port", "1", ...args, ...(name === "echo-client" ? ["x"] : [])]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`${name}: ${message} (ECHO_ERR_INVALID_ARG)\n`);
    }
  });
});
