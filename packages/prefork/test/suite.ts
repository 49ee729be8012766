// The behaviour every schedule must have. node:cluster fixes the schedule per process, and vitest
// runs each test file in its own process: os.test.ts and round-robin.test.ts each run this suite.
import { afterEach, describe, expect, it } from "vitest";
import { PreforkServer, type PreforkOptions, type Schedule, type WorkerInfo } from "@echo/prefork";
import {
  LineClient,
  expectNoOrphans,
  fixture,
  roundTrip,
  whoami,
  spreadUntilAll,
  startLoad,
  trackWorkers,
  waitFor,
} from "./helpers.js";

const quiet = { info: () => {}, error: () => {} };
export function scheduleSuite(schedule: Schedule): void {
  let current: { server: PreforkServer; pids: Set<number> } | undefined;

  async function start(options: PreforkOptions): Promise<{ server: PreforkServer; port: number; pids: Set<number> }> {
    const server = new PreforkServer({ schedule, logger: quiet, execArgv: [], ...options });
    const { pids } = trackWorkers(server);
    current = { server, pids };
    const address = await server.listen();
    if (address.kind !== "tcp") throw new Error("expected tcp");
    return { server, port: address.port, pids };
  }

  afterEach(async () => {
    if (!current) return;
    await current.server.close({ timeout: 0 });
    expectNoOrphans(current.pids);
    current = undefined;
  });

  describe(`schedule ${schedule}`, () => {
    it("answers round trips from every worker, and stats() sums them per worker", async () => {
      const { server, port } = await start({ workers: 3, handler: "whoami" });
      expect(server.workers().map((w) => w.state)).toEqual(["listening", "listening", "listening"]);
      const counts = await spreadUntilAll(port, 3);
      expect([...counts.keys()].sort()).toEqual(["Process-1", "Process-2", "Process-3"]);
      const stats = await server.stats();
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      expect(stats.accepted).toBe(total);
      expect(stats.workers.map((w) => w.stats.accepted).reduce((a, b) => a + b, 0)).toBe(total);
      for (const w of stats.workers) expect(w.stats.accepted).toBe(counts.get(w.name));
      if (schedule === "round-robin") {
        // The master deals in turn: 60 sequential connections reach every worker many times.
        const dealt = new Map<string, number>();
        for (let i = 0; i < 60; i++) {
          const name = await whoami(port);
          dealt.set(name, (dealt.get(name) ?? 0) + 1);
        }
        expect(dealt.size).toBe(3);
        for (const n of dealt.values()) expect(n).toBeGreaterThanOrEqual(5);
        console.log(`[distribution round-robin, 60 sequential] ${[...dealt].map(([k, v]) => `${k} ${v}`).join(", ")}`);
      }
      console.log(
        `[distribution ${schedule}] ${total} connections: ${stats.workers.map((w) => `${w.name} ${w.stats.accepted}`).join(", ")}`,
      );
    });

    it("echoes exactly, large payloads included", async () => {
      const { port } = await start({ workers: 2 });
      const big = Buffer.alloc(3 * 1024 * 1024 + 7, "abcdefg");
      expect((await roundTrip(port, big)).equals(big)).toBe(true);
      expect((await roundTrip(port, "hello")).toString()).toBe("hello");
    });

    it("SIGKILL of a worker under load: other workers' connections go on, a replacement appears, the server keeps answering", async () => {
      const { server, port } = await start({ workers: 3, handler: fixture("lines.mjs"), backoffInitial: 50 });
      // Persistent connections, until at least two workers hold some.
      const clients: { client: LineClient; worker: string }[] = [];
      for (let i = 0; i < 200 && (clients.length < 9 || new Set(clients.map((c) => c.worker)).size < 2); i++) {
        const client = await LineClient.open(port);
        const reply = await client.ask("hello");
        clients.push({ client, worker: reply.split(":")[0]! });
      }
      const victimName = clients[0]!.worker;
      const onVictim = clients.filter((c) => c.worker === victimName).length;
      const victim = server.workers().find((w) => w.name === victimName)!;
      const others = clients.filter((c) => c.worker !== victimName);
      expect(others.length).toBeGreaterThan(0);

      const load = startLoad(port, { concurrency: 6, total: 4000, deadlineMs: 30_000, reply: "lines" });
      await load.reached(200);
      const replaced = waitFor<[WorkerInfo]>(
        server,
        "workerListening",
        (w) => w.pid !== victim.pid && !clients.some((c) => c.worker === w.name),
      );
      const died = waitFor<[WorkerInfo, number | null, string | null]>(server, "exit", (w) => w.pid === victim.pid);
      process.kill(victim.pid, "SIGKILL");
      const [, , signal] = await died;
      expect(signal).toBe("SIGKILL");
      const [replacement] = await replaced;
      const before = load.result.ok;
      await load.reached(before + 200);
      const result = await load.stop();

      for (const { client } of others) expect(await client.ask("still there?")).toMatch(/^Process-\d+: still there\?$/);
      for (const { client, worker } of clients) if (worker === victimName) await client.done;
      for (const { client } of clients) client.close();

      // After the replacement listens, every new connection succeeds.
      const after = startLoad(port, { concurrency: 4, total: 200, deadlineMs: 30_000, reply: "lines" });
      const clean = await (async () => (await after.reached(200), after.stop()))();
      expect(clean.failed).toBe(0);
      expect(server.workers().length).toBe(3);
      expect(server.workers().map((w) => w.pid)).toContain(replacement.pid);
      // Only connections the killed worker held at the instant of the kill can fail.
      expect(result.failed).toBeLessThanOrEqual(6);
      console.log(
        `[kill-under-load ${schedule}] attempted ${result.attempted}, ok ${result.ok}, failed ${result.failed}; after replacement: ${clean.attempted} attempted, ${clean.failed} failed; persistent connections: ${others.length} on other workers all answered, ${onVictim} on the killed worker closed`,
      );
    });

    it("kills a worker whose heartbeat stops (event loop blocked) and replaces it", async () => {
      const { server, port } = await start({
        workers: 2,
        handler: fixture("block.mjs"),
        heartbeatInterval: 100,
        heartbeatTimeout: 1000,
      });
      const client = await LineClient.open(port);
      const name = (await client.ask("who")).split(":")[0]!;
      const hung = server.workers().find((w) => w.name === name)!;
      const timedOut = waitFor<[WorkerInfo]>(server, "heartbeatTimeout", (w) => w.pid === hung.pid);
      const exited = waitFor<[WorkerInfo, number | null, string | null]>(server, "exit", (w) => w.pid === hung.pid);
      const replaced = waitFor<[WorkerInfo]>(server, "workerListening", (w) => w.pid !== hung.pid && w.name !== name);
      client.socket.write("BLOCK\n");
      await timedOut;
      expect((await exited)[2]).toBe("SIGKILL");
      await replaced;
      await client.done;
      expect(server.workers().length).toBe(2);
      expect((await roundTrip(port, "alive\n")).toString()).toMatch(/^Process-\d+: alive\n$/);
    });

    it("addWorker/removeWorker (SIGTTIN/SIGTTOU) change the worker count; never below one", async () => {
      const { server, port } = await start({ workers: 2, handler: "whoami" });
      const added = await server.addWorker();
      expect(added.name).toBe("Process-3");
      expect(server.workerCount).toBe(3);
      expect(server.workers().filter((w) => w.state === "listening").length).toBe(3);
      const removed = await server.removeWorker();
      expect(server.workerCount).toBe(2);
      expect(server.workers().map((w) => w.pid)).not.toContain(removed.pid);
      await server.removeWorker();
      expect(server.workers().length).toBe(1);
      await expect(server.removeWorker()).rejects.toMatchObject({
        code: "ECHO_ERR_SERVER_STATE",
        message: expect.stringMatching(/last worker/),
      });
      expect((await roundTrip(port, "x")).toString()).toMatch(/^Process-\d+: x$/);
    });

    it("graceful close: every byte sent before close() is echoed, then the workers exit", async () => {
      const { server, port, pids } = await start({ workers: 2 });
      const clients = await Promise.all(Array.from({ length: 6 }, () => LineClient.open(port)));
      // Accepted by a worker (not just queued in the kernel's backlog, which closing the listener resets).
      for (const c of clients) expect(await c.ask("ping")).toBe("ping");
      const sent = clients.map((_, i) => Buffer.alloc(200_000 + i, `${i}`));
      const received = clients.map((c) => {
        const chunks: Buffer[] = [];
        c.socket.removeAllListeners("data");
        c.socket.setEncoding("latin1");
        c.socket.on("data", (d: string) => chunks.push(Buffer.from(d, "latin1")));
        return c.done.then(() => Buffer.concat(chunks));
      });
      await Promise.all(
        clients.map((c, i) => new Promise<void>((resolve) => c.socket.write(sent[i]!, () => resolve()))),
      );
      const closing = server.close({ timeout: 20_000 });
      for (const c of clients) c.socket.end();
      const got = await Promise.all(received);
      for (let i = 0; i < clients.length; i++)
        expect([got[i]!.length, got[i]!.equals(sent[i]!)]).toEqual([sent[i]!.length, true]);
      await closing;
      expectNoOrphans(pids);
    });

    it("close deadline: connections still open after the timeout are destroyed; quit() closes at once", async () => {
      const { server, port } = await start({ workers: 1 });
      const idle = await LineClient.open(port);
      expect(await idle.ask("ping")).toBe("ping");
      await server.close({ timeout: 200 });
      await idle.done;
      expect(idle.closed).toBe(true);

      const second = await start({ workers: 1 });
      const open = await LineClient.open(second.port);
      expect(await open.ask("ping")).toBe("ping");
      await second.server.quit();
      await open.done;
    });

    it("recycles a worker after maxRequests connections, with no failed connection", async () => {
      const { server, port } = await start({ workers: 1, maxRequests: 5, handler: "whoami" });
      for (const [name, next] of [
        ["Process-1", "Process-2"],
        ["Process-2", "Process-3"],
      ] as const) {
        const recycled = waitFor<[WorkerInfo, WorkerInfo]>(server, "recycle");
        for (let i = 0; i < 5; i++) expect(await whoami(port)).toBe(name);
        const [old, fresh] = await recycled;
        expect([old.name, fresh.name]).toEqual([name, next]);
        await waitFor<[WorkerInfo]>(server, "exit", (w) => w.name === name);
      }
      expect(await whoami(port)).toBe("Process-3");
      expect((await server.stats()).accepted).toBe(11);
    });

    it("reload under continuous load: zero failed connections, every worker replaced", async () => {
      const { server, port } = await start({ workers: 2 });
      const before = server.workers().map((w) => w.pid);
      const load = startLoad(port, { concurrency: 8, total: 20_000, deadlineMs: 60_000 });
      await load.reached(300);
      await server.reload();
      const mid = load.result.ok;
      await server.reload();
      await load.reached(mid + 300);
      const result = await load.stop();
      expect(result.errors).toEqual([]);
      expect(result.failed).toBe(0);
      const after = server.workers().map((w) => w.pid);
      expect(after.length).toBe(2);
      for (const pid of before) expect(after).not.toContain(pid);
      console.log(
        `[reload-under-load ${schedule}] 2 reloads: attempted ${result.attempted}, ok ${result.ok}, failed ${result.failed}`,
      );
    });
  });
}
