/**
 * UDP echo with real peers: Python's `socket` (the article's client, over UDP) and `socat` as
 * clients of our server; xinetd's built-in echo as a server for `@echo/client`. xinetd and
 * socat are installed with apt-get when missing (as root, as in CI); elsewhere skipped with the reason.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { datagramRequest, runDatagramLoad } from "@echo/client";
import { EchoServer } from "@echo/core";
import { ensureDebianPackages } from "@echo/test-utils";

const { found, missing } = ensureDebianPackages([
  { command: "socat", package: "socat" },
  { command: "xinetd", package: "xinetd" },
]);
for (const tool of missing)
  console.error(`[echo] ${tool.command} stays missing: ${tool.reason}; its interop test is skipped`);
const python = spawnSync("python3", ["-c", "print(1)"]).status === 0 ? "python3" : undefined;

const quiet = { info: () => {}, error: () => {} };
const servers: EchoServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function udpServer(handler = "echo"): Promise<number> {
  const server = new EchoServer({ transport: "udp", handler, logger: quiet });
  servers.push(server);
  const address = await server.listen();
  if (address.kind === "unix") throw new Error("unexpected unix address");
  return address.port;
}

function runProcess(
  command: string,
  args: string[],
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? "");
  });
}

// The article's client, over UDP: sendto, recvfrom, with a timeout and a few retries.
const pythonClient = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(5):
    s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[1])))
    try:
        data, addr = s.recvfrom(65535)
        print("Received", repr(data))
        break
    except socket.timeout:
        pass
else:
    sys.exit(3)
`;

describe("UDP interop", () => {
  it.skipIf(!python)("Python's socket client gets its datagram back from echo and upper", async () => {
    const port = await udpServer("echo");
    const echoed = await runProcess(python!, ["-c", pythonClient, String(port), "Hello, world"]);
    expect(echoed).toMatchObject({ code: 0, stdout: "Received b'Hello, world'\n" });
    const upperPort = await udpServer("upper");
    const upper = await runProcess(python!, ["-c", pythonClient, String(upperPort), "Hello, world"]);
    expect(upper.stdout).toBe("Received b'HELLO, WORLD'\n");
  });

  it.skipIf(!found.socat)("socat's UDP client gets its datagram back", async () => {
    const port = await udpServer();
    let reply = "";
    // UDP may lose a datagram on a loaded machine: a few tries, each bounded by socat's -t.
    for (let i = 0; i < 5 && reply === ""; i++)
      reply = (await runProcess(found.socat!, ["-t", "1", "-", `UDP4:127.0.0.1:${port}`], "ping over socat\n")).stdout;
    expect(reply).toBe("ping over socat\n");
  });

  describe.skipIf(!found.xinetd)("xinetd's built-in echo as the server", () => {
    let xinetd: ChildProcess | undefined;
    let port = 0;
    const dir = mkdtempSync(join(tmpdir(), "echo-xinetd-"));
    afterAll(() => {
      xinetd?.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    });

    async function startXinetd(): Promise<number> {
      if (xinetd) return port;
      const probe = createSocket("udp4");
      await new Promise<void>((resolve) => probe.bind({ address: "127.0.0.1", port: 0 }, resolve));
      port = probe.address().port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const config = join(dir, "xinetd.conf");
      writeFileSync(
        config,
        `defaults\n{\n}\nservice echo\n{\n  type = INTERNAL UNLISTED\n  id = echo-dgram\n  socket_type = dgram\n  protocol = udp\n` +
          `  port = ${port}\n  bind = 127.0.0.1\n  wait = yes\n  user = root\n  cps = 100000 1\n  instances = UNLIMITED\n}\n`,
      );
      xinetd = spawn(found.xinetd!, ["-dontfork", "-f", config, "-pidfile", join(dir, "pid")], { stdio: "ignore" });
      // Ready once it answers (bounded: 50 tries of 200 ms).
      await datagramRequest({ port }, "ready?", { timeout: 200, retries: 50 });
      return port;
    }

    it("echo-client's datagramRequest gets the datagram back", async () => {
      const p = await startXinetd();
      expect((await datagramRequest({ port: p }, "hello xinetd", { retries: 5 })).toString()).toBe("hello xinetd");
    });

    it("runDatagramLoad byte-checks xinetd's replies and counts what it loses apart from errors", async () => {
      const p = await startXinetd();
      const result = await runDatagramLoad({ port: p, flows: 2, count: 100, lossTimeout: 1000 });
      expect(result.errors).toBe(0);
      expect(result.mismatches).toBe(0);
      expect(result.roundTrips).toBeGreaterThan(0);
      expect(result.roundTrips + result.lost).toBe(100);
    });
  });
});
