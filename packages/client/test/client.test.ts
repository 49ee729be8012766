import { afterEach, describe, expect, it } from "vitest";
import { ClientErrorCodes, EchoClient, EchoClientError } from "@echo/client";
import {
  closeAll,
  corrupt,
  echo,
  echoThenEnd,
  fullBacklog,
  hasIPv6,
  randomBytes,
  startServer,
  unusedPort,
} from "./helpers.js";

const clients: EchoClient[] = [];
async function connect(...args: Parameters<typeof EchoClient.connect>): Promise<EchoClient> {
  const client = await EchoClient.connect(...args);
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await closeAll();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(EchoClientError);
    return (error as EchoClientError).code;
  }
  throw new Error("expected a rejection");
}

describe("EchoClient round trips", () => {
  const sizes = [1, 2, 3, 100, 1460, 4096, 65535, 65536, 65537, 1_000_000, 8 * 1024 * 1024];
  it.each(sizes)("request() of %i random bytes comes back byte for byte", async (size) => {
    const server = await startServer(echo);
    const client = await connect({ host: "127.0.0.1", port: server.port });
    const data = randomBytes(size);
    const reply = await client.request(data, { verify: true });
    expect(reply.length).toBe(size);
    expect(reply.equals(data)).toBe(true);
  });

  it("request() of 8 MiB twice on one connection (writes and reads run concurrently)", async () => {
    const server = await startServer(echo);
    const client = await connect({ port: server.port });
    for (let i = 0; i < 2; i++) {
      const data = randomBytes(8 * 1024 * 1024 + 17);
      expect((await client.request(data)).equals(data)).toBe(true);
    }
    expect(client.bytesRead).toBe(2 * (8 * 1024 * 1024 + 17));
    expect(client.bytesWritten).toBe(2 * (8 * 1024 * 1024 + 17));
  });

  it("a string is sent as UTF-8", async () => {
    const server = await startServer(echo);
    const client = await connect({ port: server.port });
    expect((await client.request("héllo wörld")).toString("utf8")).toBe("héllo wörld");
  });

  it("an empty request resolves with an empty buffer", async () => {
    const server = await startServer(echo);
    const client = await connect({ port: server.port });
    expect((await client.request(Buffer.alloc(0))).length).toBe(0);
    expect((await client.request("ok")).toString()).toBe("ok");
  });

  it("concurrent requests each get their own share of the stream (pipelining)", async () => {
    const server = await startServer(echo);
    const client = await connect({ port: server.port });
    const payloads = Array.from({ length: 50 }, (_, i) => randomBytes(1 + i * 997));
    const replies = await Promise.all(payloads.map((p) => client.request(p)));
    replies.forEach((reply, i) => expect(reply.equals(payloads[i] as Buffer)).toBe(true));
  });

  it("works over a Unix domain socket", async () => {
    const server = await startServer(echo, "unix");
    const client = await connect({ path: server.path as string });
    expect(client.transport).toBe("unix");
    expect(client.target).toBe(server.path);
    const data = randomBytes(300_000);
    expect((await client.request(data)).equals(data)).toBe(true);
  });

  it("works over IPv6 (::1) when the machine has it", async (ctx) => {
    if (!(await hasIPv6())) ctx.skip();
    const server = await startServer(echo, "v6");
    const client = await connect({ host: "::1", port: server.port });
    expect(client.target).toBe(`[::1]:${server.port}`);
    expect((await client.request("six")).toString()).toBe("six");
  });

  it("send() + end() + readUntilEnd() reads everything until the server closes", async () => {
    const server = await startServer(echo);
    const client = await connect({ port: server.port });
    const all = client.readUntilEnd();
    await client.send("one ");
    await client.send(Buffer.from("two"));
    await client.end();
    expect((await all).toString()).toBe("one two");
  });

  it("receive(size) waits for exactly size bytes; receive() returns null at end of stream", async () => {
    const server = await startServer(echo);
    const client = await connect({ port: server.port });
    await client.send("abcdef");
    expect((await client.receive(2)).toString()).toBe("ab");
    expect((await client.receive(4)).toString()).toBe("cdef");
    await client.end();
    expect(await client.receive()).toBeNull();
  });

  it("bytes that arrive before a read is asked for are kept", async () => {
    const server = await startServer(echo);
    const client = await connect({ port: server.port });
    await client.request("x"); // the echo of "later" below arrives while nothing reads
    await client.send("later");
    const rest = await client.receive(5);
    expect(rest.toString()).toBe("later");
  });
});

describe("EchoClient errors", () => {
  it("connecting to a port nobody listens on fails with ECHO_ERR_CONNECT_REFUSED", async () => {
    const port = await unusedPort();
    const promise = EchoClient.connect({ port });
    expect(await codeOf(promise)).toBe(ClientErrorCodes.CONNECT_REFUSED);
    await expect(EchoClient.connect({ port })).rejects.toThrow(/connection refused by 127\.0\.0\.1:\d+/);
  });

  it("connecting to a missing Unix socket fails with ECHO_ERR_CONNECT_REFUSED", async () => {
    expect(await codeOf(EchoClient.connect({ path: "/nonexistent/echo-client-test.sock" }))).toBe(
      ClientErrorCodes.CONNECT_REFUSED,
    );
  });

  it("a listener that never accepts (full backlog) makes connect time out with ECHO_ERR_CONNECT_TIMEOUT", async () => {
    const backlog = await fullBacklog();
    try {
      const promise = EchoClient.connect({ port: backlog.port }, { timeout: 200 });
      expect(await codeOf(promise)).toBe(ClientErrorCodes.CONNECT_TIMEOUT);
      await expect(EchoClient.connect({ port: backlog.port }, { timeout: 100 })).rejects.toThrow(
        /timed out after 100 ms/,
      );
    } finally {
      await backlog.close();
    }
  });

  it("a server reset rejects the request with ECHO_ERR_RESET", async () => {
    const server = await startServer((socket) => socket.once("data", () => socket.resetAndDestroy()));
    const client = await connect({ port: server.port });
    expect(await codeOf(client.request("boom"))).toBe(ClientErrorCodes.RESET);
    expect(await codeOf(client.send("again"))).toBe(ClientErrorCodes.RESET);
  });

  it("a server that closes before the whole echo rejects with ECHO_ERR_CLOSED", async () => {
    const server = await startServer(echoThenEnd(3));
    const client = await connect({ port: server.port });
    const promise = client.request("abcdef");
    expect(await codeOf(promise)).toBe(ClientErrorCodes.CLOSED);
    await expect(client.request("x")).rejects.toThrow(/closed the connection/);
  });

  it("a server that never answers makes request({ timeout }) fail with ECHO_ERR_TIMEOUT and closes the client", async () => {
    const server = await startServer(() => undefined);
    const client = await connect({ port: server.port });
    expect(await codeOf(client.request("hello?", { timeout: 100 }))).toBe(ClientErrorCodes.TIMEOUT);
    await expect(client.receive(1)).rejects.toThrow(/timed out after 100 ms/);
    await client.close();
    expect(client.closed).toBe(true);
  });

  it("verify: a corrupted echo rejects with ECHO_ERR_MISMATCH", async () => {
    const server = await startServer(corrupt);
    const client = await connect({ port: server.port });
    const promise = client.request("abc", { verify: true });
    expect(await codeOf(promise)).toBe(ClientErrorCodes.MISMATCH);
    await expect(client.request("abc", { verify: true })).rejects.toThrow(/at byte 0 of 3/);
  });

  it("writing after end() or close() fails with ECHO_ERR_SOCKET", async () => {
    const server = await startServer(echo);
    const a = await connect({ port: server.port });
    await a.end();
    expect(await codeOf(a.send("late"))).toBe(ClientErrorCodes.SOCKET);
    const b = await connect({ port: server.port });
    const pending = codeOf(b.receive(10));
    await b.close();
    expect(await pending).toBe(ClientErrorCodes.SOCKET);
    expect(await codeOf(b.request("late"))).toBe(ClientErrorCodes.SOCKET);
  });

  it("the constructor is private", async () => {
    const server = await startServer(echo);
    const client = await connect({ port: server.port });
    const Ctor = client.constructor as new (...args: unknown[]) => unknown;
    expect(() => new Ctor(null, null, Symbol("x"))).toThrow(/EchoClient\.connect/);
  });
});

describe("EchoClient argument validation", () => {
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ["target not an object", () => EchoClient.connect(null as never), /^target must be an object/],
    [
      "port missing",
      () => EchoClient.connect({} as never),
      /^target\.port must be an integer from 1 to 65535, got undefined/,
    ],
    [
      "port out of range",
      () => EchoClient.connect({ port: 70000 }),
      /^target\.port must be an integer from 1 to 65535, got 70000/,
    ],
    ["host empty", () => EchoClient.connect({ host: "", port: 1 }), /^target\.host must be a non-empty string/],
    ["path empty", () => EchoClient.connect({ path: "" }), /^target\.path must be a non-empty string/],
    [
      "path and port",
      () => EchoClient.connect({ path: "/x", port: 1 }),
      /^target must have either path or port, not both/,
    ],
    ["options not an object", () => EchoClient.connect({ port: 1 }, 5 as never), /^options must be an object/],
    [
      "timeout negative",
      () => EchoClient.connect({ port: 1 }, { timeout: -1 }),
      /^options\.timeout must be a non-negative integer \(milliseconds\), got -1/,
    ],
    [
      "noDelay not boolean",
      () => EchoClient.connect({ port: 1 }, { noDelay: "yes" as never }),
      /^options\.noDelay must be a boolean/,
    ],
  ];
  it.each(cases)("%s", async (_name, call, message) => {
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EchoClientError);
    expect((error as EchoClientError).code).toBe("ECHO_ERR_INVALID_ARG");
    expect((error as EchoClientError).message).toMatch(message);
  });

  it("request/receive arguments are checked", async () => {
    const server = await startServer(echo);
    const client = await connect({ port: server.port });
    await expect(client.request(42 as never)).rejects.toThrow(
      /^data must be a string, a Buffer or a Uint8Array, got 42/,
    );
    await expect(client.request("x", { timeout: 1.5 })).rejects.toThrow(
      /^options\.timeout must be a non-negative integer/,
    );
    await expect(client.request("x", { verify: 1 as never })).rejects.toThrow(/^options\.verify must be a boolean/);
    await expect(client.receive(-1)).rejects.toThrow(/^size must be a non-negative integer, got -1/);
    await expect(client.readUntilEnd({ timeout: -5 })).rejects.toThrow(
      /^options\.timeout must be a non-negative integer/,
    );
  });
});
