import { afterEach, describe, expect, it } from "vitest";
import { EchoClientError, formatLoadReport, runLoad, type LoadOptions, type LoadResult } from "@echo/client";
import {
  batching,
  closeAll,
  corrupt,
  echo,
  echoThenEnd,
  fullBacklog,
  hasIPv6,
  startServer,
  unusedPort,
} from "./helpers.js";

afterEach(closeAll);

function expectConsistent(result: LoadResult): void {
  expect(result.bytesReceived).toBeGreaterThanOrEqual(result.roundTrips * result.size);
  expect(result.bytesSent).toBeGreaterThanOrEqual(result.roundTrips * result.size);
  const l = result.latency;
  if (result.roundTrips > 0) {
    expect(l.min).toBeLessThanOrEqual(l.p50);
    expect(l.p50).toBeLessThanOrEqual(l.p90);
    expect(l.p90).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.p999);
    expect(l.p999).toBeLessThanOrEqual(l.max);
    expect(l.max).toBeGreaterThan(0);
  }
  expect(result.elapsed).toBeGreaterThan(0);
  expect(result.roundTripsPerSecond).toBeCloseTo(result.roundTrips / result.elapsed, 6);
}

describe("runLoad", () => {
  it("completes exactly `count` round trips against a correct server, with no mismatch", async () => {
    const server = await startServer(echo);
    const result = await runLoad({ port: server.port, connections: 8, count: 5000, size: 100 });
    expect(result.roundTrips).toBe(5000);
    expect(result.stoppedBy).toBe("count");
    expect(result.mismatches).toBe(0);
    expect(result.errors).toBe(0);
    expect(result.errorCodes).toEqual({});
    expect(result.bytesSent).toBe(5000 * 100);
    expect(result.bytesReceived).toBe(5000 * 100);
    expect(result.connects).toBe(8);
    // +1: the probe connection runLoad opens first.
    expect(server.connections).toBe(9);
    expect(result.connections).toBe(8);
    expectConsistent(result);
  });

  it("checks large payloads byte for byte", async () => {
    const server = await startServer(echo);
    const result = await runLoad({ port: server.port, connections: 2, count: 6, size: 3 * 1024 * 1024 + 5 });
    expect(result.roundTrips).toBe(6);
    expect(result.mismatches).toBe(0);
    expect(result.bytesReceived).toBe(6 * (3 * 1024 * 1024 + 5));
  });

  it("counts every round trip of a corrupting server as a mismatch", async () => {
    const server = await startServer(corrupt);
    const result = await runLoad({ port: server.port, connections: 4, count: 400, size: 64 });
    expect(result.roundTrips).toBe(400);
    expect(result.mismatches).toBe(400);
    expect(result.errors).toBe(0);
  });

  it("stops after `duration` when no count is given", async () => {
    const server = await startServer(echo);
    const result = await runLoad({ port: server.port, connections: 4, duration: 0.5 });
    expect(result.stoppedBy).toBe("duration");
    expect(result.roundTrips).toBeGreaterThan(0);
    expect(result.mismatches).toBe(0);
    expectConsistent(result);
  });

  it("new-connection mode opens one connection per round trip", async () => {
    const server = await startServer(echo);
    const result = await runLoad({ port: server.port, connections: 5, count: 300, newConnection: true, size: 32 });
    expect(result.roundTrips).toBe(300);
    expect(result.connects).toBe(300);
    expect(server.connections).toBe(301);
    expect(result.mismatches).toBe(0);
    expect(result.errors).toBe(0);
    expect(result.newConnection).toBe(true);
  });

  it("pipelining keeps DEPTH round trips in flight: a server that echoes only blocks of 8 messages is served", async () => {
    const size = 50;
    const server = await startServer(batching(8 * size));
    const result = await runLoad({ port: server.port, connections: 1, count: 800, size, pipeline: 8 });
    expect(result.roundTrips).toBe(800);
    expect(result.mismatches).toBe(0);
    expect(result.pipeline).toBe(8);
  });

  it("without pipelining the same block server completes nothing (the test above can fail)", async () => {
    const size = 50;
    const server = await startServer(batching(8 * size));
    const result = await runLoad({ port: server.port, connections: 1, count: 800, size, duration: 0.3 });
    expect(result.roundTrips).toBe(0);
    expect(result.stoppedBy).toBe("duration");
  });

  it("counts errors and reconnects when the server closes connections", async () => {
    const server = await startServer(echoThenEnd(16));
    const result = await runLoad({ port: server.port, connections: 2, count: 20, size: 16 });
    expect(result.roundTrips).toBe(20);
    expect(result.errors).toBeGreaterThanOrEqual(18);
    expect(Object.keys(result.errorCodes).length).toBeGreaterThan(0);
    expect(result.connects).toBeGreaterThanOrEqual(20);
    expect(result.mismatches).toBe(0);
  });

  it("latencies above one second are measured too", async () => {
    const server = await startServer((socket) =>
      socket.on("data", (chunk) => setTimeout(() => socket.write(chunk), 1100)),
    );
    const result = await runLoad({ port: server.port, connections: 1, count: 1 });
    expect(result.roundTrips).toBe(1);
    expect(result.latency.max).toBeGreaterThanOrEqual(1_000_000);
    expect(result.latency.p50).toBeGreaterThanOrEqual(1_000_000);
  });

  it("spreads connections over worker threads", async () => {
    const server = await startServer(echo);
    const result = await runLoad({ port: server.port, connections: 6, threads: 3, count: 3001, size: 10 });
    expect(result.threads).toBe(3);
    expect(result.roundTrips).toBe(3001);
    expect(result.connects).toBe(6);
    expect(result.mismatches).toBe(0);
    expectConsistent(result);
  });

  it("threads: mismatches from every worker are added up", async () => {
    const server = await startServer(corrupt);
    const result = await runLoad({ port: server.port, connections: 2, threads: 2, count: 100 });
    expect(result.roundTrips).toBe(100);
    expect(result.mismatches).toBe(100);
  });

  it("runs over a Unix socket", async () => {
    const server = await startServer(echo, "unix");
    const result = await runLoad({ path: server.path, connections: 3, count: 900 });
    expect(result.roundTrips).toBe(900);
    expect(result.target).toBe(server.path);
    expect(result.mismatches).toBe(0);
  });

  it("runs over IPv6 (::1) when the machine has it", async (ctx) => {
    if (!(await hasIPv6())) ctx.skip();
    const server = await startServer(echo, "v6");
    const result = await runLoad({ host: "::1", port: server.port, connections: 2, count: 200 });
    expect(result.target).toBe(`[::1]:${server.port}`);
    expect(result.roundTrips).toBe(200);
    expect(result.mismatches).toBe(0);
  });

  it("reports progress and stops on abort", async () => {
    const server = await startServer(echo);
    const controller = new AbortController();
    const seen: number[] = [];
    const result = await runLoad({
      port: server.port,
      connections: 2,
      duration: 60,
      progressInterval: 50,
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.roundTrips);
        if (seen.length === 3) controller.abort();
      },
    });
    expect(result.stoppedBy).toBe("aborted");
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(result.roundTrips).toBeGreaterThanOrEqual(seen[2] as number);
  });

  it("an abort with threads stops every worker", async () => {
    const server = await startServer(echo);
    const controller = new AbortController();
    const result = await runLoad({
      port: server.port,
      connections: 2,
      threads: 2,
      duration: 60,
      progressInterval: 50,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    expect(result.stoppedBy).toBe("aborted");
  });

  it("rejects at once with ECHO_ERR_CONNECT_REFUSED when nothing listens", async () => {
    const port = await unusedPort();
    await expect(runLoad({ port, duration: 5 })).rejects.toMatchObject({ code: "ECHO_ERR_CONNECT_REFUSED" });
  });

  it("rejects with ECHO_ERR_CONNECT_TIMEOUT when the probe cannot connect", async () => {
    const backlog = await fullBacklog();
    try {
      await expect(runLoad({ port: backlog.port, connectTimeout: 150 })).rejects.toMatchObject({
        code: "ECHO_ERR_CONNECT_TIMEOUT",
      });
    } finally {
      await backlog.close();
    }
  });

  it("counts connections that time out during the run as errors", async () => {
    // One filler plus the probe fill the never-drained accept queue: every load connection hangs.
    const backlog = await fullBacklog(1);
    try {
      const result = await runLoad({ port: backlog.port, connections: 2, duration: 0.8, connectTimeout: 150 });
      expect(result.roundTrips).toBe(0);
      expect(result.errorCodes.ECHO_ERR_CONNECT_TIMEOUT).toBeGreaterThanOrEqual(2);
      expect(result.errors).toBe(result.errorCodes.ECHO_ERR_CONNECT_TIMEOUT);
    } finally {
      await backlog.close();
    }
  });

  it("formatLoadReport renders the numbers", async () => {
    const server = await startServer(echo);
    const result = await runLoad({ port: server.port, connections: 1, count: 10 });
    const text = formatLoadReport(result);
    expect(text).toContain(`127.0.0.1:${server.port}`);
    expect(text).toContain("10 round trips");
    expect(text).toMatch(/p99\.9 \d/);
    expect(text).toContain("mismatches 0");
  });
});

describe("runLoad option validation", () => {
  const port = 9; // never contacted: validation happens first
  const cases: [string, LoadOptions, RegExp][] = [
    ["no port or path", {}, /^options\.port or options\.path is required/],
    ["port and path", { port, path: "/x" }, /^options\.port and options\.path cannot both be set/],
    ["port range", { port: 0 }, /^options\.port must be an integer from 1 to 65535, got 0/],
    [
      "connections cap",
      { port, connections: 20001 },
      /^options\.connections must be at most 20000 \(a hard cap of this tool\), got 20001/,
    ],
    ["connections zero", { port, connections: 0 }, /^options\.connections must be an integer from 1 to 20000, got 0/],
    [
      "duration cap",
      { port, duration: 601 },
      /^options\.duration must be at most 600 seconds \(a hard cap of this tool\), got 601/,
    ],
    ["duration zero", { port, duration: 0 }, /^options\.duration must be a positive number of seconds, got 0/],
    ["count zero", { port, count: 0 }, /^options\.count must be an integer from 1 to/],
    ["size zero", { port, size: 0 }, /^options\.size must be an integer from 1 to 67108864 bytes, got 0/],
    ["pipeline too deep", { port, pipeline: 2000 }, /^options\.pipeline must be an integer from 1 to 1024, got 2000/],
    [
      "pipeline with new connections",
      { port, pipeline: 2, newConnection: true },
      /^options\.pipeline must be 1 when options\.newConnection is true, got 2/,
    ],
    ["newConnection type", { port, newConnection: 1 as never }, /^options\.newConnection must be a boolean, got 1/],
    ["threads zero", { port, threads: 0 }, /^options\.threads must be an integer from 1 to 64, got 0/],
    [
      "threads over connections",
      { port, connections: 2, threads: 3 },
      /^options\.threads \(3\) must not exceed options\.connections \(2\)/,
    ],
    [
      "connectTimeout zero",
      { port, connectTimeout: 0 },
      /^options\.connectTimeout must be an integer from 1 to 600000 ms, got 0/,
    ],
    [
      "progressInterval",
      { port, progressInterval: 1 },
      /^options\.progressInterval must be an integer from 10 to 600000 ms, got 1/,
    ],
    ["onProgress type", { port, onProgress: 3 as never }, /^options\.onProgress must be a function, got 3/],
    ["signal type", { port, signal: {} as never }, /^options\.signal must be an AbortSignal, got an object/],
  ];
  it.each(cases)("%s", async (_name, options, message) => {
    const error = await runLoad(options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EchoClientError);
    expect((error as EchoClientError).code).toBe("ECHO_ERR_INVALID_ARG");
    expect((error as EchoClientError).message).toMatch(message);
  });
});
