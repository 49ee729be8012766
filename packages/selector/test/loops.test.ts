import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MAX_LOOPS, SelectorServer } from "@echo/selector";
import { collectAll, exchange, serverFactory } from "./helpers.js";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

const make = serverFactory();

/** Asks the whoami handler who serves `socket`: the loop's name. */
async function whoServes(socket: Socket): Promise<string> {
  socket.write("who\n");
  const [data] = (await once(socket, "data")) as [Buffer];
  return /^(.*): who/.exec(data.toString())![1]!;
}

/**
 * Opens connections until each of `names` serves at least one (the kernel picks the loop by a
 * hash: with 2 loops, 64 connections all on one loop has a chance of 2^-63).
 */
async function oneOnEach(
  port: number,
  names: string[],
  opened: Socket[],
  byName: Map<string, Socket>,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < 64 && byName.size < names.length; i++) {
    const socket = connect({ port, host: "127.0.0.1" });
    opened.push(socket);
    await once(socket, "connect");
    const name = await whoServes(socket);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (!byName.has(name)) byName.set(name, socket);
  }
  return counts;
}

describe("loops option", () => {
  const cases: [unknown, RegExp][] = [
    [0, /^options\.loops must be an integer between 1 and 1024 or "auto", got 0$/],
    [1.5, /^options\.loops must be an integer between 1 and 1024 or "auto", got 1\.5$/],
    [1025, /^options\.loops must be an integer between 1 and 1024 or "auto", got 1025$/],
    ["many", /^options\.loops must be an integer between 1 and 1024 or "auto", got "many"$/],
    [null, /^options\.loops must be an integer between 1 and 1024 or "auto", got object$/],
  ];
  for (const [loops, message] of cases) {
    it(`rejects loops ${JSON.stringify(loops)}`, () => {
      expect(() => new SelectorServer({ loops: loops as never })).toThrow(
        expect.objectContaining({ code: "ECHO_ERR_INVALID_ARG", message: expect.stringMatching(message) }),
      );
    });
  }

  it("rejects a bad accept, and reusePort with a Unix socket path", () => {
    expect(() => new SelectorServer({ loops: 2, accept: "fastest" as never })).toThrow(
      expect.objectContaining({
        code: "ECHO_ERR_INVALID_ARG",
        message: 'options.accept must be one of "reusePort", "shared", got "fastest"',
      }),
    );
    expect(() => new SelectorServer({ loops: 2, path: "/tmp/x.sock", accept: "reusePort" })).toThrow(
      expect.objectContaining({
        code: "ECHO_ERR_INVALID_ARG",
        message: expect.stringMatching(/^options\.accept "reusePort" needs TCP/),
      }),
    );
  });

  it('defaults to one loop; "auto" is os.availableParallelism()', () => {
    expect(make().loops).toBe(1);
    expect(make({ loops: "auto" }).loops).toBe(Math.min(availableParallelism(), MAX_LOOPS));
    expect(make({ loops: 3 }).loops).toBe(3);
  });
});

describe.each(["reusePort", "shared"] as const)("two loops, accept %s", (accept) => {
  it("names each loop in conn.worker, counts per loop and sums the counts", async () => {
    const server = make({ loops: 2, accept, handler: "whoami", selector: "epoll" });
    const { port } = (await server.listen()) as { port: number };
    const opened: Socket[] = [];
    const byName = new Map<string, Socket>();
    const names = ["SelectorThread-1", "SelectorThread-2"];
    // The shared path is not balanced (README): one loop may take all; both names are valid.
    const counts =
      accept === "reusePort"
        ? await oneOnEach(port, names, opened, byName)
        : await oneOnEach(port, names.slice(0, 1), opened, byName);
    for (const name of counts.keys()) expect(names).toContain(name);
    if (accept === "reusePort") expect([...counts.keys()].sort()).toEqual(names);
    const perLoop = server.loopStats();
    expect(perLoop.map((l) => l.worker)).toEqual(names);
    for (const { worker, stats } of perLoop) expect(stats.accepted).toBe(counts.get(worker) ?? 0);
    expect(server.stats().accepted).toBe(opened.length);
    expect(server.stats().active).toBe(opened.length);
    expect(perLoop.reduce((sum, l) => sum + l.stats.active, 0)).toBe(opened.length);
    for (const socket of opened) socket.destroy();
  });
});

describe("closing two loops", () => {
  it("stops accepting on every loop at once and drains the open connections of each before resolving", async () => {
    const server = make({ loops: 2, handler: "whoami", selector: "epoll", closeTimeout: 30_000 });
    const { port } = (await server.listen()) as { port: number };
    const opened: Socket[] = [];
    const byName = new Map<string, Socket>();
    await oneOnEach(port, ["SelectorThread-1", "SelectorThread-2"], opened, byName);
    for (const socket of opened) if (![...byName.values()].includes(socket)) socket.destroy();
    const kept = [...byName.entries()];
    expect(kept.map(([name]) => name).sort()).toEqual(["SelectorThread-1", "SelectorThread-2"]);
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    // New connections are refused at once...
    const refused = connect({ port, host: "127.0.0.1" });
    const [error] = (await once(refused, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNREFUSED");
    // ...while each loop still serves its open connection, and close() waits for both.
    for (const [name, socket] of kept) expect(await whoServes(socket)).toBe(name);
    expect(closed).toBe(false);
    const [first, second] = kept.map(([, socket]) => socket) as [Socket, Socket];
    const firstDone = collectAll(first);
    first.end();
    await firstDone;
    expect(await whoServes(second)).toBe(kept[1]![0]);
    expect(closed).toBe(false);
    const secondDone = collectAll(second);
    second.end();
    await secondDone;
    await closing;
    await server.finished;
    expect(server.stats()).toMatchObject({ active: 0, closed: opened.length });
  });

  it("maxConnections holds for all loops together", async () => {
    const server = make({ loops: 2, handler: "whoami", selector: "epoll", maxConnections: 1 });
    const { port } = (await server.listen()) as { port: number };
    const first = connect({ port, host: "127.0.0.1" });
    await once(first, "connect");
    await whoServes(first);
    // Whichever loop the next ones reach, they are closed unserved while the first is open.
    for (let i = 0; i < 4; i++) {
      const extra = connect({ port, host: "127.0.0.1" });
      extra.on("error", () => {});
      await once(extra, "connect");
      expect((await collectAll(extra)).length).toBe(0);
    }
    expect(server.stats()).toMatchObject({ accepted: 1, rejected: 4 });
    const done = collectAll(first);
    first.end();
    await done;
    // The slot is free once its loop has seen the close: retry a bounded number of times.
    let reply = "";
    for (let attempt = 0; attempt < 50 && reply === ""; attempt++) reply = (await exchange(port, "again\n")).toString();
    expect(reply).toMatch(/^SelectorThread-[12]: again\n$/);
  });

  it("serves a Unix socket path from two loops sharing one listener", async () => {
    const dir = mkdtempSync(join(tmpdir(), "echo-loops-"));
    try {
      const path = join(dir, "s.sock");
      const server = make({ loops: 2, path, handler: "whoami" });
      await server.listen();
      const socket = connect({ path });
      await once(socket, "connect");
      expect(await whoServes(socket)).toMatch(/^SelectorThread-[12]$/);
      socket.destroy();
      await server.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("echo-selector --loops", () => {
  it("serves from two loops and says so in its listening line", async () => {
    const child = spawn(process.execPath, [cli, "--port", "0", "--loops", "2", "--handler", "whoami"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    for await (const chunk of child.stdout) {
      out += chunk;
      if (out.includes("\n")) break;
    }
    const match =
      /^echo-selector listening on 127\.0\.0\.1:(\d+) \(model selector \(epoll, 2 loops\), handler whoami, pid \d+\)/.exec(
        out,
      );
    expect(match, out).not.toBeNull();
    expect((await exchange(Number(match![1]), "cli\n")).toString()).toMatch(/^SelectorThread-[12]: cli\n$/);
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });

  for (const bad of ["0", "many"]) {
    it(`exits 2 naming the flag for --loops ${bad}`, async () => {
      const child = spawn(process.execPath, [cli, "--loops", bad], { stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      const [code] = await once(child, "exit");
      expect(code).toBe(2);
      expect(err).toMatch(
        new RegExp(`^echo-selector: --loops must be an integer from 1 to 1024 or auto, got "${bad}"\\n`),
      );
    });
  }
});
