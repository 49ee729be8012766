import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCodes, type ServerAddress } from "@echo/core";
import { ThreadedServer, type AcceptPath, type ThreadedServerOptions } from "@echo/threaded";
import { LineClient, fixture, openUntilEveryThread, tally, threadOf } from "./helpers.js";

const quiet = { info: () => {}, error: () => {} };
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function reusePortWorks(): Promise<boolean> {
  const probe = new ThreadedServer({ threads: 1, accept: "reusePort", logger: quiet });
  try {
    await probe.listen();
    return true;
  } catch {
    return false;
  } finally {
    await probe.close();
  }
}
const hasReusePort = await reusePortWorks();
const paths: AcceptPath[] = hasReusePort ? ["reusePort", "shared"] : ["shared"];

async function start(
  options: ThreadedServerOptions,
): Promise<{ server: ThreadedServer; port: number; address: ServerAddress }> {
  const server = new ThreadedServer({ logger: quiet, ...options });
  cleanup.push(() => server.close({ timeout: 0 }));
  const address = await server.listen();
  if (address.kind !== "tcp") throw new Error("expected a TCP address");
  return { server, port: address.port, address };
}

function track(clients: LineClient[]): LineClient[] {
  cleanup.push(() => clients.forEach((c) => c.close()));
  return clients;
}

describe.each(paths)("accept path %s", (accept) => {
  it("round-trips through every thread, each answering whoami with its own name", async () => {
    const { server, port } = await start({ threads: 4, handler: "whoami", accept });
    expect(server.acceptPath).toBe(accept);
    // listen() resolves only once every thread listens.
    expect(server.threadStats().map((t) => t.listening)).toEqual([true, true, true, true]);
    const { clients, names } = await openUntilEveryThread(port, 4);
    track(clients);
    expect(new Set(names)).toEqual(new Set(["Thread-1", "Thread-2", "Thread-3", "Thread-4"]));
    // Each connection stays with its thread.
    const again = await Promise.all(clients.map((c) => c.request("again")));
    expect(again.map(threadOf)).toEqual(names);
    expect(again[0]).toMatch(/^Thread-\d: again$/);
    const perThread = server.threadStats();
    expect(perThread.map((t) => t.name)).toEqual(["Thread-1", "Thread-2", "Thread-3", "Thread-4"]);
    const counts = tally(names);
    for (const t of perThread) expect(t.stats.accepted).toBe(counts[t.name]);
    const total = server.stats();
    expect(total.accepted).toBe(clients.length);
    expect(total.active).toBe(clients.length);
    expect(total.bytesIn).toBe(perThread.reduce((sum, t) => sum + t.stats.bytesIn, 0));
  });

  it("fails listen() with core's AddressInUseError when the port is taken", async () => {
    const blocker: Server = createServer();
    blocker.listen(0, "127.0.0.1");
    await once(blocker, "listening");
    cleanup.push(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const server = new ThreadedServer({ threads: 2, port, accept, logger: quiet });
    await expect(server.listen()).rejects.toMatchObject({
      name: "AddressInUseError",
      code: ErrorCodes.ADDR_IN_USE,
      address: `127.0.0.1:${port}`,
    });
    await server.finished;
  });

  it("holds maxConnections for the whole server, not per thread", async () => {
    const { server, port } = await start({ threads: 2, handler: "whoami", maxConnections: 3, accept });
    const clients = track(await Promise.all([1, 2, 3].map(() => LineClient.open(port))));
    await Promise.all(clients.map((c) => c.request("in")));
    const extra = track([await LineClient.open(port)])[0]!;
    await extra.closed;
    expect(server.stats()).toMatchObject({ active: 3, rejected: 1 });
    clients[0]!.close();
    await expect.poll(() => server.stats().active).toBe(2);
    const next = track([await LineClient.open(port)])[0]!;
    expect(await next.request("now")).toMatch(/^Thread-\d: now$/);
  });

  it("replaces a thread that crashes under load without touching the other thread's connections", async () => {
    const { server, port } = await start({ threads: 2, handler: fixture("crash.mjs"), accept });
    const { clients, names } = await openUntilEveryThread(port, 2);
    track(clients);
    const victims = clients.filter((_, i) => names[i] === "Thread-2");
    const survivors = clients.filter((_, i) => names[i] === "Thread-1");
    // Keep Thread-1's connections busy with round trips while Thread-2 dies.
    let stop = false;
    let served = 0;
    const load = Promise.all(
      survivors.map(async (c) => {
        for (let i = 0; i < 2_000 && !stop; i++) {
          expect(await c.request(`load ${i}`)).toBe(`Thread-1: load ${i}`);
          served++;
        }
      }),
    );
    const exited = once(server, "threadExit");
    const replaced = once(server, "threadReplaced");
    victims[0]!.socket.write("crash\n");
    const [exit] = (await exited) as [Error];
    expect(exit).toMatchObject({
      name: "ThreadExitError",
      code: "ECHO_ERR_THREAD_EXIT",
      thread: "Thread-2",
      exitCode: 1,
    });
    expect(exit.message).toContain("boom in Thread-2");
    await Promise.all(victims.map((c) => c.closed));
    const servedAtCrash = served;
    expect(await replaced).toEqual(["Thread-2"]);
    stop = true;
    await load;
    expect(served).toBeGreaterThan(servedAtCrash);
    for (const c of survivors) expect(await c.request("still")).toBe("Thread-1: still");
    // The replacement serves new connections under the same name.
    const after = await openUntilEveryThread(port, 2);
    track(after.clients);
    expect(new Set(after.names)).toEqual(new Set(["Thread-1", "Thread-2"]));
    const stats = server.stats();
    expect(stats.accepted).toBe(clients.length + after.clients.length);
    expect(stats.active).toBe(survivors.length + after.clients.length);
  });

  it("replaces a thread whose handler calls process.exit()", async () => {
    const { server, port } = await start({ threads: 2, handler: fixture("crash.mjs"), accept });
    const { clients, names } = await openUntilEveryThread(port, 2);
    track(clients);
    const victim = clients[names.indexOf("Thread-1")]!;
    const survivor = clients[names.indexOf("Thread-2")]!;
    const exited = once(server, "threadExit");
    const replaced = once(server, "threadReplaced");
    victim.socket.write("exit\n");
    const [exit] = await exited;
    expect(exit).toMatchObject({ thread: "Thread-1", exitCode: 7 });
    await victim.closed;
    await replaced;
    expect(await survivor.request("ok")).toBe("Thread-2: ok");
    expect(server.threadStats().map((t) => t.listening)).toEqual([true, true]);
  });

  it("close() drains open connections, then destroys what remains at the deadline", async () => {
    const { server, port } = await start({ threads: 2, handler: "whoami", accept });
    const client = track([await LineClient.open(port)])[0]!;
    await client.request("hi");
    const t0 = Date.now();
    const closing = server.close({ timeout: 200 });
    await client.closed;
    await closing;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(server.stats()).toMatchObject({ accepted: 1, active: 0, closed: 1 });
    await expect(LineClient.open(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(() => server.address()).toThrow(/not listening/);
  });
});

describe("balancing on the shared-descriptor path", () => {
  // The kernel decides which thread's accept wins; threads over their fair share back off. With
  // 100 connections over 4 threads no thread may get less than half its share (12.5).
  it.each(["at once", "one after another"])("spreads 100 connections opened %s over 4 threads", async (how) => {
    const { server, port } = await start({ threads: 4, handler: "whoami", accept: "shared" });
    const clients: LineClient[] = [];
    track(clients);
    const open = async (): Promise<void> => {
      const client = await LineClient.open(port);
      clients.push(client);
      await client.request("hi");
    };
    if (how === "at once") await Promise.all(Array.from({ length: 100 }, open));
    else for (let i = 0; i < 100; i++) await open();
    const counts = server.threadStats().map((t) => t.stats.accepted);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100);
    expect(Math.min(...counts), `per-thread counts ${counts.join(", ")}`).toBeGreaterThanOrEqual(13);
  });
});

describe("startup errors", () => {
  it.each([
    ["a missing module", "./no/such/handler.mjs", /no such file/],
    ["a module that throws at load", fixture("throws-at-load.mjs"), /broken at load/],
    [
      "a module that calls process.exit() at load",
      fixture("exits-at-load.mjs"),
      /ended while loading it: it exited with code 4/,
    ],
    ["a module without a handler", fixture("no-handler.mjs"), /no default export/],
  ])("fails listen() with HandlerLoadError for %s, without retrying", async (_what, handler, message) => {
    const logged: string[] = [];
    const server = new ThreadedServer({
      threads: 2,
      handler,
      logger: { info: () => {}, error: (m) => logged.push(m) },
    });
    server.on("threadExit", () => logged.push("threadExit"));
    const error = await server.listen().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "HandlerLoadError", code: ErrorCodes.HANDLER_LOAD, handler });
    expect((error as Error).message).toMatch(message);
    await server.finished;
    expect(logged).toEqual([]);
    expect(server.threadStats()).toEqual([]);
    await expect(server.listen()).rejects.toMatchObject({ code: ErrorCodes.SERVER_STATE });
  });

  it.runIf(!hasReusePort)("refuses accept: reusePort where Node ignores reusePort", async () => {
    const server = new ThreadedServer({ threads: 1, accept: "reusePort", logger: quiet });
    await expect(server.listen()).rejects.toMatchObject({
      code: ErrorCodes.LISTEN,
      message: expect.stringContaining("reusePort"),
    });
  });

  it("picks reusePort when this Node supports it, the shared descriptor otherwise", async () => {
    const { server } = await start({ threads: 1 });
    expect(server.acceptPath).toBe(hasReusePort ? "reusePort" : "shared");
  });
});

describe("lifecycle", () => {
  it("close() before listen() and twice is fine; listen() after close() is a state error", async () => {
    const server = new ThreadedServer({ threads: 1, logger: quiet });
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
    await expect(server.listen()).rejects.toMatchObject({ code: ErrorCodes.SERVER_STATE });
  });

  it("serves IPv6 loopback", async () => {
    const { port, address } = await start({ threads: 2, host: "::1", handler: "whoami" });
    expect(address).toMatchObject({ kind: "tcp", host: "::1", family: "IPv6" });
    const client = track([await LineClient.open(port, "::1")])[0]!;
    expect(await client.request("six")).toMatch(/^Thread-[12]: six$/);
  });

  it("passes handlerOptions to the handler factory in every thread", async () => {
    const { port } = await start({ threads: 2, handler: fixture("cpu.mjs"), handlerOptions: { bytes: 1 } });
    const client = track([await LineClient.open(port)])[0]!;
    expect(await client.request("cheap")).toBe("cheap");
  });
});
