import { describe, expect, it } from "vitest";
import { EchoServer, type ServerOptions } from "@echo/core";
import { parseServerArgs } from "@echo/core/model-kit";

const cases: [string, unknown, RegExp][] = [
  ["model", { model: "forking" }, /^options\.model must be one of "once", "iterative", "async", got "forking"$/],
  ["port", { port: 70000 }, /^options\.port must be an integer between 0 and 65535, got 70000$/],
  ["port type", { port: "80" }, /^options\.port must be an integer between 0 and 65535, got "80"$/],
  ["host", { host: "" }, /^options\.host must be a non-empty string, got ""$/],
  ["path", { path: 5 }, /^options\.path must be a non-empty string, got 5$/],
  ["ipv6Only", { ipv6Only: "yes" }, /^options\.ipv6Only must be a boolean, got "yes"$/],
  ["backlog", { backlog: 0 }, /^options\.backlog must be an integer between 1 and 65535, got 0$/],
  ["maxConnections", { maxConnections: 0 }, /^options\.maxConnections must be an integer >= 1, got 0$/],
  ["idleTimeout", { idleTimeout: -1 }, /^options\.idleTimeout must be an integer between 0 and 2147483647, got -1$/],
  ["maxBuffered", { maxBuffered: 10 }, /^options\.maxBuffered must be an integer >= 1024, got 10$/],
  [
    "closeTimeout",
    { closeTimeout: 1.5 },
    /^options\.closeTimeout must be an integer between 0 and 2147483647, got 1\.5$/,
  ],
  ["logger", { logger: {} }, /^options\.logger must be an object with info\(message\) and error\(message\) functions$/],
  ["logConnections", { logConnections: 1 }, /^options\.logConnections must be a boolean, got 1$/],
  ["workerName", { workerName: "" }, /^options\.workerName must be a non-empty string, got ""$/],
  ["handler", { handler: 42 }, /^options\.handler must be a handler name, a path, a URL or a handler$/],
];

describe("EchoServer options are validated up front", () => {
  for (const [name, options, message] of cases) {
    it(`rejects a bad ${name} with ECHO_ERR_INVALID_ARG`, () => {
      let caught: unknown;
      try {
        new EchoServer(options as ServerOptions);
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: "ECHO_ERR_INVALID_ARG", name: "InvalidArgumentError" });
      expect((caught as Error).message).toMatch(message);
    });
  }

  it("rejects a non-object options argument", () => {
    expect(() => new EchoServer(7 as unknown as ServerOptions)).toThrow(/^options must be an object, got 7$/);
  });

  it("applies documented defaults", () => {
    const server = new EchoServer();
    expect(server.model).toBe("async");
    expect(server.limits).toEqual({
      maxConnections: 10000,
      idleTimeout: 60000,
      maxBuffered: 1048576,
      closeTimeout: 10000,
    });
  });
});

describe("parseServerArgs", () => {
  it("parses the common flags", () => {
    const args = parseServerArgs(
      [
        "--host",
        "::1",
        "--port",
        "7",
        "--handler",
        "upper",
        "--max-connections",
        "5",
        "--idle-timeout",
        "0",
        "--max-buffered",
        "4096",
        "--close-timeout",
        "100",
        "--log-connections",
        "--user",
        "nobody",
        "--umask",
        "0027",
        "--mode",
        "iterative",
      ],
      { modes: ["once", "iterative", "async"], defaultMode: "async" },
    );
    expect(args.mode).toBe("iterative");
    expect(args.options).toEqual({
      handler: "upper",
      logConnections: true,
      host: "::1",
      port: 7,
      maxConnections: 5,
      idleTimeout: 0,
      maxBuffered: 4096,
      closeTimeout: 100,
    });
    expect(args.privileges).toEqual({ user: "nobody", umask: 0o027 });
  });

  for (const [argv, message] of [
    [["--port", "x"], /^--port must be an integer from 0 to 65535, got "x"$/],
    [["--max-connections", "0"], /^--max-connections must be an integer from 1, got "0"$/],
    [["--umask", "999"], /^--umask must be an octal mode such as 0007, got "999"$/],
    [["--mode", "forking"], /^--mode must be one of once, iterative, async, got "forking"$/],
    [["--bogus"], /Unknown option '--bogus'/],
  ] as const) {
    it(`rejects ${argv.join(" ")}`, () => {
      expect(() => parseServerArgs(argv, { modes: ["once", "iterative", "async"], defaultMode: "async" })).toThrow(
        message,
      );
    });
  }
});
