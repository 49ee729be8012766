/**
 * `SelectorServer`: the article's readiness-loop server, with the loop in C on its own thread.
 * @module
 */
import { EventEmitter } from "node:events";
import { Worker } from "node:worker_threads";
import { EchoError, ServerStateError, type ServerAddress, type StatsSnapshot } from "@echo/core";
import {
  ConnectionLifetimes,
  fromWire,
  isStructured,
  logStructured,
  modelLogger,
  normalizeLimits,
  resolveHandler,
  serveModelMetrics,
  statsKeys,
  sumStats,
  toListenError,
  type EndpointAddress,
  type Observability,
} from "@echo/core/model-kit";
import type { Logger } from "@echo/core";
import { IoUringUnavailableError, selectorErrorClasses } from "./errors.js";
import type { FromLoop, LoopInit, ToLoop } from "./internal/messages.js";
import { native } from "./internal/native.js";
import { STATS_SLOTS, defaultKind, kindNumber } from "./internal/protocol.js";
import {
  normalizeSelectorOptions,
  type NormalizedSelectorOptions,
  type SelectorKind,
  type SelectorServerOptions,
} from "./options.js";

type State = "new" | "starting" | "listening" | "closing" | "closed";

/** Options of {@link SelectorServer.close}. */
export interface SelectorCloseOptions {
  /** Milliseconds to let open connections finish before destroying them. @default options.closeTimeout */
  timeout?: number;
}

/** One loop's counters, from {@link SelectorServer.loopStats}. */
export interface LoopStats {
  /** The loop's name, as its handler sees it in `conn.worker` (`SelectorThread-1`). */
  worker: string;
  /** A copy of the loop's counters now. */
  stats: StatsSnapshot;
}

/** One loop thread and what the server holds of it. */
interface LoopSlot {
  name: string;
  counters: Float64Array;
  statsBuffer: SharedArrayBuffer;
  lifetimesBuffer: SharedArrayBuffer;
  lifetimes: ConnectionLifetimes;
  worker?: Worker;
  listenFd: number;
  exited: Promise<void>;
}

/**
 * A server whose connections are served by readiness loops (epoll, poll or select) in C, each
 * on a thread of its own with its own handler instance; one loop unless `loops` says more.
 *
 * Events: `listening` (address), `handlerError` (error), `error` (a loop thread failed),
 * `close`.
 */
export class SelectorServer extends EventEmitter {
  /** The selector asked for (`default` resolves to {@link SelectorServer.backend}). */
  readonly selector: SelectorKind;
  /** The mechanism in use: `epoll`, `poll`, `select` or `io_uring`. */
  readonly backend: "epoll" | "poll" | "select" | "io_uring";
  /** Limits in force, defaults applied (`maxConnections` holds for all loops together). */
  readonly limits: NormalizedSelectorOptions["limits"];
  /** How many loop threads serve connections. */
  readonly loops: number;
  private readonly options: NormalizedSelectorOptions;
  /** `options.logger`, or a JSON logger over it with `logFormat: "json"` (set in listen()). */
  private logger: Logger;
  private observability: Observability | undefined;
  private readonly slots: LoopSlot[];
  private bound: ServerAddress | undefined;
  /** Serving an inherited socket (listenFd). */
  private inherited = false;
  private state: State = "new";
  private closing: Promise<void> | undefined;
  private resolveFinished!: () => void;
  /** Resolves when the server has closed. */
  readonly finished: Promise<void> = new Promise((resolve) => (this.resolveFinished = resolve));

  /**
   * @param options - see {@link SelectorServerOptions}; validated here.
   * @throws {InvalidArgumentError} an option has a wrong type or value; the message names it.
   */
  constructor(options: SelectorServerOptions = {}) {
    super();
    this.options = normalizeSelectorOptions(options);
    this.selector = this.options.selector;
    this.backend = this.selector === "default" ? defaultKind() : this.selector;
    this.limits = this.options.limits;
    this.logger = this.options.logger;
    this.loops = this.options.loops;
    const base = this.options.workerName;
    this.slots = Array.from({ length: this.loops }, (_, i) => {
      const statsBuffer = new SharedArrayBuffer(STATS_SLOTS * 8);
      // One lifetimes table per loop: each is written by its own loop thread only.
      const lifetimesBuffer = new SharedArrayBuffer(ConnectionLifetimes.memoryLength() * 8);
      return {
        name: this.loops === 1 ? base : `${base}-${i + 1}`,
        statsBuffer,
        counters: new Float64Array(statsBuffer),
        lifetimesBuffer,
        lifetimes: new ConnectionLifetimes(undefined, new Float64Array(lifetimesBuffer)),
        listenFd: -1,
        exited: Promise.resolve(),
      };
    });
  }

  /**
   * Starts the loop threads, which load the handler, bind and start accepting; resolves once
   * every loop is accepting.
   * @returns the address bound (port 0 becomes the real port).
   * @throws {AddressInUseError} {@link PermissionDeniedError} {@link ListenError} {@link HandlerLoadError}
   * @throws {IoUringUnavailableError} `selector: "io_uring"` where this kernel or process refuses io_uring.
   */
  async listen(): Promise<ServerAddress> {
    if (this.state !== "new") throw new ServerStateError(`listen() called on a server that is ${this.state}`);
    this.state = "starting";
    const o = this.options;
    this.inherited = o.listen.fd !== undefined;
    let handlerUrl: string;
    try {
      native();
      if (this.backend === "io_uring") {
        const reason = native().ioUringUnavailable();
        if (reason !== null) throw new IoUringUnavailableError(reason);
      }
      handlerUrl = resolveHandler(o.handler);
      this.logger = await modelLogger(o.logger, o.logFormat, "selector", o.workerName);
    } catch (error) {
      this.markClosed();
      throw error;
    }
    const several = this.loops > 1;
    // An inherited socket (listenFd) is one socket: every loop takes a duplicate of it.
    const reusePort = several && o.accept === "reusePort" && !this.inherited;
    const exclusiveAccept = several && (o.accept === "shared" || this.inherited) && this.backend === "epoll";
    // maxConnections holds for the whole server: every loop counts into one shared cell.
    const sharedLimit = several ? new SharedArrayBuffer(4) : undefined;
    const base = (slot: LoopSlot): LoopInit => ({
      kind: kindNumber(o.selector),
      handlerUrl,
      echoFastPath: o.echoFastPath,
      handlerOptions: o.handlerOptions,
      workerName: slot.name,
      logConnections: o.logConnections,
      listen: o.listen,
      limits: o.limits,
      reusePort,
      exclusiveAccept,
      ...(sharedLimit ? { sharedLimit } : {}),
      proxy: o.proxy,
      stats: slot.statsBuffer,
      lifetimes: slot.lifetimesBuffer,
    });
    let address: ServerAddress;
    try {
      // The first loop binds (so port 0 becomes a real port and bind errors are typed there);
      // the others bind that address with SO_REUSEPORT, or take a duplicate of its socket.
      const [first, ...rest] = this.slots as [LoopSlot, ...LoopSlot[]];
      const firstAddress = await this.startLoop(first, base(first));
      address = firstAddress;
      await Promise.all(
        rest.map((slot) => {
          const init = base(slot);
          if (reusePort && firstAddress.kind === "tcp")
            init.listen = { ...o.listen, host: firstAddress.host, port: firstAddress.port };
          else init.listenFd = native().dup(first.listenFd);
          return this.startLoop(slot, init);
        }),
      );
      this.bound = address;
    } catch (error) {
      for (const slot of this.slots) void slot.worker?.terminate();
      await Promise.all(this.slots.map((slot) => slot.exited));
      this.markClosed();
      throw error;
    }
    this.observability = await serveModelMetrics(
      {
        address: o.metrics,
        model: "selector",
        source: () => ({
          workers: this.slots.map((slot) => ({
            worker: slot.name,
            stats: snapshot(slot.counters),
            lifetimes: slot.lifetimes.snapshot(),
          })),
        }),
        stats: () => this.stats(),
      },
      {
        starting: () => this.state === "starting",
        abort: () => {
          this.state = "listening";
          return this.close({ timeout: 0 });
        },
      },
    );
    this.state = "listening";
    this.emit("listening", address);
    return address;
  }

  /** Starts one loop thread; resolves with its address once it accepts. */
  private startLoop(slot: LoopSlot, init: LoopInit): Promise<ServerAddress> {
    const worker = new Worker(new URL("./loop-thread.js", import.meta.url), { workerData: init, name: slot.name });
    slot.worker = worker;
    slot.exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    return new Promise<ServerAddress>((resolve, reject) => {
      let settled = false;
      worker.on("message", (message: FromLoop) => {
        switch (message.type) {
          case "listening":
            settled = true;
            slot.listenFd = message.fd;
            resolve(message.address);
            break;
          case "startError": {
            settled = true;
            // Typed in the loop thread; an untyped one (a failed system call) is a listen error.
            const sent = fromWire(message.error, selectorErrorClasses);
            const error = sent instanceof EchoError ? sent : toListenError(sent, init.listen);
            void worker.terminate();
            reject(error);
            break;
          }
          case "log": {
            const logger = this.logger;
            if (message.fields !== undefined && isStructured(logger))
              logger[message.level](message.message, message.fields);
            else logger[message.level](message.message);
            break;
          }
          case "handlerError":
            if (this.listenerCount("handlerError") > 0)
              this.emit("handlerError", fromWire(message.error, selectorErrorClasses));
            break;
          case "closed":
            void worker.terminate();
            break;
        }
      });
      worker.once("error", (error) => {
        if (!settled) {
          settled = true;
          reject(error);
        } else if (this.listenerCount("error") > 0) this.emit("error", error);
        else this.logger.error(`[echo] the selector loop thread ${slot.name} failed: ${error.message}`);
      });
      worker.once("exit", () => {
        if (!settled) {
          settled = true;
          reject(new ServerStateError(`the selector loop thread ${slot.name} exited before listening`));
        } else if (this.state === "listening") {
          // Closed when the last loop is gone.
          void Promise.all(this.slots.map((s) => s.exited)).then(() => this.markClosed());
        }
      });
    });
  }

  /** Where the `metrics` endpoint listens; `undefined` without the option (or before `listen()`). */
  metricsAddress(): EndpointAddress | undefined {
    return this.observability?.address;
  }

  /** The bound address. @throws {ServerStateError} not listening. */
  address(): ServerAddress {
    if (this.state !== "listening" || !this.bound) throw new ServerStateError("the server is not listening");
    return this.bound;
  }

  /** A copy of the counters now, summed over every loop (written by the loop threads, read without waiting). */
  stats(): StatsSnapshot {
    return this.loops === 1
      ? snapshot(this.slots[0]!.counters)
      : sumStats(this.slots.map((slot) => snapshot(slot.counters)));
  }

  /** Each loop's own counters now, in loop order (one entry per loop, named as `conn.worker`). */
  loopStats(): LoopStats[] {
    return this.slots.map((slot) => ({ worker: slot.name, stats: snapshot(slot.counters) }));
  }

  /**
   * Stops accepting at once on every loop, lets open connections finish for up to `timeout` ms,
   * then destroys the rest; resolves when every loop thread is gone. Calling it again returns
   * the same promise.
   */
  close(options: SelectorCloseOptions = {}): Promise<void> {
    if (this.closing) return this.closing;
    const timeout =
      options.timeout === undefined
        ? this.limits.closeTimeout
        : normalizeLimits({ closeTimeout: options.timeout }).closeTimeout;
    const wasListening = this.state === "listening";
    this.observability?.setDraining();
    this.closing = (async () => {
      if (wasListening) {
        this.state = "closing";
        logStructured(this.logger, "info", `draining (closeTimeout ${timeout} ms)`, { event: "drain", timeout });
        // Stop accepting now, from this thread: shutdown() of a listening socket makes the
        // kernel refuse new connections at once (each loop thread closes its descriptor). The
        // message wakes the loop at once: libuv's descriptor is in the loop's own selector.
        // Not for an inherited socket (listenFd): the service manager holds it too, and a
        // shutdown would stop it listening for the next activation as well.
        for (const slot of this.inherited ? [] : this.slots) {
          try {
            native().shutdown(slot.listenFd, 0);
          } catch {
            // The loop thread closed it already.
          }
        }
        for (const slot of this.slots) slot.worker?.postMessage({ type: "close", timeout } satisfies ToLoop);
      } else {
        for (const slot of this.slots) void slot.worker?.terminate();
      }
      await Promise.all(this.slots.map((slot) => slot.exited));
      await this.observability?.close();
      this.markClosed();
    })();
    return this.closing;
  }

  /** `await using server = …` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private markClosed(): void {
    if (this.state === "closed") return;
    const wasOpen = this.state !== "new" && this.state !== "starting";
    this.state = "closed";
    this.bound = undefined;
    if (wasOpen) this.emit("close");
    this.resolveFinished();
  }
}

function snapshot(counters: Float64Array): StatsSnapshot {
  const out = {} as StatsSnapshot;
  statsKeys.forEach((key, i) => (out[key] = counters[i]!));
  return out;
}

/** Creates a {@link SelectorServer}; call `listen()` on it. */
export function createSelectorServer(options?: SelectorServerOptions): SelectorServer {
  return new SelectorServer(options);
}
