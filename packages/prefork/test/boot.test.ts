// Boot failures, the crash-loop guard, and both schedules in one process.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HandlerLoadError } from "@echo/core";
import { CrashLoopError, PreforkServer, type PreforkOptions, type WorkerInfo } from "@echo/prefork";
import { childrenOf, expectNoOrphans, fixture, roundTrip, trackWorkers, waitFor, whoami } from "./helpers.js";

const quiet = { info: () => {}, error: () => {} };
const servers: { server: PreforkServer; pids: Set<number> }[] = [];

function make(options: PreforkOptions): { server: PreforkServer; pids: Set<number> } {
  const server = new PreforkServer({ logger: quiet, execArgv: [], workers: 2, ...options });
  const entry = { server, pids: trackWorkers(server).pids };
  servers.push(entry);
  return entry;
}

afterEach(async () => {
  for (const { server, pids } of servers.splice(0)) {
    await server.close({ timeout: 0 });
    expectNoOrphans(pids);
  }
  expect(childrenOf(process.pid).length).toBe(0);
});

describe("boot failures", () => {
  it("a handler module that throws at import: listen() rejects with HandlerLoadError, no worker left", async () => {
    const { server, pids } = make({ handler: fixture("throws-at-import.mjs") });
    const error = await server.listen().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandlerLoadError);
    expect(error).toMatchObject({
      code: "ECHO_ERR_HANDLER_LOAD",
      message: expect.stringMatching(/throws-at-import\.mjs.*boom at import/),
    });
    expect(pids.size).toBe(2);
    expectNoOrphans(pids);
    await server.finished;
  });

  it("a missing handler module: listen() rejects with HandlerLoadError before forking", async () => {
    const { server, pids } = make({ handler: "./no/such/handler.js" });
    await expect(server.listen()).rejects.toMatchObject({
      code: "ECHO_ERR_HANDLER_LOAD",
      message: expect.stringMatching(/no such file/),
    });
    expect(pids.size).toBe(0);
  });

  it("an address in use: listen() rejects with AddressInUseError for either schedule", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      for (const schedule of ["os", "round-robin"] as const) {
        const { server } = make({ port, schedule });
        await expect(server.listen()).rejects.toMatchObject({
          code: "ECHO_ERR_ADDR_IN_USE",
          message: `address 127.0.0.1:${port} is already in use`,
        });
      }
    } finally {
      blocker.close();
    }
  });

  it("a replacement that fails at boot stops the server with its typed error instead of restarting forever", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prefork-"));
    try {
      const marker = join(dir, "marker");
      const { server, pids } = make({
        handler: fixture("fail-later.mjs"),
        handlerOptions: { marker },
        backoffInitial: 10,
      });
      const { port } = (await server.listen()) as { port: number };
      expect((await roundTrip(port, "ok")).toString()).toBe("ok");
      writeFileSync(marker, "");
      const failed = waitFor<[Error]>(server, "error");
      process.kill(server.workers()[0]!.pid, "SIGKILL");
      const [error] = await failed;
      expect(error).toMatchObject({
        code: "ECHO_ERR_HANDLER_LOAD",
        message: expect.stringMatching(/marker file present/),
      });
      await server.finished;
      expect(server.failure).toBe(error);
      expect(server.workers()).toEqual([]);
      expectNoOrphans(pids);
      await expect(roundTrip(port, "x")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("crash-loop guard: more than maxCrashes crashes within crashWindow stop the server with CrashLoopError", async () => {
    const { server, pids } = make({ workers: 1, maxCrashes: 2, backoffInitial: 10, schedule: "round-robin" });
    await server.listen();
    const stopped = waitFor<[Error]>(server, "error");
    const delays: number[] = [];
    for (let crash = 1; crash <= 3; crash++) {
      const victim = server.workers()[0]!;
      const replaced =
        crash < 3 ? waitFor<[WorkerInfo]>(server, "workerListening", (w) => w.pid !== victim.pid) : undefined;
      const killedAt = Date.now();
      process.kill(victim.pid, "SIGKILL");
      if (replaced) {
        await replaced;
        delays.push(Date.now() - killedAt);
      }
    }
    const [error] = await stopped;
    expect(error).toBeInstanceOf(CrashLoopError);
    expect(error).toMatchObject({
      code: "ECHO_ERR_CRASH_LOOP",
      crashes: 3,
      message: expect.stringMatching(/3 worker crashes within 60000 ms/),
    });
    await server.finished;
    expectNoOrphans(pids);
    // Backoff doubles: the second replacement waited at least its 20 ms.
    expect(delays[1]!).toBeGreaterThanOrEqual(20);
  });
});

describe("recovery", () => {
  it("os: when the only worker dies, the replacement listens on the same port (chosen with port 0)", async () => {
    const { server } = make({ workers: 1, schedule: "os", backoffInitial: 10 });
    const { port } = (await server.listen()) as { port: number };
    const victim = server.workers()[0]!;
    const replaced = waitFor<[WorkerInfo]>(server, "workerListening", (w) => w.pid !== victim.pid);
    process.kill(victim.pid, "SIGKILL");
    await replaced;
    expect((await roundTrip(port, "same port")).toString()).toBe("same port");
    expect(server.address()).toMatchObject({ port });
  });

  it("round-robin: a connection made while no worker is ready waits for the replacement", async () => {
    const { server } = make({ workers: 1, schedule: "round-robin", backoffInitial: 10 });
    const { port } = (await server.listen()) as { port: number };
    const victim = server.workers()[0]!;
    const gone = waitFor<[WorkerInfo]>(server, "exit", (w) => w.pid === victim.pid);
    process.kill(victim.pid, "SIGKILL");
    await gone;
    expect(server.workers().every((w) => w.state === "starting")).toBe(true);
    expect((await roundTrip(port, "held")).toString()).toBe("held");
  });

  it("a reload whose new workers fail to boot rejects and leaves the old generation serving", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prefork-"));
    try {
      const marker = join(dir, "marker");
      const { server } = make({ handler: fixture("fail-later.mjs"), handlerOptions: { marker } });
      const { port } = (await server.listen()) as { port: number };
      const before = server.workers().map((w) => w.pid);
      writeFileSync(marker, "");
      await expect(server.reload()).rejects.toMatchObject({ code: "ECHO_ERR_HANDLER_LOAD" });
      expect(server.workers().map((w) => w.pid)).toEqual(before);
      expect((await roundTrip(port, "still")).toString()).toBe("still");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("both schedules in one process", () => {
  it("an os server and a round-robin server run side by side", async () => {
    const a = make({ schedule: "os", handler: "whoami" });
    const b = make({ schedule: "round-robin", handler: "whoami" });
    const [pa, pb] = await Promise.all([a.server.listen(), b.server.listen()]);
    expect(await whoami((pa as { port: number }).port)).toMatch(/^Process-[12]$/);
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) names.add(await whoami((pb as { port: number }).port));
    expect(names.size).toBe(2);
  });
});
