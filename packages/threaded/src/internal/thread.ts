/**
 * The main thread's view of one serving thread: its Worker, its counters, and promises for the
 * steps of its life (loaded, listening, closed).
 * @internal
 */
import { Worker } from "node:worker_threads";
import { EchoError, HandlerLoadError, type ServerAddress } from "@echo/core";
import { fromWire } from "@echo/core/model-kit";
import { ThreadStartError } from "../errors.js";
import type { FromThread, ListenHow, ThreadData, ToThread } from "./protocol.js";
import { SharedStats } from "./shared-stats.js";

type Waiter = {
  types: readonly FromThread["type"][];
  resolve: (message: FromThread) => void;
  reject: (error: Error) => void;
};

/** Callbacks from a thread to its server. */
export interface ThreadHooks {
  log(level: "info" | "error", message: string): void;
  exit(thread: ServerThread, code: number, error: unknown): void;
}

/** One serving thread, seen from the main thread. */
export class ServerThread {
  readonly stats: SharedStats;
  private readonly open = new Int32Array(new SharedArrayBuffer(4));
  private closeSent = false;
  readonly worker: Worker;
  readonly startedAt = Date.now();
  /** Set once the thread has a listener. */
  listening = false;
  /** The thread's listening descriptor, once listening. */
  fd: number | undefined;
  exitCode: number | undefined;
  private error: unknown;
  private readonly waiters = new Set<Waiter>();
  private resolveExited!: () => void;
  /** Resolves when the thread has ended, however. */
  readonly exited = new Promise<void>((resolve) => (this.resolveExited = resolve));
  /** Resolves when the handler is loaded; rejects with a HandlerLoadError. */
  readonly ready: Promise<void>;

  constructor(
    readonly index: number,
    readonly name: string,
    workerUrl: URL,
    data: Omit<ThreadData, "name" | "stats" | "open">,
    private readonly hooks: ThreadHooks,
  ) {
    this.stats = new SharedStats();
    this.worker = new Worker(workerUrl, {
      workerData: { ...data, name, stats: this.stats.buffer, open: this.open.buffer } satisfies ThreadData,
      // Threads inherit the process's flags, but --input-type (from `node --input-type=module
      // -e …`) makes Node refuse a worker that is a file.
      execArgv: process.execArgv.filter((arg) => !arg.startsWith("--input-type")),
    });
    this.worker.on("message", (message: FromThread) => this.onMessage(message));
    this.worker.on("error", (error) => {
      this.error ??= error;
    });
    this.worker.on("exit", (code) => this.onExit(code));
    this.ready = this.waitFor(["ready", "loadError"]).then(
      (message) => {
        if (message.type === "loadError") throw fromWire(message.error);
      },
      (error: Error) => {
        throw new HandlerLoadError(data.handlerLabel, `${name} ended while loading it: ${error.message}`, {
          cause: this.error,
        });
      },
    );
  }

  /** Tells the thread to take a listener; resolves with its address. */
  async listen(how: ListenHow): Promise<ServerAddress> {
    this.send({ type: "listen", ...how });
    const message = await this.waitFor(["listening", "listenError"]).catch((error: Error) => {
      throw new ThreadStartError(this.name, error.message, { cause: this.error });
    });
    if (message.type === "listenError") {
      // Binding errors arrive typed (core's AddressInUseError, …); adopting a descriptor has none.
      const error = fromWire(message.error);
      if (!(error instanceof EchoError) || how.how === "adopt") throw new ThreadStartError(this.name, error.message);
      throw error;
    }
    if (message.type !== "listening") throw new ThreadStartError(this.name, `unexpected message ${message.type}`);
    this.listening = true;
    this.fd = message.fd;
    return message.address;
  }

  /** Asks the thread to stop accepting and let its connections finish within `timeout` ms. */
  beginClose(timeout: number): void {
    if (this.closeSent) return;
    this.closeSent = true;
    this.send({ type: "close", timeout });
  }

  /**
   * Blocks the calling thread until this thread has closed its listener, or until `deadline`
   * (a `performance.now()` time). Returns false on the deadline.
   */
  awaitListenerClosed(deadline: number): boolean {
    for (;;) {
      if (this.exitCode !== undefined || Atomics.load(this.open, 0) === 0) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.open, 0, 1, left);
    }
  }

  /** Stops accepting, waits for connections (up to `timeout` ms), then ends the thread. */
  async close(timeout: number): Promise<void> {
    if (this.exitCode === undefined) {
      this.beginClose(timeout);
      // A thread stuck in a handler's busy loop never answers: end it anyway.
      const guard = setTimeout(() => void this.worker.terminate(), timeout + 5_000);
      await Promise.race([this.waitFor(["closed"]).catch(() => undefined), this.exited]);
      clearTimeout(guard);
    }
    await this.terminate();
  }

  /** Ends the thread now; its connections are dropped. */
  async terminate(): Promise<void> {
    if (this.exitCode === undefined) await this.worker.terminate();
    await this.exited;
  }

  private send(message: ToThread): void {
    if (this.exitCode === undefined) this.worker.postMessage(message);
  }

  private waitFor(types: readonly FromThread["type"][]): Promise<FromThread> {
    if (this.exitCode !== undefined) return Promise.reject(this.exitReason());
    return new Promise((resolve, reject) => this.waiters.add({ types, resolve, reject }));
  }

  private onMessage(message: FromThread): void {
    if (message.type === "log") {
      this.hooks.log(message.level, message.message);
      return;
    }
    for (const waiter of this.waiters) {
      if (waiter.types.includes(message.type)) {
        this.waiters.delete(waiter);
        waiter.resolve(message);
      }
    }
  }

  private exitReason(): Error {
    const what = this.error instanceof Error ? `: ${this.error.message}` : "";
    return new Error(`it exited with code ${this.exitCode}${what}`);
  }

  private onExit(code: number): void {
    this.exitCode = code;
    const reason = this.exitReason();
    for (const waiter of this.waiters) waiter.reject(reason);
    this.waiters.clear();
    this.resolveExited();
    this.hooks.exit(this, code, this.error);
  }
}
