import { once } from "node:events";
import { createServer as createNetServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { open, readExactly } from "@echo/conformance";
import { EchoServer } from "@echo/core";
import { ObservabilityEndpoint } from "../../src/observability/endpoint.js";
import { http } from "./helpers.js";

const quiet = { info: () => {}, error: () => {} };
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function endpointOn(options: ConstructorParameters<typeof ObservabilityEndpoint>[0] = {}) {
  const endpoint = new ObservabilityEndpoint(options);
  cleanups.push(() => endpoint.close());
  const address = await endpoint.listen();
  return { endpoint, address, port: address.port };
}

describe("ObservabilityEndpoint", () => {
  it("readyz turns 503 when the drain starts while healthz stays 200, and the draining server still serves", async () => {
    const server = new EchoServer({ model: "async", logger: quiet });
    cleanups.push(() => server.close({ timeout: 0 }));
    const { endpoint, port } = await endpointOn({ stats: () => server.stats() });
    expect((await http(port, "/readyz")).status).toBe(503);
    server.once("listening", () => endpoint.setReady());
    const address = await server.listen();
    if (address.kind !== "tcp") throw new Error("expected tcp");
    expect(await http(port, "/readyz")).toMatchObject({ status: 200, body: "ready\n" });

    // This client holds the drain open: close() waits for it.
    const client = await open({ host: address.host, port: address.port });
    client.write("before");
    expect((await readExactly(client, 6)).toString()).toBe("before");
    endpoint.setDraining();
    const closing = server.close({ timeout: 60_000 });
    let closed = false;
    void closing.then(() => (closed = true));

    expect(await http(port, "/readyz")).toMatchObject({ status: 503, body: "draining\n" });
    expect(await http(port, "/healthz")).toMatchObject({ status: 200, body: "ok\n" });
    client.write("during");
    expect((await readExactly(client, 6)).toString()).toBe("during");
    expect(closed).toBe(false);
    expect(JSON.parse((await http(port, "/stats")).body)).toMatchObject({ active: 1 });
    endpoint.setReady(); // too late: draining is for good
    expect((await http(port, "/readyz")).status).toBe(503);

    client.end();
    await closing;
    expect((await http(port, "/readyz")).status).toBe(503);
    expect((await http(port, "/healthz")).status).toBe(200);
  });

  it("binds loopback by default, answers 404 elsewhere, 405 with Allow for other methods, HEAD without a body", async () => {
    const { address, port } = await endpointOn({
      metrics: { contentType: "text/plain; version=0.0.4; charset=utf-8", metrics: () => Promise.resolve("m 1\n") },
    });
    expect(address).toMatchObject({ host: "127.0.0.1", family: "IPv4" });
    expect(await http(port, "/nope")).toMatchObject({ status: 404 });
    expect(await http(port, "/stats")).toMatchObject({ status: 404 });
    expect(await http(port, "/metrics?debug=1")).toMatchObject({ status: 200, body: "m 1\n" });
    const post = await http(port, "/metrics", "POST");
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
    expect(await http(port, "/healthz", "DELETE")).toMatchObject({ status: 405 });
    const head = await http(port, "/healthz", "HEAD");
    expect(head).toMatchObject({ status: 200, body: "" });
    expect(head.headers["content-length"]).toBe("3");
  });

  it("answers 500 with the message when metrics or stats fail, and keeps answering", async () => {
    const { port } = await endpointOn({
      metrics: { contentType: "text/plain", metrics: () => Promise.reject(new Error("source broke")) },
      stats: () => {
        throw new Error("no stats");
      },
    });
    expect(await http(port, "/metrics")).toMatchObject({ status: 500, body: "source broke\n" });
    expect(await http(port, "/stats")).toMatchObject({ status: 500, body: "no stats\n" });
    expect(await http(port, "/healthz")).toMatchObject({ status: 200 });
  });

  it("listens on [::1] when asked", async () => {
    const { address } = await endpointOn({ host: "::1" });
    expect(address).toMatchObject({ host: "::1", family: "IPv6" });
    expect((await http(address.port, "/healthz", "GET", "::1")).status).toBe(200);
  });

  it("a taken port is a typed error", async () => {
    const holder: Server = createNetServer();
    holder.listen(0, "127.0.0.1");
    await once(holder, "listening");
    cleanups.push(() => new Promise((resolve) => holder.close(resolve)));
    const port = (holder.address() as { port: number }).port;
    const endpoint = new ObservabilityEndpoint({ port });
    await expect(endpoint.listen()).rejects.toMatchObject({
      code: "ECHO_ERR_ADDR_IN_USE",
      message: `address 127.0.0.1:${port} is already in use`,
    });
  });

  it("close() also closes kept-alive connections", async () => {
    const { endpoint, port } = await endpointOn();
    const socket = await open({ host: "127.0.0.1", port });
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    await once(socket, "data");
    const ended = once(socket, "close");
    await endpoint.close();
    await ended;
  });

  it("validates its options, naming them", () => {
    expect(() => new ObservabilityEndpoint({ port: 70000 })).toThrow(
      "options.port must be an integer between 0 and 65535, got 70000",
    );
    expect(() => new ObservabilityEndpoint({ metrics: {} as never })).toThrow(
      "options.metrics must have metrics() and contentType",
    );
    expect(() => new ObservabilityEndpoint({ stats: 1 as never })).toThrow("options.stats must be a function");
    expect(() => new ObservabilityEndpoint({ readiness: "up" as never })).toThrow(
      'options.readiness must be one of "starting", "ready", "draining", got "up"',
    );
  });
});
