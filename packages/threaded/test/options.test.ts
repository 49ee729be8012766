import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { ErrorCodes } from "@echo/core";
import { MAX_THREADS, ThreadedServer, createThreadedServer, type ThreadedServerOptions } from "@echo/threaded";

function invalid(options: unknown): unknown {
  try {
    new ThreadedServer(options as ThreadedServerOptions);
  } catch (error) {
    return error;
  }
  throw new Error("the constructor accepted the options");
}

describe("option validation", () => {
  it.each([
    [{ threads: 0 }, `options.threads must be an integer between 1 and ${MAX_THREADS}, got 0`],
    [{ threads: 1.5 }, `options.threads must be an integer between 1 and ${MAX_THREADS}, got 1.5`],
    [{ threads: "4" }, `options.threads must be an integer between 1 and ${MAX_THREADS}, got "4"`],
    [
      { threads: MAX_THREADS + 1 },
      `options.threads must be an integer between 1 and ${MAX_THREADS}, got ${MAX_THREADS + 1}`,
    ],
    [
      { handler: { onData() {} } },
      "options.handler must be a handler name, a module path or a URL (each thread imports the module itself, so a handler object cannot be passed), got object",
    ],
    [
      { handler: "" },
      'options.handler must be a handler name, a module path or a URL (each thread imports the module itself, so a handler object cannot be passed), got ""',
    ],
    [{ handlerOptions: { f() {} } }, /^options\.handlerOptions must be structured-cloneable to reach the threads: /],
    [{ path: "/tmp/echo.sock" }, /^options\.path is not supported by ThreadedServer/],
    [{ accept: "round-robin" }, 'options.accept must be one of "auto", "reusePort", "shared", got "round-robin"'],
    [{ logConnections: "yes" }, 'options.logConnections must be a boolean, got "yes"'],
    [{ logger: {} }, "options.logger must be an object with info(message) and error(message) functions"],
    [{ port: 70000 }, "options.port must be an integer between 0 and 65535, got 70000"],
    [{ maxConnections: 0 }, "options.maxConnections must be an integer >= 1, got 0"],
    [{ closeTimeout: -1 }, /^options\.closeTimeout must be an integer between 0 and/],
    [7, "options must be an object, got 7"],
  ])("rejects %j", (options, message) => {
    const error = invalid(options);
    expect(error).toMatchObject({ name: "InvalidArgumentError", code: ErrorCodes.INVALID_ARG });
    if (typeof message === "string") expect((error as Error).message).toBe(message);
    else expect((error as Error).message).toMatch(message);
  });

  it("createThreadedServer(options) is new ThreadedServer(options)", () => {
    const server = createThreadedServer({ threads: 2, maxConnections: 5 });
    expect(server).toBeInstanceOf(ThreadedServer);
    expect(server.threads).toBe(2);
    expect(server.limits.maxConnections).toBe(5);
    expect(() => createThreadedServer({ threads: 0 })).toThrow(
      /^options\.threads must be an integer between 1 and 1024, got 0$/,
    );
  });

  it("defaults to one thread per available CPU and core's limits", () => {
    const server = new ThreadedServer();
    expect(server.threads).toBe(availableParallelism());
    expect(server.limits).toEqual({
      maxConnections: 10_000,
      idleTimeout: 60_000,
      maxBuffered: 1024 * 1024,
      closeTimeout: 10_000,
    });
    expect(server.acceptPath).toBeUndefined();
  });

  it("validates close() options", async () => {
    const server = new ThreadedServer({ threads: 1 });
    expect(() => server.close({ timeout: -5 })).toThrow(
      "options.closeTimeout must be an integer between 0 and 2147483647, got -5",
    );
    await server.close();
  });
});
