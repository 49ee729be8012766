// Option validation: one test per message, and no process is forked by a bad option.
import { describe, expect, it } from "vitest";
import { PreforkServer, type PreforkOptions } from "@echo/prefork";
// Internal: the normalized options are not public; their defaults are checked from the source.
import { normalizePreforkOptions } from "../src/options.js";

const bad: [string, unknown, RegExp][] = [
  [
    "handler",
    { onData() {} },
    /^options\.handler must be a handler name, a module path or a URL \(every worker process imports the module itself/,
  ],
  ["handler", "", /^options\.handler must be a handler name/],
  ["workers", 0, /^options\.workers must be an integer between 1 and 1024, got 0$/],
  ["workers", 1.5, /^options\.workers must be an integer between 1 and 1024, got 1\.5$/],
  ["schedule", "random", /^options\.schedule must be one of "os", "round-robin", got "random"$/],
  ["heartbeatInterval", 5, /^options\.heartbeatInterval must be an integer between 10 and \d+, got 5$/],
  ["heartbeatTimeout", "1s", /^options\.heartbeatTimeout must be an integer between 1 and \d+, got "1s"$/],
  ["bootTimeout", 0, /^options\.bootTimeout must be an integer between 1 and \d+, got 0$/],
  ["maxRequests", -1, /^options\.maxRequests must be an integer >= 0, got -1$/],
  ["maxRequestsJitter", "x", /^options\.maxRequestsJitter must be an integer >= 0, got "x"$/],
  ["backoffInitial", -1, /^options\.backoffInitial must be an integer between 0 and \d+, got -1$/],
  ["backoffMax", 1.5, /^options\.backoffMax must be an integer between 0 and \d+, got 1\.5$/],
  ["maxCrashes", -1, /^options\.maxCrashes must be an integer >= 0, got -1$/],
  ["crashWindow", 0, /^options\.crashWindow must be an integer between 1 and \d+, got 0$/],
  ["privileges", "nobody", /^options\.privileges must be an object, got "nobody"$/],
  ["execArgv", "--inspect", /^options\.execArgv must be an array of strings$/],
  ["logConnections", "yes", /^options\.logConnections must be a boolean, got "yes"$/],
  ["logger", {}, /^options\.logger must be an object with info\(message\) and error\(message\) functions$/],
  ["port", 70000, /^options\.port must be an integer between 0 and 65535, got 70000$/],
  ["maxConnections", 0, /^options\.maxConnections must be an integer >= 1, got 0$/],
];

describe("new PreforkServer(options) validation", () => {
  for (const [key, value, message] of bad) {
    it(`rejects options.${key} = ${JSON.stringify(value) ?? typeof value}`, () => {
      expect(() => new PreforkServer({ [key]: value })).toThrow(message);
      expect(() => new PreforkServer({ [key]: value })).toThrow(
        expect.objectContaining({ code: "ECHO_ERR_INVALID_ARG" }),
      );
    });
  }

  it("rejects options that are not an object", () => {
    expect(() => new PreforkServer(42 as unknown as PreforkOptions)).toThrow(/^options must be an object, got 42$/);
  });

  it("rejects handlerOptions that cannot be sent to workers", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => new PreforkServer({ handlerOptions: circular })).toThrow(
      /^options\.handlerOptions must be JSON-serializable/,
    );
  });

  it("rejects a heartbeatTimeout not above heartbeatInterval", () => {
    expect(() => new PreforkServer({ heartbeatInterval: 500, heartbeatTimeout: 500 })).toThrow(
      /^options\.heartbeatTimeout \(500\) must be greater than options\.heartbeatInterval \(500\)$/,
    );
  });

  it("rejects a backoffMax below backoffInitial", () => {
    expect(() => new PreforkServer({ backoffInitial: 500, backoffMax: 100 })).toThrow(
      /^options\.backoffMax \(100\) must be at least options\.backoffInitial \(500\)$/,
    );
  });

  it("rejects bad privileges fields", () => {
    expect(() => new PreforkServer({ privileges: { user: "" } })).toThrow(
      /^options\.privileges\.user must be a non-empty string$/,
    );
    expect(() => new PreforkServer({ privileges: { group: 7 as unknown as string } })).toThrow(
      /^options\.privileges\.group must be a non-empty string$/,
    );
    expect(() => new PreforkServer({ privileges: { umask: 0o1000 } })).toThrow(
      /^options\.privileges\.umask must be an integer between 0 and 511, got 512$/,
    );
  });

  it("applies defaults", () => {
    const o = normalizePreforkOptions({});
    expect(o).toMatchObject({
      handler: "echo",
      schedule: "os",
      heartbeatInterval: 1000,
      heartbeatTimeout: 10_000,
      bootTimeout: 30_000,
      maxRequests: 0,
      maxRequestsJitter: 0,
      backoffInitial: 100,
      backoffMax: 10_000,
      maxCrashes: 10,
      crashWindow: 60_000,
      privileges: undefined,
      logConnections: false,
      listen: { host: "127.0.0.1", port: 0, backlog: 511 },
    });
    expect(o.workers).toBeGreaterThanOrEqual(1);
  });

  it("methods other than listen/close need a listening server", async () => {
    const server = new PreforkServer({ execArgv: [] });
    expect(() => server.address()).toThrow(/not listening/);
    await expect(server.reload()).rejects.toMatchObject({ code: "ECHO_ERR_SERVER_STATE" });
    await expect(server.addWorker()).rejects.toMatchObject({ code: "ECHO_ERR_SERVER_STATE" });
    await expect(server.removeWorker()).rejects.toMatchObject({ code: "ECHO_ERR_SERVER_STATE" });
    await server.close();
    await expect(server.listen()).rejects.toMatchObject({
      code: "ECHO_ERR_SERVER_STATE",
      message: "listen() called on a server that is closed",
    });
    await server.finished;
  });
});
