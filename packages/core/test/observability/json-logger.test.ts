import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { roundTrip } from "@echo/conformance";
import { EchoServer } from "@echo/core";
import { createJsonLogger } from "../../src/observability/json-logger.js";
import { checkLogFormat } from "../../src/observability/log-format.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function collector() {
  const lines: string[] = [];
  return { lines, destination: { write: (chunk: string) => void lines.push(...chunk.split("\n").filter(Boolean)) } };
}

const FIVE = {
  level: expect.any(String),
  time: expect.any(String),
  msg: expect.any(String),
  model: expect.any(String),
  worker: expect.any(String),
};

describe("createJsonLogger", () => {
  it("writes one parseable object per line with level, time, msg, model and worker, plus the event", () => {
    const { lines, destination } = collector();
    const logger = createJsonLogger({ model: "prefork", destination });
    expect(logger.structured).toBe(true);
    logger.info("echo-prefork listening on 127.0.0.1:9000", { event: "listening", address: "127.0.0.1:9000" });
    logger.error("[echo-prefork] Process-3 (pid 42) died (killed by SIGKILL) while listening; replacing it", {
      event: "worker-exit",
      process: "Process-3",
      pid: 42,
      signal: "SIGKILL",
    });
    logger.child("Process-4").info("Connected by 127.0.0.1:50312", { event: "connection", remote: "127.0.0.1:50312" });
    logger.info("plain message");
    // Each key once: JSON.parse would hide a duplicate by keeping the last.
    for (const l of lines)
      for (const key of ["level", "time", "msg", "model", "worker", "pid"])
        expect(l.split(`"${key}":`)).toHaveLength(2);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed).toHaveLength(4);
    for (const p of parsed) expect(p).toMatchObject(FIVE);
    expect(parsed[0]).toMatchObject({
      level: "info",
      model: "prefork",
      worker: "MainThread",
      event: "listening",
      address: "127.0.0.1:9000",
      msg: "echo-prefork listening on 127.0.0.1:9000",
      pid: process.pid,
    });
    expect(new Date(parsed[0]!.time as string).toISOString()).toBe(parsed[0]!.time);
    // The pid field is the logging process's; a field named like a reserved one is dropped.
    expect(parsed[1]).toMatchObject({
      level: "error",
      event: "worker-exit",
      process: "Process-3",
      signal: "SIGKILL",
      pid: process.pid,
    });
    expect(parsed[2]).toMatchObject({ worker: "Process-4", event: "connection" });
    expect(parsed[3]).not.toHaveProperty("event");
  });

  it("drops reserved keys from fields instead of writing them twice, and serialises err", () => {
    const { lines, destination } = collector();
    const logger = createJsonLogger({ model: "async", worker: "Thread-2", destination });
    const failure = Object.assign(new Error("boom"), { code: "ECHO_ERR_HANDLER" });
    logger.error("handler onData failed: boom", {
      event: "handler-error",
      err: failure,
      worker: "evil",
      level: "x",
      msg: "y",
      time: 1,
    });
    expect(lines[0]!.match(/"worker"/g)).toHaveLength(1);
    expect(lines[0]!.match(/"msg"/g)).toHaveLength(1);
    const p = JSON.parse(lines[0]!) as { err: { stack?: unknown } };
    expect(p).toMatchObject({
      level: "error",
      worker: "Thread-2",
      msg: "handler onData failed: boom",
      err: { type: "Error", message: "boom", code: "ECHO_ERR_HANDLER" },
    });
    expect(typeof p.err.stack).toBe("string");
  });

  it("writes synchronously to a file descriptor", () => {
    const dir = mkdtempSync(join(tmpdir(), "echo-log-"));
    dirs.push(dir);
    const file = join(dir, "log.jsonl");
    const fd = openSync(file, "w");
    try {
      const logger = createJsonLogger({ model: "selector", worker: "SelectorThread", destination: fd });
      logger.info("one", { event: "drain" });
      logger.info("two", { event: "exit", code: 0 });
      const lines = readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as unknown);
      expect(lines).toMatchObject([
        { ...FIVE, msg: "one", event: "drain", worker: "SelectorThread" },
        { msg: "two", event: "exit", code: 0 },
      ]);
    } finally {
      closeSync(fd);
    }
  });

  it("is a Logger today's EchoServer accepts: its connection lines come out as JSON", async () => {
    const { lines, destination } = collector();
    const server = new EchoServer({
      model: "async",
      logConnections: true,
      logger: createJsonLogger({ model: "async", destination }),
    });
    const address = await server.listen();
    if (address.kind !== "tcp") throw new Error("expected tcp");
    try {
      expect((await roundTrip({ host: address.host, port: address.port }, "hi")).toString()).toBe("hi");
    } finally {
      await server.close({ timeout: 0 });
    }
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines)
      expect(JSON.parse(l)).toMatchObject({ ...FIVE, level: "info", model: "async", worker: "MainThread" });
    expect((JSON.parse(lines[0]!) as { msg: string }).msg).toMatch(/^Connected by 127\.0\.0\.1:\d+$/);
  });

  it("validates its options and the --log-format value, naming them", () => {
    expect(() => createJsonLogger({ model: "" })).toThrow("options.model must be a non-empty string");
    expect(() => createJsonLogger({ model: "a", worker: "" })).toThrow("options.worker must be a non-empty string");
    expect(() => createJsonLogger({ model: "a", destination: -1 })).toThrow(
      "options.destination must be a file descriptor or a stream, got -1",
    );
    expect(() => createJsonLogger({ model: "a", destination: {} as never })).toThrow(
      "options.destination must be a file descriptor or an object with write(line)",
    );
    expect(checkLogFormat("json")).toBe("json");
    expect(checkLogFormat("text")).toBe("text");
    expect(() => checkLogFormat("yaml")).toThrow('--log-format must be "text" or "json", got "yaml"');
  });
});
