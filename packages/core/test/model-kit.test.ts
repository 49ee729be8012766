import { describe, expect, it } from "vitest";
import { AddressInUseError, EchoError, ErrorCodes, HandlerLoadError, InvalidArgumentError } from "@echo/core";
import {
  drainConnections,
  fromWire,
  normalizeModelOptions,
  parseServerArgs,
  toWire,
  type FlagSpec,
  type WireError,
} from "@echo/core/model-kit";

class CustomError extends EchoError {
  readonly fd: number;
  constructor(fd: number) {
    super("ECHO_ERR_CUSTOM", `custom ${fd}`);
    this.name = "CustomError";
    this.fd = fd;
  }
}

describe("toWire / fromWire", () => {
  it("rebuilds core's classes with name, code, message and fields word for word, through JSON", () => {
    const sent = new AddressInUseError("127.0.0.1:7", {
      cause: Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE" }),
    });
    const back = fromWire(JSON.parse(JSON.stringify(toWire(sent))) as WireError);
    expect(back).toBeInstanceOf(AddressInUseError);
    expect(back).toBeInstanceOf(EchoError);
    expect(back).toBeInstanceOf(Error);
    expect(back).toMatchObject({
      name: "AddressInUseError",
      code: ErrorCodes.ADDR_IN_USE,
      message: sent.message,
      address: "127.0.0.1:7",
    });
    expect(back.cause).toMatchObject({ code: "EADDRINUSE", message: "listen EADDRINUSE" });
    expect(back.stack).toContain("AddressInUseError");
  });

  it("keeps a HandlerLoadError's handler label and message", () => {
    const back = fromWire(structuredClone(toWire(new HandlerLoadError("./h.mjs", "boom"))));
    expect(back).toBeInstanceOf(HandlerLoadError);
    expect(back).toMatchObject({ handler: "./h.mjs", message: 'cannot load handler "./h.mjs": boom' });
  });

  it("rebuilds a model's own class when given, EchoError for other ECHO_ERR codes, Error otherwise", () => {
    const wire = toWire(new CustomError(1500));
    expect(fromWire(wire, { ECHO_ERR_CUSTOM: CustomError })).toBeInstanceOf(CustomError);
    expect(fromWire(wire, { ECHO_ERR_CUSTOM: CustomError })).toMatchObject({
      fd: 1500,
      code: "ECHO_ERR_CUSTOM",
      name: "CustomError",
    });
    const plain = fromWire(wire);
    expect(plain).toBeInstanceOf(EchoError);
    expect(plain).not.toBeInstanceOf(CustomError);
    const other = fromWire(toWire("just a string"));
    expect(other.constructor).toBe(Error);
    expect(other.message).toBe("just a string");
  });
});

describe("drainConnections", () => {
  it("is drained at once with nothing open", async () => {
    let drained = 0;
    const drain = drainConnections({
      timeout: 10_000,
      open: () => 0,
      destroy: () => expect.fail("destroyed"),
      onDrained: () => drained++,
    });
    await drain.done;
    expect(drained).toBe(1);
  });

  it("waits for the last connection, then stops its deadline", async () => {
    let open = 2;
    const drain = drainConnections({ timeout: 60_000, open: () => open, destroy: () => expect.fail("destroyed") });
    open--;
    drain.closed();
    open--;
    drain.closed();
    await drain.done;
  });

  it("destroys what is still open at the deadline and reports a CloseTimeoutError", async () => {
    let open = 3;
    const errors: EchoError[] = [];
    const drain = drainConnections({
      timeout: 1,
      open: () => open,
      destroy: () => {
        open = 0;
        drain.closed();
      },
      onTimeout: (error) => errors.push(error),
    });
    await drain.done;
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      [ErrorCodes.CLOSE_TIMEOUT, "3 connection(s) still open after 1 ms: destroyed"],
    ]);
  });
});

describe("normalizeModelOptions", () => {
  const thread = { kind: "structuredClone", importer: "each thread", destination: "the threads" } as const;
  it("applies the shared defaults", () => {
    const o = normalizeModelOptions({ threads: 2 }, { carrier: thread });
    expect(o).toMatchObject({
      handler: "echo",
      logConnections: false,
      listen: { host: "127.0.0.1", port: 0 },
      limits: { maxConnections: 10000 },
    });
    expect(o.raw.threads).toBe(2);
  });

  it.each([
    [
      { handler: { onData() {} } },
      /^options\.handler must be a handler name, a module path or a URL \(each thread imports the module itself, so a handler object cannot be passed\), got object$/,
    ],
    [{ handlerOptions: { f() {} } }, /^options\.handlerOptions must be structured-cloneable to reach the threads: /],
    [{ logger: {} }, /^options\.logger must be an object with info/],
    [{ port: -1 }, /^options\.port must be an integer between 0 and 65535, got -1$/],
  ])("refuses %j naming the option", (options, message) => {
    expect(() => normalizeModelOptions(options, { carrier: thread })).toThrow(InvalidArgumentError);
    expect(() => normalizeModelOptions(options, { carrier: thread })).toThrow(message);
  });

  it("a process carrier needs JSON", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() =>
      normalizeModelOptions(
        { handlerOptions: circular },
        { carrier: { kind: "json", importer: "every worker", destination: "every worker" } },
      ),
    ).toThrow(/^options\.handlerOptions must be JSON-serializable to reach every worker: /);
  });
});

describe("the flag table", () => {
  const extra: Record<string, FlagSpec> = {
    threads: { kind: "integer", min: 1, max: 8, value: "N", description: "threads" },
    schedule: { kind: "choice", choices: ["os", "round-robin"], default: "os", description: "schedule" },
    fast: { kind: "boolean", description: "fast" },
    name: { kind: "string", value: "NAME", description: "name" },
  };
  it("parses each kind", () => {
    expect(
      parseServerArgs(["--threads", "3", "--schedule", "round-robin", "--fast", "--name", "x"], { extra }).extra,
    ).toEqual({
      threads: 3,
      schedule: "round-robin",
      fast: true,
      name: "x",
    });
    expect(parseServerArgs([], { extra }).extra).toEqual({
      threads: undefined,
      schedule: "os",
      fast: false,
      name: undefined,
    });
  });

  it.each([
    [["--threads", "9"], /^--threads must be an integer from 1 to 8, got "9"$/],
    [["--threads", "1.5"], /^--threads must be an integer from 1 to 8, got "1\.5"$/],
    [["--schedule", "fifo"], /^--schedule must be one of os, round-robin, got "fifo"$/],
  ])("refuses %j naming the flag", (argv, message) => {
    expect(() => parseServerArgs(argv, { extra })).toThrow(message);
  });

  it("an integer flag with `or` words takes those words as themselves and names them when refusing", () => {
    const loops: Record<string, FlagSpec> = {
      loops: { kind: "integer", min: 1, max: 4, or: ["auto"], description: "loops" },
    };
    expect(parseServerArgs(["--loops", "auto"], { extra: loops }).extra).toEqual({ loops: "auto" });
    expect(parseServerArgs(["--loops", "2"], { extra: loops }).extra).toEqual({ loops: 2 });
    expect(() => parseServerArgs(["--loops", "many"], { extra: loops })).toThrow(
      /^--loops must be an integer from 1 to 4 or auto, got "many"$/,
    );
  });
});
