/**
 * `ThreadedServer`: N worker threads, each with its own event loop, each serving many
 * connections with core's handler machinery.
 * @module
 */
import { EventEmitter } from "node:events";
import { createServer as createNetServer, type Server } from "node:net";
import {
  InvalidArgumentError,
  ListenError,
  ServerStateError,
  type Logger,
  type ServerAddress,
  type StatsSnapshot,
} from "@echo/core";
import {
  listenServer,
  normalizeLimits,
  resolveHandler,
  serverAddress,
  sumStats,
  type NormalizedLimits,
  type NormalizedListenOptions,
} from "@echo/core/model-kit";
import { ThreadExitError } from "./errors.js";
import { duplicateListener, helperPathFrom, type NativeHandle } from "./internal/listener.js";
import type { ListenHow, ThreadData } from "./internal/protocol.js";
import { reusePortSupported } from "./internal/reuse-port.js";
import { SHARED_CELLS, SharedCell } from "./internal/shared-stats.js";
import { ServerThread } from "./internal/thread.js";
import { normalizeThreadedOptions, type AcceptPath, type ThreadedServerOptions } from "./options.js";

/** Options of {@link ThreadedServer.close}. */
export interface ThreadedCloseOptions {
  /** Milliseconds to let open connections finish before destroying them. @default options.closeTimeout */
  timeout?: number;
}

/** One thread's counters, from {@link ThreadedServer.threadStats}. */
export interface ThreadStats {
  /** `Thread-1` … `Thread-N`; a replacement keeps the name of the thread it replaces. */
  readonly name: string;
  /** The Worker's `threadId`. */
  readonly threadId: number;
  /** Whether the thread has its listener (false while a replacement starts). */
  readonly listening: boolean;
  /** The counters of this thread (since it started; a replaced thread's go to the totals). */
  readonly stats: StatsSnapshot;
}

type State = "new" | "starting" | "listening" | "closing" | "closed";

const WORKER_URL = new URL("./internal/worker.js", import.meta.url);
/** The longest close() blocks waiting for the threads to close their listeners. */
const STOP_ACCEPTING_MS = 1_000;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A TCP server whose connections are served by N worker threads, each running the handler on
 * its own event loop, so CPU-heavy handlers run in parallel.
 *
 * Events: `listening` (address), `threadExit` ({@link ThreadExitError}: a serving thread died;
 * a replacement starts), `threadReplaced` (name: the replacement is serving), `close`.
 */
export class ThreadedServer extends EventEmitter {
  /** How many threads serve. */
  readonly threads: number;
  /** The limits in force, defaults applied; `maxConnections` holds for the whole server. */
  readonly limits: NormalizedLimits;
  private readonly listenOptions: NormalizedListenOptions;
  private readonly handlerSpec: string | URL;
  private readonly handlerOptions: unknown;
  private readonly logger: Logger;
  private readonly logConnections: boolean;
  private readonly acceptOption: "auto" | AcceptPath;
  private readonly shared = new SharedArrayBuffer(SHARED_CELLS * Int32Array.BYTES_PER_ELEMENT);
  private readonly cells = new Int32Array(this.shared);
  private slots: (ServerThread | undefined)[] = [];
  private retired: StatsSnapshot = sumStats([]);
  private readonly respawnTimers = new Set<NodeJS.Timeout>();
  private readonly backoff = new Map<number, number>();
  private source: NativeHandle | undefined;
  private boundAddress: ServerAddress | undefined;
  private path: AcceptPath | undefined;
  private threadData: Omit<ThreadData, "name" | "stats" | "open"> | undefined;
  private state: State = "new";
  private starting: Promise<unknown> | undefined;
  private closing: Promise<void> | undefined;
  private resolveFinished!: () => void;
  /** Resolves when the server has closed (or failed to start). */
  readonly finished: Promise<void> = new Promise((resolve) => (this.resolveFinished = resolve));

  /**
   * @param options - see {@link ThreadedServerOptions}; validated here.
   * @throws {InvalidArgumentError} an option has a wrong type or value; the message names it.
   */
  constructor(options: ThreadedServerOptions = {}) {
    super();
    const o = normalizeThreadedOptions(options);
    this.threads = o.threads;
    this.limits = o.limits;
    this.listenOptions = o.listen;
    this.handlerSpec = o.handler;
    this.handlerOptions = o.handlerOptions;
    this.logger = o.logger;
    this.logConnections = o.logConnections;
    this.acceptOption = o.accept;
  }

  /** How connections reach the threads; known once `listen()` has resolved. */
  get acceptPath(): AcceptPath | undefined {
    return this.path;
  }

  /**
   * Starts every thread, loads the handler in each, and resolves once every thread listens.
   * @returns the address actually bound (port 0 becomes the real port).
   * @throws {HandlerLoadError} the handler is missing or fails to load (no thread is retried).
   * @throws {AddressInUseError} {@link PermissionDeniedError} {@link ListenError} binding failed.
   * @throws {ThreadStartError} a thread died while starting for another reason.
   */
  async listen(): Promise<ServerAddress> {
    if (this.state !== "new") throw new ServerStateError(`listen() called on a server that is ${this.state}`);
    this.state = "starting";
    const start = this.start();
    this.starting = start;
    try {
      const address = await start;
      this.state = "listening";
      this.emit("listening", address);
      return address;
    } catch (error) {
      await this.teardown();
      this.state = "closed";
      this.resolveFinished();
      throw error;
    }
  }

  private async start(): Promise<ServerAddress> {
    const handlerUrl = resolveHandler(this.handlerSpec);
    this.path = await this.choosePath();
    this.threadData = {
      handlerUrl,
      handlerLabel: String(this.handlerSpec),
      handlerOptions: this.handlerOptions,
      limits: this.limits,
      logConnections: this.logConnections,
      shared: this.shared,
      helperPath: helperPathFrom(import.meta.url),
      balance: this.path === "shared",
    };
    if (this.path === "shared") await this.acquireSharedListener(this.threadData.helperPath);
    this.slots = Array.from({ length: this.threads }, (_, i) => this.spawn(i));
    await settleAll(this.slots.map((t) => t!.ready));
    const threads = this.slots as ServerThread[];
    if (this.path === "reusePort") {
      // The first thread binds what was asked (port 0 picks one); the others join its port.
      this.boundAddress = await threads[0]!.listen({ how: "reusePort", listen: this.listenOptions });
      const listen = { ...this.listenOptions, port: this.port() };
      await settleAll(threads.slice(1).map((t) => t.listen({ how: "reusePort", listen })));
    } else {
      await settleAll(threads.map((t) => t.listen(this.adoptHow())));
    }
    Atomics.store(this.cells, SharedCell.LIVE, this.threads);
    return this.boundAddress!;
  }

  private async choosePath(): Promise<AcceptPath> {
    const supported = await reusePortSupported();
    if (this.acceptOption === "reusePort" && !supported) {
      throw new ListenError(
        'options.accept is "reusePort" but this Node ignores reusePort in net.Server.listen() (it needs Node >= 22.12 on Linux)',
      );
    }
    if (this.acceptOption !== "auto") return this.acceptOption;
    return supported ? "reusePort" : "shared";
  }

  /**
   * Binds in this thread (so OS errors become core's typed errors), hands the socket to a helper
   * process that sends back a duplicate descriptor, and closes our own handle. Everything up to
   * `close()` runs without returning to the event loop after `listen` succeeded, so this thread
   * never accepts a connection: they queue until the threads listen.
   */
  private async acquireSharedListener(helperPath: string): Promise<void> {
    const server: Server = createNetServer({ pauseOnConnect: true });
    await listenServer(server, this.listenOptions);
    this.boundAddress = serverAddress(server);
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    let duplicate: Promise<NativeHandle>;
    try {
      duplicate = duplicateListener(fd, helperPath);
    } finally {
      server.close();
    }
    try {
      // Kept, never listened on: the source of every thread's own duplicate, replacements too.
      this.source = await duplicate;
    } catch (error) {
      throw new ListenError(
        `cannot share the listener of ${this.listenOptions.host}:${this.port()} with the threads: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  private adoptHow(fd = this.source!.fd): ListenHow {
    return { how: "adopt", fd, backlog: this.listenOptions.backlog, expectPort: this.port() };
  }

  private port(): number {
    const address = this.boundAddress;
    if (address?.kind !== "tcp") throw new ServerStateError("the server is not listening");
    return address.port;
  }

  private spawn(index: number): ServerThread {
    return new ServerThread(index, `Thread-${index + 1}`, WORKER_URL, this.threadData!, {
      log: (level, message) => this.logger[level](message),
      exit: (thread, code, error) => this.onThreadExit(thread, code, error),
    });
  }

  private onThreadExit(thread: ServerThread, code: number, error: unknown): void {
    if (this.slots[thread.index] !== thread) return;
    this.slots[thread.index] = undefined;
    // Its connections died with it: count them closed, free their maxConnections slots.
    const snapshot = thread.stats.snapshot();
    Atomics.sub(this.cells, SharedCell.ACTIVE, snapshot.active);
    snapshot.closed += snapshot.active;
    snapshot.active = 0;
    snapshot.queued = 0;
    snapshot.buffered = 0;
    this.retired = sumStats([this.retired, snapshot]);
    if (!thread.listening || this.state !== "listening") return;
    Atomics.sub(this.cells, SharedCell.LIVE, 1);
    const exit = new ThreadExitError(thread.name, code, error);
    this.logger.error(`[echo] ${exit.message}; starting a replacement`);
    if (this.listenerCount("threadExit") > 0) this.emit("threadExit", exit);
    // A thread that dies right after starting waits longer each time (up to 5 s).
    const quick = Date.now() - thread.startedAt < 1_000;
    const delay = quick ? Math.min(5_000, (this.backoff.get(thread.index) ?? 50) * 2) : 0;
    this.backoff.set(thread.index, quick ? delay : 50);
    const timer = setTimeout(() => {
      this.respawnTimers.delete(timer);
      void this.replace(thread.index);
    }, delay);
    this.respawnTimers.add(timer);
  }

  private async replace(index: number): Promise<void> {
    if (this.state !== "listening") return;
    const thread = this.spawn(index);
    this.slots[index] = thread;
    try {
      await thread.ready;
      if (this.path === "shared") {
        await thread.listen(this.adoptHow());
      } else {
        const listen = { ...this.listenOptions, port: this.port() };
        try {
          await thread.listen({ how: "reusePort", listen });
        } catch (error) {
          // After privileges were dropped, the kernel refuses a new socket in the group (a port
          // below 1024, or a different owner): share a live thread's socket instead.
          const sibling = this.slots.find((t) => t && t !== thread && t.listening && t.fd !== undefined);
          if (!sibling) throw error;
          await thread.listen(this.adoptHow(sibling.fd));
        }
      }
    } catch (error) {
      if (this.slots[index] === thread) this.slots[index] = undefined;
      await thread.terminate();
      if (this.state === "listening")
        this.logger.error(`[echo] Thread-${index + 1} could not be replaced: ${errorMessage(error)}`);
      return;
    }
    if (this.state !== "listening") return;
    Atomics.add(this.cells, SharedCell.LIVE, 1);
    if (this.listenerCount("threadReplaced") > 0) this.emit("threadReplaced", thread.name);
  }

  /** The bound address. @throws {ServerStateError} not listening. */
  address(): ServerAddress {
    if (this.state !== "listening" || !this.boundAddress) throw new ServerStateError("the server is not listening");
    return this.boundAddress;
  }

  /** The counters of the whole server now: every thread's, including threads that were replaced. */
  stats(): StatsSnapshot {
    return sumStats([this.retired, ...this.slots.filter((t) => t !== undefined).map((t) => t.stats.snapshot())]);
  }

  /** The counters of each thread serving now, in thread order. */
  threadStats(): ThreadStats[] {
    return this.slots
      .filter((t) => t !== undefined)
      .map((t) => ({ name: t.name, threadId: t.worker.threadId, listening: t.listening, stats: t.stats.snapshot() }));
  }

  /**
   * Stops accepting on every thread at once, lets open connections finish for up to `timeout`
   * ms, destroys the rest, then ends the threads. Resolves when every thread has ended; the
   * server then holds nothing that keeps the process alive. Calling it again returns the same
   * promise.
   */
  close(options: ThreadedCloseOptions = {}): Promise<void> {
    if (this.closing) return this.closing;
    if (options === null || typeof options !== "object") throw new InvalidArgumentError("options must be an object");
    const timeout =
      options.timeout === undefined
        ? this.limits.closeTimeout
        : normalizeLimits({ closeTimeout: options.timeout }, "options").closeTimeout;
    if (this.state === "listening") this.stopAccepting(timeout);
    this.closing = (async () => {
      // Called while listen() runs: close once it has settled.
      await this.starting?.catch(() => {});
      if (this.state === "listening" || this.state === "new") this.stopAccepting(timeout);
      if (this.state === "closing") {
        await this.teardown(timeout);
        this.state = "closed";
        this.emit("close");
        this.resolveFinished();
      }
      await this.finished;
    })();
    return this.closing;
  }

  /**
   * Stops accepting on every thread before close() returns, as core's close() does: our dormant
   * descriptor is closed here, and each thread closes its listener when it gets the message. We
   * wait for that (blocking this thread, at most STOP_ACCEPTING_MS: a thread stuck in a handler
   * cannot answer), so that once close() has returned new connections are refused.
   */
  private stopAccepting(timeout: number): void {
    this.state = "closing";
    for (const timer of this.respawnTimers) clearTimeout(timer);
    this.respawnTimers.clear();
    this.source?.close();
    this.source = undefined;
    const threads = this.slots.filter((t) => t !== undefined);
    for (const thread of threads) thread.beginClose(timeout);
    const deadline = performance.now() + STOP_ACCEPTING_MS;
    for (const thread of threads) thread.awaitListenerClosed(deadline);
  }

  /** `await using server = …` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async teardown(timeout = 0): Promise<void> {
    for (const timer of this.respawnTimers) clearTimeout(timer);
    this.respawnTimers.clear();
    // First, so that the socket stops accepting as soon as every thread has closed its own
    // descriptor (a descriptor left open would let the kernel complete new handshakes).
    this.source?.close();
    this.source = undefined;
    await Promise.all(this.slots.filter((t) => t !== undefined).map((t) => t.close(timeout)));
  }
}

/** Waits for every promise; then throws the first rejection, if any, in the given order. */
async function settleAll(promises: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  for (const result of results) if (result.status === "rejected") throw result.reason;
}

/** Creates a {@link ThreadedServer}; call `listen()` on it. */
export function createThreadedServer(options?: ThreadedServerOptions): ThreadedServer {
  return new ThreadedServer(options);
}
