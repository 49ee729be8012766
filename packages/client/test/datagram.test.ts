import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { datagramRequest, runDatagramLoad, SATURATED_BUSY } from "@echo/client";
import { saturationWarning } from "../src/load-cost.js";
import {
  corruptDatagram,
  dropSeq3,
  echoDatagram,
  silent,
  startUdpServer,
  swapPairs,
  type UdpTestServer,
} from "./datagram-helpers.js";

const run = promisify(execFile);
const echoLoad = fileURLToPath(new URL("../dist/cli/echo-load.js", import.meta.url));
const echoClient = fileURLToPath(new URL("../dist/cli/echo-client.js", import.meta.url));

const servers: UdpTestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("datagramRequest", () => {
  it("sends one datagram and resolves with the reply", async () => {
    const server = await startUdpServer(echoDatagram, servers);
    expect((await datagramRequest({ port: server.port }, "hello")).toString()).toBe("hello");
  });

  it("resends after each timeout, then fails with ECHO_ERR_TIMEOUT", async () => {
    const server = await startUdpServer(silent, servers);
    await expect(datagramRequest({ port: server.port }, "anyone?", { timeout: 50, retries: 2 })).rejects.toMatchObject({
      code: "ECHO_ERR_TIMEOUT",
    });
    expect(server.received).toBe(3);
  });

  it("rejects bad options naming them", async () => {
    await expect(datagramRequest({ port: 0 }, "x")).rejects.toMatchObject({
      code: "ECHO_ERR_INVALID_ARG",
      message: expect.stringMatching(/options\.port/),
    });
    await expect(datagramRequest({ port: 9 }, "x", { retries: -1 })).rejects.toMatchObject({
      message: expect.stringMatching(/options\.retries/),
    });
  });
});

describe("runDatagramLoad", () => {
  it("byte-checks every reply over N flows with a window each", async () => {
    const server = await startUdpServer(echoDatagram, servers);
    const result = await runDatagramLoad({ port: server.port, flows: 4, window: 4, count: 2000, size: 200 });
    expect(result.sent).toBe(2000);
    expect(result.mismatches).toBe(0);
    expect(result.errors).toBe(0);
    expect(result.roundTrips + result.lost).toBe(2000);
    expect(result.roundTrips).toBeGreaterThan(0);
    expect(result.latency.p50).toBeLessThanOrEqual(result.latency.max);
    expect(result.cost.cpuPerRoundTripUs).toBeGreaterThan(0);
    expect(result.cost.threads[0]!.name).toBe("main");
  });

  it("counts lost datagrams apart from errors", async () => {
    const server = await startUdpServer(dropSeq3, servers);
    // A window of 25: the 20 dropped datagrams time out side by side, not one after another.
    const result = await runDatagramLoad({ port: server.port, flows: 1, window: 25, count: 200, lossTimeout: 2000 });
    expect(result.lost).toBe(20);
    expect(result.roundTrips).toBe(180);
    expect(result.errors).toBe(0);
    expect(result.mismatches).toBe(0);
  });

  it("counts reordered replies", async () => {
    const server = await startUdpServer(swapPairs(), servers);
    const result = await runDatagramLoad({ port: server.port, flows: 1, window: 2, count: 100 });
    expect(result.reordered).toBe(50);
    expect(result.roundTrips).toBe(100);
    expect(result.lost).toBe(0);
  });

  it("counts replies with wrong bytes as mismatches", async () => {
    const server = await startUdpServer(corruptDatagram, servers);
    const result = await runDatagramLoad({ port: server.port, flows: 2, count: 50 });
    expect(result.mismatches).toBe(50);
    expect(result.roundTrips).toBe(0);
  });

  it("rejects bad options naming them", async () => {
    await expect(runDatagramLoad({ port: 9, flows: 0 })).rejects.toMatchObject({
      code: "ECHO_ERR_INVALID_ARG",
      message: expect.stringMatching(/options\.flows/),
    });
    await expect(runDatagramLoad({ port: 9, size: 4 })).rejects.toMatchObject({
      message: expect.stringMatching(/options\.size/),
    });
    await expect(runDatagramLoad({ host: "localhost", port: 9 })).rejects.toMatchObject({
      message: expect.stringMatching(/options\.host must be an IP address/),
    });
  });
});

describe("the CLIs with --udp", () => {
  it("echo-client --udp prints the reply datagram", async () => {
    const server = await startUdpServer(echoDatagram, servers);
    const { stdout } = await run(process.execPath, [
      echoClient,
      "--udp",
      "--port",
      String(server.port),
      "hello",
      "udp",
    ]);
    expect(stdout).toBe("hello udp\n");
  });

  it("echo-client --udp exits 1 with ECHO_ERR_TIMEOUT when nothing answers", async () => {
    const server = await startUdpServer(silent, servers);
    const failure = await run(process.execPath, [
      echoClient,
      "--udp",
      "--port",
      String(server.port),
      "--timeout",
      "50",
      "--retries",
      "1",
      "x",
    ]).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringMatching(/ECHO_ERR_TIMEOUT/) });
    expect(server.received).toBe(2);
  });

  it("echo-load --udp --json reports lost, reordered and the load generator's own cost", async () => {
    const server = await startUdpServer(echoDatagram, servers);
    const { stdout } = await run(process.execPath, [
      echoLoad,
      "--udp",
      "--port",
      String(server.port),
      "-c",
      "3",
      "--pipeline",
      "2",
      "-n",
      "300",
      "--json",
    ]);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ transport: "udp", flows: 3, window: 2, sent: 300, mismatches: 0, errors: 0 });
    expect(typeof result.lost).toBe("number");
    expect(typeof result.reordered).toBe("number");
    expect(result.cost).toMatchObject({
      cpuPerRoundTripUs: expect.any(Number),
      threads: [{ name: "main", busy: expect.any(Number) }],
    });
  });

  it("echo-load --udp refuses TCP-only flags", async () => {
    const failure = await run(process.execPath, [echoLoad, "--udp", "--port", "9", "--threads", "2"]).catch(
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringMatching(/--threads cannot be used with --udp/) });
  });
});

describe("saturation warning", () => {
  it("names the busy thread and suggests --threads or the reference tool above 90% busy, and stays silent below", () => {
    const cost = (busy: number) => ({
      cpuMs: 1,
      cpuPerRoundTripUs: 1,
      threads: [{ name: "main", busy }],
      saturated: busy > SATURATED_BUSY,
    });
    expect(saturationWarning(cost(0.95))).toMatch(
      /main was 95% busy.*bounded by echo-load.*--threads N or ref-echo-load/,
    );
    expect(saturationWarning(cost(0.95), true)).toMatch(/ref-udp-echo-load/);
    expect(saturationWarning(cost(0.5))).toBeUndefined();
  });
});
