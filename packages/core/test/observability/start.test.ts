import { afterEach, describe, expect, it } from "vitest";
import { roundTrip } from "@echo/conformance";
import { EchoServer } from "@echo/core";
import { normalizeMetricsAddress, startObservability, type Observability } from "../../src/observability/start.js";
import { http, parseProm, until, value } from "./helpers.js";

const quiet = { info: () => {}, error: () => {} };
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("startObservability", () => {
  it("wires an EchoServer to an endpoint the way a model will: ready on listen, draining on close, closed after", async () => {
    const server = new EchoServer({ model: "iterative", logger: quiet });
    cleanups.push(() => server.close({ timeout: 0 }));
    const obs: Observability = await startObservability({
      address: "127.0.0.1:0",
      model: "iterative",
      defaultMetrics: false,
      source: () => ({ workers: [{ worker: "MainThread", stats: server.stats() }] }),
      stats: () => server.stats(),
    });
    cleanups.push(() => obs.close());
    const port = obs.address.port;
    expect(obs.address.host).toBe("127.0.0.1");
    expect((await http(port, "/readyz")).status).toBe(503);
    const address = await server.listen();
    if (address.kind !== "tcp") throw new Error("expected tcp");
    obs.setReady();
    expect((await http(port, "/readyz")).status).toBe(200);
    expect((await roundTrip({ host: address.host, port: address.port }, "abc")).toString()).toBe("abc");
    await until(() => server.stats().closed === 1, "the connection to close");
    const samples = parseProm((await http(port, "/metrics")).body);
    expect(value(samples, "echo_connections_accepted_total", { model: "iterative", worker: "all" })).toBe(1);
    expect(value(samples, "echo_received_bytes_total", { model: "iterative", worker: "MainThread" })).toBe(3);
    obs.setDraining();
    await server.close();
    expect((await http(port, "/readyz")).status).toBe(503);
    await obs.close();
    await expect(http(port, "/healthz")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("rejects a bad address before binding anything, with the typed error", async () => {
    const source = () => ({ workers: [] });
    await expect(startObservability({ address: "[::1]", model: "m", source, stats: () => ({}) })).rejects.toMatchObject(
      {
        name: "InvalidMetricsAddressError",
        code: "ECHO_ERR_INVALID_ARG",
        message: expect.stringMatching(/^options\.metrics must be PORT, HOST:PORT or \[IPV6\]:PORT/),
      },
    );
    expect(normalizeMetricsAddress({ port: 9464 })).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(normalizeMetricsAddress({ host: "::1", port: 0 })).toEqual({ host: "::1", port: 0 });
    expect(() => normalizeMetricsAddress({ host: "", port: 1 })).toThrow(
      "options.metrics.host must be a non-empty string",
    );
    expect(() => normalizeMetricsAddress({ port: "x" })).toThrow(
      "options.metrics.port must be an integer from 0 to 65535, got string",
    );
    expect(() => normalizeMetricsAddress({ port: 65536 })).toThrow(
      "options.metrics.port must be an integer from 0 to 65535, got 65536",
    );
  });
});
