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

/**
 * A server whose connections are all served by one readiness loop (epoll, poll or select) in C,
 * on a thread of its own, running any handler module in that thread.
 *
 * Events: `listening` (address), `handlerError` (error), `error` (the loop thread failed),
 * `close`.
 */
export class SelectorServer extends EventEmitter {
  /** The selector asked for (`default` resolves to {@link SelectorServer.backend}). */
  readonly selector: SelectorKind;
  /** The mechanism in use: `epoll`, `poll`, `select` or `io_uring`. */
  readonly backend: "epoll" | "poll" | "select" | "io_uring";
  /** Limits in force, defaults applied. */
  readonly limits: NormalizedSelectorOptions["limits"];
  private readonly options: NormalizedSelectorOptions;
  private readonly statsBuffer = new SharedArrayBuffer(STATS_SLOTS * 8);
  private readonly counters = new Float64Array(this.statsBuffer);
  private readonly lifetimesBuffer = new SharedArrayBuffer(ConnectionLifetimes.memoryLength() * 8);
  private readonly lifetimes = new ConnectionLifetimes(undefined, new Float64Array(this.lifetimesBuffer));
  /** `options.logger`, or a JSON logger over it with `logFormat: "json"` (set in listen()). */
  private logger: Logger;
  private observability: Observability | undefined;
  private worker: Worker | undefined;
  private bound: ServerAddress | undefined;
  private listenFd = -1;
  /** Serving an inherited socket (listenFd). */
  private inherited = false;
  private state: State = "new";
  private closing: Promise<void> | undefined;
  private exited: Promise<void> = Promise.resolve();
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
  }

  /**
   * Starts the loop thread, which loads the handler, binds and starts accepting.
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
    const init: LoopInit = {
      kind: kindNumber(o.selector),
      handlerUrl,
      echoFastPath: o.echoFastPath,
      handlerOptions: o.handlerOptions,
      workerName: o.workerName,
      logConnections: o.logConnections,
      listen: o.listen,
      limits: o.limits,
      proxy: o.proxy,
      stats: this.statsBuffer,
      lifetimes: this.lifetimesBuffer,
    };
    const worker = new Worker(new URL("./loop-thread.js", import.meta.url), { workerData: init, name: o.workerName });
    this.worker = worker;
    this.exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    const address = await new Promise<ServerAddress>((resolve, reject) => {
      let settled = false;
      worker.on("message", (message: FromLoop) => {
        switch (message.type) {
          case "listening":
            settled = true;
            this.bound = message.address;
            this.listenFd = message.fd;
            resolve(message.address);
            break;
          case "startError": {
            settled = true;
            // Typed in the loop thread; an untyped one (a failed system call) is a listen error.
            const sent = fromWire(message.error, selectorErrorClasses);
            const error = sent instanceof EchoError ? sent : toListenError(sent, o.listen);
            void worker.terminate();
            this.markClosed();
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
          this.markClosed();
          reject(error);
        } else if (this.listenerCount("error") > 0) this.emit("error", error);
        else this.logger.error(`[echo] the selector loop thread failed: ${error.message}`);
      });
      worker.once("exit", () => {
        if (!settled) {
          settled = true;
          this.markClosed();
          reject(new ServerStateError("the selector loop thread exited before listening"));
        } else if (this.state !== "closed") this.markClosed();
      });
    });
    this.observability = await serveModelMetrics(
      {
        address: o.metrics,
        model: "selector",
        source: () => ({
          workers: [{ worker: o.workerName, stats: this.stats(), lifetimes: this.lifetimes.snapshot() }],
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

  /** Where the `metrics` endpoint listens; `undefined` without the option (or before `listen()`). */
  metricsAddress(): EndpointAddress | undefined {
    return this.observability?.address;
  }

  /** The bound address. @throws {ServerStateError} not listening. */
  address(): ServerAddress {
    if (this.state !== "listening" || !this.bound) throw new ServerStateError("the server is not listening");
    return this.bound;
  }

  /** A copy of the counters now (written by the loop thread, read here without waiting). */
  stats(): StatsSnapshot {
    const out = {} as StatsSnapshot;
    statsKeys.forEach((key, i) => (out[key] = this.counters[i]!));
    return out;
  }

  /**
   * Stops accepting at once, lets open connections finish for up to `timeout` ms, then destroys
   * the rest; resolves when the loop thread is gone. Calling it again returns the same promise.
   */
  close(options: SelectorCloseOptions = {}): Promise<void> {
    if (this.closing) return this.closing;
    const timeout =
      options.timeout === undefined
        ? this.limits.closeTimeout
        : normalizeLimits({ closeTimeout: options.timeout }).closeTimeout;
    const worker = this.worker;
    const wasListening = this.state === "listening";
    this.observability?.setDraining();
    this.closing = (async () => {
      if (worker && wasListening) {
        this.state = "closing";
        logStructured(this.logger, "info", `draining (closeTimeout ${timeout} ms)`, { event: "drain", timeout });
        // Stop accepting now, from this thread: shutdown() of a listening socket makes the
        // kernel refuse new connections at once (the loop thread closes the descriptor). The
        // message wakes the loop at once: libuv's descriptor is in the loop's own selector.
        // Not for an inherited socket (listenFd): the service manager holds it too, and a
        // shutdown would stop it listening for the next activation as well.
        if (!this.inherited) {
          try {
            native().shutdown(this.listenFd, 0);
          } catch {
            // The loop thread closed it already.
          }
        }
        worker.postMessage({ type: "close", timeout } satisfies ToLoop);
      } else if (worker) {
        void worker.terminate();
      }
      await this.exited;
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

/** Creates a {@link SelectorServer}; call `listen()` on it. */
export function createSelectorServer(options?: SelectorServerOptions): SelectorServer {
  return new SelectorServer(options);
}
