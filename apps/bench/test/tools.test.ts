import { describe, expect, it } from "vitest";
import { abLoad, parseAb, parseRefLoad, parseWrk, toMicros, which, wrkLoad } from "../src/load/external.js";
import { internalLoad } from "../src/load/internal.js";
import { openIdle } from "../src/load/idle.js";
import { builtinModels } from "../src/models.js";
import { startServer } from "../src/server-process.js";
import { waitForDescriptors } from "../src/scenarios.js";

describe("load tools", () => {
  it("converts the tools' time units to microseconds", () => {
    expect(toMicros("450.00us")).toBe(450);
    expect(toMicros("1.5ms")).toBe(1500);
    expect(toMicros("2s")).toBe(2e6);
    expect(toMicros("12")).toBe(12_000);
    expect(toMicros("?")).toBeNaN();
  });

  it("parses ref-echo-load's line", () => {
    expect(parseRefLoad("rps=1000 p50_us=40 p99_us=90 max_us=300 errors=1 mismatch=0 done=2000\n", 2)).toEqual({
      tool: "ref-echo-load",
      done: 2000,
      seconds: 2,
      rps: 1000,
      p50Us: 40,
      p99Us: 90,
      maxUs: 300,
      errors: 1,
      mismatches: 0,
    });
    expect(() => parseRefLoad("garbage", 1)).toThrow(/no done=/);
    expect(() => parseAb("garbage", 1)).toThrow(/Complete requests/);
    expect(() => parseWrk("garbage", 1)).toThrow(/requests in/);
  });

  it("drives node-net with the internal loop, byte-checked", async () => {
    const node = builtinModels().find((m) => m.name === "node-net")!;
    const echo = await startServer(node.command("echo", 0));
    try {
      const persistent = await internalLoad({
        host: echo.host,
        port: echo.port,
        connections: 5,
        size: 64,
        durationMs: 300,
      });
      expect(persistent.done).toBeGreaterThan(0);
      expect(persistent.mismatches).toBe(0);
      expect(persistent.p50Us).toBeLessThanOrEqual(persistent.p99Us);
      const fresh = await internalLoad({
        host: echo.host,
        port: echo.port,
        connections: 3,
        size: 64,
        durationMs: 300,
        newConnection: true,
      });
      expect(fresh.done).toBeGreaterThan(0);
      expect(fresh.errors).toBe(0);
      const idle = await openIdle(echo.host, echo.port, 50);
      try {
        expect(idle.opened).toBe(50);
        // The server accepts them a little after the client sees them open.
        expect(await waitForDescriptors(echo.pid, 50, 30_000, () => true)).toBeGreaterThanOrEqual(50);
      } finally {
        idle.close();
      }
    } finally {
      await echo.stop();
    }
  });

  // test/global-setup.ts installs ab and wrk when missing (as root); a skip here says it could not.
  it.for([
    { tool: "ab", load: abLoad },
    { tool: "wrk", load: wrkLoad },
  ])("drives node-net's HTTP hello with $tool", async ({ tool, load }, context) => {
    const binary = which(tool);
    if (!binary) return context.skip(`${tool} is not installed`);
    const http = await startServer(
      builtinModels()
        .find((m) => m.name === "node-net")!
        .command("http", 0),
    );
    try {
      const r = await load(binary, http.port, 4, 1);
      expect(r.tool).toBe(tool);
      expect(r.done).toBeGreaterThan(0);
      expect(r.errors).toBe(0);
      expect(Number.isFinite(r.maxUs)).toBe(true);
      expect(r.p50Us).toBeLessThanOrEqual(r.p99Us);
      expect(r.p99Us).toBeLessThanOrEqual(r.maxUs);
    } finally {
      await http.stop();
    }
  });

  it("counts a server that answers wrong as mismatches", async () => {
    // An "echo" server that upper-cases: every reply differs from the payload.
    const upper = builtinModels()
      .find((m) => m.name === "core-async")!
      .command("echo", 0);
    const server = await startServer({
      command: upper.command,
      args: upper.args.map((a) => (a === "echo" ? "upper" : a)),
    });
    try {
      const r = await internalLoad({ host: server.host, port: server.port, connections: 2, size: 64, durationMs: 200 });
      expect(r.done).toBeGreaterThan(0);
      expect(r.mismatches).toBe(r.done);
    } finally {
      await server.stop();
    }
  });
});
