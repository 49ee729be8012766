import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { collect, open, readExactly, roundTrip } from "@echo/conformance";
import { EchoServer, defineHandler, type ServerOptions } from "@echo/core";

const quiet = { info: () => {}, error: () => {} };
const servers: EchoServer[] = [];

async function start(options: ServerOptions = {}) {
  const server = new EchoServer({ logger: quiet, ...options });
  servers.push(server);
  const address = await server.listen();
  if (address.kind !== "tcp") throw new Error("expected tcp");
  return { server, address: { host: address.host, port: address.port } };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 0 })));
});

describe("once", () => {
  it("serves exactly one connection, stops listening, then finishes", async () => {
    const { server, address } = await start({ model: "once" });
    const first = await open(address);
    first.write("only me");
    expect((await readExactly(first, 7)).toString()).toBe("only me");
    const refused = await open(address).then(
      (s) => (s.destroy(), null),
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(refused).toBe("ECONNREFUSED");
    const done = collect(first);
    first.end();
    await done;
    await server.finished;
    expect(server.stats()).toMatchObject({ accepted: 1, active: 0, closed: 1 });
  });
});

describe("iterative", () => {
  it("serves one connection at a time; the next waits its turn, unread", async () => {
    const { server, address } = await start({ model: "iterative" });
    const first = await open(address);
    const second = await open(address);
    const secondDone = collect(second);
    second.end("second");
    // The first client is served while the second waits.
    first.write("first");
    expect((await readExactly(first, 5)).toString()).toBe("first");
    expect(server.stats()).toMatchObject({ active: 1, queued: 1, bytesIn: 5 });
    const firstDone = collect(first);
    first.end();
    await firstDone;
    expect((await secondDone).data.toString()).toBe("second");
    expect(server.stats()).toMatchObject({ accepted: 2, queued: 0 });
  });

  it("counts waiting connections against maxConnections", async () => {
    const { server, address } = await start({ model: "iterative", maxConnections: 2 });
    const a = await open(address);
    a.write("a");
    await readExactly(a, 1);
    const b = await open(address);
    const c = await open(address);
    const cDone = collect(c);
    expect((await cDone).data.length).toBe(0);
    expect(server.stats().rejected).toBe(1);
    a.destroy();
    b.destroy();
  });
});

describe("async", () => {
  it("passes handlerOptions and the worker name to a handler factory", async () => {
    const { address } = await start({
      workerName: "Worker-A",
      handlerOptions: { greeting: "hi" },
      handler: defineHandler((ctx) => ({
        onData(conn, data) {
          conn.write(`${ctx.worker} ${(ctx.options as { greeting: string }).greeting} ${Buffer.from(data).toString()}`);
        },
      })),
    });
    expect((await roundTrip(address, "there")).toString()).toBe("Worker-A hi there");
  });

  it("emits connection events and logs Connected by with the client address", async () => {
    const lines: string[] = [];
    const { server, address } = await start({
      logConnections: true,
      logger: { info: (m) => lines.push(m), error: () => {} },
    });
    const seen = once(server, "connection");
    const socket = await open(address);
    const [conn] = (await seen) as [Socket];
    expect(conn.remoteAddress).toBe("127.0.0.1");
    expect(lines).toEqual([`Connected by 127.0.0.1:${socket.localPort}`]);
    socket.destroy();
  });

  it("serves over IPv6 on ::1", async () => {
    const server = new EchoServer({ host: "::1", port: 0, logger: quiet });
    servers.push(server);
    const address = await server.listen();
    expect(address).toMatchObject({ kind: "tcp", host: "::1", family: "IPv6" });
    if (address.kind !== "tcp") return;
    expect((await roundTrip({ host: "::1", port: address.port }, "six")).toString()).toBe("six");
  });

  it("close() is idempotent and the server cannot listen again", async () => {
    const { server } = await start();
    const a = server.close();
    expect(server.close()).toBe(a);
    await a;
    await expect(server.listen()).rejects.toMatchObject({ code: "ECHO_ERR_SERVER_STATE" });
  });
});

describe("listen errors", () => {
  it("a port in use gives ECHO_ERR_ADDR_IN_USE naming the address", async () => {
    const { address } = await start();
    const second = new EchoServer({ port: address.port, logger: quiet });
    await expect(second.listen()).rejects.toMatchObject({
      code: "ECHO_ERR_ADDR_IN_USE",
      message: `address 127.0.0.1:${address.port} is already in use`,
    });
  });

  it("a low port without privileges gives ECHO_ERR_PERMISSION_DENIED pointing to privilege dropping", async () => {
    if (process.getuid?.() !== 0) return; // this test needs root to become nobody
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, [new URL("./fixtures/listen-port.mjs", import.meta.url).pathname, "7"], {
      uid: 65534,
      gid: 65534,
      cwd: tmpdir(),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    await once(child, "close");
    const result = JSON.parse(out) as { code: string; message: string };
    expect(result.code).toBe("ECHO_ERR_PERMISSION_DENIED");
    expect(result.message).toMatch(/127\.0\.0\.1:7.*below 1024.*@echo\/privdrop/);
  });

  it("replaces a stale Unix socket file left by a crashed server, but refuses a live one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "echo-core-"));
    try {
      const path = join(dir, "s.sock");
      const live = createNetServer();
      await new Promise<void>((resolve) => live.listen(path, resolve));
      await expect(new EchoServer({ path, logger: quiet }).listen()).rejects.toMatchObject({
        code: "ECHO_ERR_ADDR_IN_USE",
      });
      live.close();
      // A server killed with SIGKILL leaves its socket file behind.
      const { spawn } = await import("node:child_process");
      const crashed = spawn(
        process.execPath,
        ["-e", `require("net").createServer().listen(${JSON.stringify(path)}, () => console.log("up"))`],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      await once(crashed.stdout, "data");
      crashed.kill("SIGKILL");
      await once(crashed, "close");
      expect(existsSync(path)).toBe(true);
      const fresh = new EchoServer({ path, logger: quiet });
      servers.push(fresh);
      await fresh.listen();
      expect((await roundTrip({ path }, "fresh")).toString()).toBe("fresh");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [label, handler, reason] of [
    ["an unknown name", "nonsense", /not a built-in handler \(echo, upper, whoami, http-hello\)/],
    ["a missing file", "./no/such/handler.js", /no such file/],
    [
      "a module without onData",
      new URL("./fixtures/no-ondata.mjs", import.meta.url).pathname,
      /no onData\(conn, data\) function/,
    ],
    [
      "a throwing factory",
      new URL("./fixtures/factory-throws.mjs", import.meta.url).pathname,
      /the handler factory threw: cannot start/,
    ],
    [
      "a module that throws on import",
      new URL("./fixtures/import-throws.mjs", import.meta.url).pathname,
      /broken at import/,
    ],
  ] as const) {
    it(`${label} fails listen() with ECHO_ERR_HANDLER_LOAD`, async () => {
      const server = new EchoServer({ handler, logger: quiet });
      await expect(server.listen()).rejects.toMatchObject({
        code: "ECHO_ERR_HANDLER_LOAD",
        message: expect.stringMatching(reason),
      });
      await server.finished;
    });
  }
});
