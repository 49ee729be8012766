/**
 * The conformance suite: every server model runs it unchanged. A package calls
 * `conformanceSuite(target)` from one of its test files.
 */
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { collect, open, randomBytes, readExactly, roundTrip, write, type TargetAddress } from "./net-helpers.js";

/** Options the suite asks a target to start with (limits are core's option names). */
export interface StartOptions {
  /** A built-in handler name or an absolute module path. */
  handler: string;
  maxConnections?: number;
  idleTimeout?: number;
  maxBuffered?: number;
  closeTimeout?: number;
  /** Listen on this Unix socket path instead of 127.0.0.1:0. */
  path?: string;
  /** Listen on this port of 127.0.0.1 instead of a free one. */
  port?: number;
}

/** An error class, as `@echo/core` exports it. */
type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * `@echo/core`'s error classes, as the target's package imports them (`import * as core from
 * "@echo/core"`), so the suite checks that every model rejects with core's very classes.
 */
export interface CoreErrors {
  EchoError: ErrorClass;
  InvalidArgumentError: ErrorClass;
  HandlerLoadError: ErrorClass;
  AddressInUseError: ErrorClass;
}

/** The counters the suite reads (a subset of core's StatsSnapshot). */
export interface SuiteStats {
  accepted: number;
  rejected: number;
  bytesIn: number;
  errors: number;
  timeouts: number;
  buffered: number;
}

/** A started server. */
export interface RunningTarget {
  address: TargetAddress;
  stats(): SuiteStats | Promise<SuiteStats>;
  close(): Promise<void>;
}

/** A server model under test. */
export interface ConformanceTarget {
  /** Shown in test names. */
  name: string;
  /** Starts a server with these options. `maxConnections` is the limit of the whole server. */
  start(options: StartOptions): Promise<RunningTarget>;
  /** Whether connections are served at the same time (false for `iterative` and `once`). */
  concurrent: boolean;
  /** What the `whoami` handler names as the worker, e.g. /^MainThread$/ or /^Thread-\d+$/. */
  worker: RegExp;
  /** Whether the model can listen on a Unix socket path. @default true */
  unix?: boolean;
  /** `@echo/core`'s error classes (see {@link CoreErrors}). */
  errors: CoreErrors;
}

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** Absolute paths of the suite's handler fixtures, for packages' own tests too. */
export const fixtures = {
  throwing: fixture("throwing.mjs"),
  rejecting: fixture("rejecting.mjs"),
  asyncEcho: fixture("async-echo.mjs"),
  throwsAtImport: fixture("throws-at-import.mjs"),
};

const sizes = [1, 2, 100, 1460, 65_535, 65_536, 65_537, 1024 * 1024, 8 * 1024 * 1024];

/** Registers the conformance tests for `target` with vitest. */
export function conformanceSuite(target: ConformanceTarget): void {
  describe(`conformance: ${target.name}`, () => {
    const running: RunningTarget[] = [];
    const start = async (options: StartOptions): Promise<RunningTarget> => {
      const server = await target.start(options);
      running.push(server);
      return server;
    };
    afterEach(async () => {
      await Promise.all(running.splice(0).map((server) => server.close()));
    });

    it("echoes text byte for byte", async () => {
      const { address } = await start({ handler: "echo" });
      const reply = await roundTrip(address, "Hello, world");
      expect(reply.toString()).toBe("Hello, world");
    });

    it("echoes random binary payloads of 1 B to 8 MiB byte for byte", async () => {
      const { address } = await start({ handler: "echo" });
      for (const size of sizes) {
        const payload = randomBytes(size);
        const reply = await roundTrip(address, payload);
        expect(reply.length, `size ${size}`).toBe(size);
        expect(reply.equals(payload), `size ${size}`).toBe(true);
      }
    });

    it("reassembles partial writes and keeps order across many exchanges on one connection", async () => {
      const { address } = await start({ handler: "echo" });
      const socket = await open(address);
      const bytes = randomBytes(600, 7);
      for (let i = 0; i < bytes.length; i++) await write(socket, bytes.subarray(i, i + 1));
      expect((await readExactly(socket, bytes.length)).equals(bytes)).toBe(true);
      for (let i = 1; i <= 50; i++) {
        const payload = randomBytes(i * 97, i);
        socket.write(payload);
        expect((await readExactly(socket, payload.length)).equals(payload), `exchange ${i}`).toBe(true);
      }
      const closed = collect(socket);
      socket.end();
      expect((await closed).data.length).toBe(0);
    });

    it("serves the upper handler", async () => {
      const { address } = await start({ handler: "upper" });
      expect((await roundTrip(address, "hello World, ü 123")).toString()).toBe("HELLO WORLD, ü 123");
    });

    it("serves the whoami handler naming the worker", async () => {
      const { address } = await start({ handler: "whoami" });
      const reply = (await roundTrip(address, "hi")).toString();
      const match = /^(.+): hi$/.exec(reply);
      expect(match, reply).not.toBeNull();
      expect(match![1]).toMatch(target.worker);
    });

    it("serves http-hello: keep-alive, pipelining, HTTP/1.0 close, bad requests", async () => {
      const { address } = await start({ handler: "http-hello" });
      const socket = await open(address);
      const request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
      socket.write(request + request + "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + request);
      const one = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world\n";
      expect((await readExactly(socket, one.length * 4)).toString()).toBe(one.repeat(4));
      const closed = collect(socket);
      socket.end();
      await closed;
      const http10 = (await roundTrip(address, "GET / HTTP/1.0\r\n\r\n")).toString();
      expect(http10).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close\r\n\r\nHello, world\n$/);
      const bad = (await roundTrip(address, "NONSENSE\r\n\r\n")).toString();
      expect(bad).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    });

    it("runs an async handler without reordering chunks", async () => {
      const { address } = await start({ handler: fixtures.asyncEcho });
      const socket = await open(address);
      const payload = randomBytes(200_000, 3);
      const done = collect(socket);
      for (let i = 0; i < payload.length; i += 1000) socket.write(payload.subarray(i, i + 1000));
      socket.end();
      const { data } = await done;
      expect(data.equals(payload)).toBe(true);
    });

    it(target.concurrent ? "serves 50 clients at once" : "serves 10 clients one after another", async () => {
      const { address } = await start({ handler: "echo" });
      const clients = target.concurrent ? 50 : 10;
      const sockets = await Promise.all(Array.from({ length: clients }, () => open(address)));
      const results = await Promise.all(
        sockets.map(async (socket, c) => {
          if (target.concurrent) {
            // Interleave: every client talks before any finishes.
            for (let i = 0; i < 5; i++) {
              const payload = randomBytes(1024, c * 10 + i);
              socket.write(payload);
              if (!(await readExactly(socket, payload.length)).equals(payload)) return false;
            }
            const done = collect(socket);
            socket.end();
            return (await done).data.length === 0;
          }
          const payload = randomBytes(4096, c);
          const done = collect(socket);
          socket.end(payload);
          return (await done).data.equals(payload);
        }),
      );
      expect(results.every(Boolean)).toBe(true);
    });

    it("closes a client silent past idleTimeout and counts it", async () => {
      const server = await start({ handler: "echo", idleTimeout: 300 });
      const socket = await open(server.address);
      socket.write("x");
      expect((await readExactly(socket, 1)).toString()).toBe("x");
      const { data } = await collect(socket);
      expect(data.length).toBe(0);
      expect((await server.stats()).timeouts).toBeGreaterThanOrEqual(1);
    });

    it.skipIf(!target.concurrent)(
      "rejects connections past maxConnections and serves again when one closes",
      async () => {
        const server = await start({ handler: "echo", maxConnections: 2 });
        const a = await open(server.address);
        const b = await open(server.address);
        for (const s of [a, b]) {
          s.write("ok");
          expect((await readExactly(s, 2)).toString()).toBe("ok");
        }
        const c = await open(server.address);
        const cDone = collect(c);
        c.write("nope");
        const rejected = await cDone;
        expect(rejected.data.length).toBe(0);
        expect((await server.stats()).rejected).toBeGreaterThanOrEqual(1);
        const aDone = collect(a);
        a.end();
        await aDone;
        // The slot is free once the server has seen the close: retry a bounded number of times.
        let served = false;
        for (let attempt = 0; attempt < 50 && !served; attempt++) {
          const reply = await roundTrip(server.address, "again").catch(() => Buffer.alloc(0));
          served = reply.toString() === "again";
        }
        expect(served).toBe(true);
        b.destroy();
      },
    );

    it("bounds server memory for a client that sends but never reads, and loses nothing", async () => {
      const maxBuffered = 64 * 1024;
      const server = await start({ handler: "echo", maxBuffered, idleTimeout: 0 });
      const socket = await open(server.address);
      const total = 32 * 1024 * 1024;
      const payload = randomBytes(total, 11);
      socket.pause();
      socket.write(payload);
      // Sample the server while the client does not read, until its intake stops growing.
      let maxSeen = 0;
      let last = -1;
      let stable = 0;
      let stats = await server.stats();
      for (let i = 0; i < 200 && stable < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        stats = await server.stats();
        maxSeen = Math.max(maxSeen, stats.buffered);
        stable = stats.bytesIn === last ? stable + 1 : 0;
        last = stats.bytesIn;
      }
      expect(stable, "the server kept reading from a client that does not read").toBeGreaterThanOrEqual(5);
      expect(stats.bytesIn).toBeLessThan(total);
      expect(maxSeen).toBeLessThanOrEqual(maxBuffered + 256 * 1024);
      // Now read: every byte comes back, in order.
      const done = collect(socket);
      socket.resume();
      socket.end();
      const { data } = await done;
      expect(data.length).toBe(total);
      expect(data.equals(payload)).toBe(true);
    });

    for (const [label, handler] of [
      ["throwing", fixtures.throwing],
      ["rejecting", fixtures.rejecting],
    ] as const) {
      it(`a ${label} handler closes only its own connection`, async () => {
        const server = await start({ handler });
        if (!target.concurrent) {
          // One connection at a time: the failing client first, then the server must go on.
          const bad = await open(server.address);
          const badDone = collect(bad);
          bad.write("boom");
          expect((await badDone).data.toString()).toBe("");
          expect((await roundTrip(server.address, "next client")).toString()).toBe("next client");
          expect((await server.stats()).errors).toBeGreaterThanOrEqual(1);
          return;
        }
        const healthy = await open(server.address);
        healthy.write("before");
        expect((await readExactly(healthy, 6)).toString()).toBe("before");
        const bad = await open(server.address);
        const badDone = collect(bad);
        bad.write("boom");
        expect((await badDone).data.toString()).toBe("");
        healthy.write("after");
        expect((await readExactly(healthy, 5)).toString()).toBe("after");
        expect((await roundTrip(server.address, "new client")).toString()).toBe("new client");
        expect((await server.stats()).errors).toBeGreaterThanOrEqual(1);
        healthy.destroy();
      });
    }

    it("close() stops accepting at once and lets open connections finish", async () => {
      const server = await start({ handler: "echo", closeTimeout: 30_000 });
      const socket = await open(server.address);
      socket.write("one");
      expect((await readExactly(socket, 3)).toString()).toBe("one");
      const closing = server.close();
      // New connections are refused soon after close() is called. Models whose listener lives
      // in several processes close it after one IPC round, so probe until refused, bounded at 10 s.
      let refused = false;
      for (const deadline = Date.now() + 10_000; !refused && Date.now() < deadline;) {
        refused = await open(server.address).then(
          (s) => (s.destroy(), false),
          () => true,
        );
      }
      expect(refused).toBe(true);
      socket.write("two");
      expect((await readExactly(socket, 3)).toString()).toBe("two");
      const done = collect(socket);
      socket.end();
      await done;
      await closing;
    });

    it("close() destroys connections still open at closeTimeout", async () => {
      const server = await start({ handler: "echo", closeTimeout: 200 });
      const socket = await open(server.address);
      socket.write("x");
      await readExactly(socket, 1);
      const done = collect(socket);
      await server.close();
      await done;
      expect(socket.destroyed).toBe(true);
    });

    it.skipIf(target.unix === false)("listens on a Unix domain socket", async () => {
      const dir = mkdtempSync(join(tmpdir(), "echo-conf-"));
      try {
        const server = await start({ handler: "echo", path: join(dir, "echo.sock") });
        expect("path" in server.address).toBe(true);
        expect((await roundTrip(server.address, "over unix")).toString()).toBe("over unix");
        await server.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("a connection refused after close: the port is released", async () => {
      const server = await start({ handler: "echo" });
      const address = server.address;
      await server.close();
      const socket = await open(address).catch((error: NodeJS.ErrnoException) => error);
      expect(socket).toBeInstanceOf(Error);
      expect((socket as NodeJS.ErrnoException).code).toMatch(/ECONNREFUSED|ENOENT/);
    });

    describe("start-up errors are the same in every model", () => {
      /** Starts with `options`, expecting a failure; returns what was thrown. */
      const failure = async (options: StartOptions): Promise<Error & { code?: string }> => {
        try {
          await start(options);
        } catch (error) {
          return error as Error & { code?: string };
        }
        throw new Error(`${target.name} started with ${JSON.stringify(options)}`);
      };
      const expectCoreError = (error: Error & { code?: string }, cls: ErrorClass, name: string, code: string): void => {
        expect(error, `${error?.name}: ${error?.message}`).toBeInstanceOf(cls);
        expect(error).toBeInstanceOf(target.errors.EchoError);
        expect(error.name).toBe(name);
        expect(error.code).toBe(code);
      };

      it("a handler module that fails to load: HandlerLoadError, ECHO_ERR_HANDLER_LOAD", async () => {
        const error = await failure({ handler: fixtures.throwsAtImport });
        expectCoreError(error, target.errors.HandlerLoadError, "HandlerLoadError", "ECHO_ERR_HANDLER_LOAD");
        expect(error.message).toMatch(
          /^cannot load handler ".*throws-at-import\.mjs": importing .* failed: boom at import$/,
        );
      });

      it("a bad option: InvalidArgumentError, ECHO_ERR_INVALID_ARG, with the same message", async () => {
        const error = await failure({ handler: "echo", maxConnections: 0 });
        expectCoreError(error, target.errors.InvalidArgumentError, "InvalidArgumentError", "ECHO_ERR_INVALID_ARG");
        expect(error.message).toBe("options.maxConnections must be an integer >= 1, got 0");
      });

      it("a busy port: AddressInUseError, ECHO_ERR_ADDR_IN_USE, naming the address", async () => {
        const holder = createServer();
        await new Promise<void>((resolve) => holder.listen({ host: "127.0.0.1", port: 0 }, resolve));
        const { port } = holder.address() as { port: number };
        try {
          const error = await failure({ handler: "echo", port });
          expectCoreError(error, target.errors.AddressInUseError, "AddressInUseError", "ECHO_ERR_ADDR_IN_USE");
          expect(error.message).toBe(`address 127.0.0.1:${port} is already in use`);
        } finally {
          await new Promise((resolve) => holder.close(resolve));
        }
      });
    });
  });
}
