/**
 * `EchoServer`: the lifecycle shared by core's models: listen, serve, close with a deadline.
 * @module
 */
import { EventEmitter } from "node:events";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { MaxConnectionsError, ServerStateError } from "./errors.js";
import type { HandlerError } from "./errors.js";
import type { Connection, Handler, HandlerExport } from "./handler.js";
import { instantiateHandler, loadHandler } from "./handler-loader.js";
import { listenServer } from "./internal/listen.js";
import { drainSockets, type Drain } from "./kit/drain.js";
import { normalizeModelOptions, type NormalizedModelOptions } from "./kit/model-options.js";
import { asyncModel } from "./models/async.js";
import { iterativeModel } from "./models/iterative.js";
import type { Model, ModelHost } from "./models/model.js";
import { onceModel } from "./models/once.js";
import { checkOneOf, normalizeLimits, type CoreModel, type NormalizedLimits, type ServerOptions } from "./options.js";
import { serveSocket } from "./socket-connection.js";
import { ServerStats, type StatsSnapshot } from "./stats.js";

/** The models of `@echo/core`. */
export const coreModels: readonly CoreModel[] = ["once", "iterative", "async"];

/** Where a server listens: a TCP address or a Unix socket path. */
export type ServerAddress =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number; readonly family: "IPv4" | "IPv6" }
  | { readonly kind: "unix"; readonly path: string };

/** Options of {@link EchoServer.close}. */
export interface CloseOptions {
  /** Milliseconds to let open connections finish before destroying them. @default options.closeTimeout */
  timeout?: number;
}

type State = "new" | "listening" | "closing" | "closed";

/** Formats an address for one log line: `127.0.0.1:7`, `[::1]:7`, `/tmp/echo.sock`. */
export function formatAddress(address: ServerAddress): string {
  if (address.kind === "unix") return address.path;
  return address.family === "IPv6" ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Reads a listening `net.Server`'s address as a {@link ServerAddress}. */
export function serverAddress(server: Server): ServerAddress {
  const raw = server.address();
  if (raw === null) throw new ServerStateError("the server is not listening");
  if (typeof raw === "string") return { kind: "unix", path: raw };
  return { kind: "tcp", host: raw.address, port: raw.port, family: raw.family === "IPv6" ? "IPv6" : "IPv4" };
}

/**
 * A TCP or Unix socket server running one of core's models (`once`, `iterative`, `async`) with
 * a handler.
 *
 * Events: `listening` (address), `connection` (conn), `reject` (error, remote address),
 * `handlerError` (error, conn), `close` (after every connection is gone).
 */
export class EchoServer extends EventEmitter {
  /** The model this server runs. */
  readonly model: CoreModel;
  /** The limits in force, defaults applied. */
  readonly limits: NormalizedLimits;
  private readonly options: NormalizedModelOptions<string | URL | HandlerExport>;
  private readonly counters = new ServerStats();
  private readonly connections = new Set<Socket>();
  private server: Server | undefined;
  private handler: Handler | undefined;
  private modelImpl: Model | undefined;
  private state: State = "new";
  private closing: Promise<void> | undefined;
  /** Set while close() waits for the last connection. */
  private drain: Drain | undefined;
  private resolveFinished!: () => void;
  /** Resolves when the server has closed, by `close()` or (model `once`) after its connection. */
  readonly finished: Promise<void> = new Promise((resolve) => (this.resolveFinished = resolve));

  /**
   * @param options - see {@link ServerOptions}; validated here.
   * @throws {InvalidArgumentError} an option has a wrong type or value; the message names it.
   */
  constructor(options: ServerOptions = {}) {
    super();
    this.options = normalizeModelOptions(options, { carrier: { kind: "in-process" }, workerName: "MainThread" });
    const model = this.options.raw.model;
    this.model = model === undefined ? "async" : checkOneOf("options.model", model, coreModels);
    this.limits = this.options.limits;
  }

  /**
   * Loads the handler, binds and starts accepting.
   * @returns the address actually bound (port 0 becomes the real port).
   * @throws {AddressInUseError} {@link PermissionDeniedError} {@link ListenError} {@link HandlerLoadError}
   */
  async listen(): Promise<ServerAddress> {
    if (this.state !== "new") throw new ServerStateError(`listen() called on a server that is ${this.state}`);
    this.state = "listening";
    const context = { worker: this.options.workerName, options: this.options.handlerOptions };
    try {
      const spec = this.options.handler;
      this.handler =
        typeof spec === "string" || spec instanceof URL
          ? await loadHandler(spec, context)
          : await instantiateHandler(
              spec,
              context,
              spec && "name" in spec && typeof spec.name === "string" ? spec.name : "handler",
            );
      this.modelImpl = this.createModel();
      const server = createNetServer({ allowHalfOpen: true, pauseOnConnect: this.modelImpl.pauseOnConnect });
      server.on("connection", (socket) => this.modelImpl!.admit(socket));
      this.server = server;
      await listenServer(server, this.options.listen);
      // Errors after listening (rare: accept failures such as EMFILE) go to the `error` event.
      server.on("error", (error) => this.emit("error", error));
    } catch (error) {
      this.state = "closed";
      this.server = undefined;
      this.resolveFinished();
      throw error;
    }
    const address = this.address();
    this.emit("listening", address);
    return address;
  }

  /** The bound address. @throws {ServerStateError} not listening. */
  address(): ServerAddress {
    if (!this.server || !this.server.listening) throw new ServerStateError("the server is not listening");
    return serverAddress(this.server);
  }

  /** A copy of the counters now. */
  stats(): StatsSnapshot {
    let buffered = 0;
    for (const socket of this.connections) buffered += socket.writableLength;
    this.counters.buffered = buffered;
    return this.counters.snapshot();
  }

  /**
   * Stops accepting at once, lets open connections finish for up to `timeout` ms, then destroys
   * the rest. Resolves when every connection is gone. Calling it again returns the same promise.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closing) return this.closing;
    const timeout =
      options.timeout === undefined
        ? this.limits.closeTimeout
        : normalizeLimits({ closeTimeout: options.timeout }, "options").closeTimeout;
    this.state = "closing";
    this.closing = (async () => {
      this.modelImpl?.shutdown();
      this.stopAccepting();
      this.drain = drainSockets(this.connections, {
        timeout,
        onTimeout: (error) => this.options.logger.error(`[echo] ${error.message}`),
      });
      if (this.connections.size > 0) await this.drain.done;
      this.state = "closed";
      this.emit("close");
      this.resolveFinished();
    })();
    return this.closing;
  }

  /** `await using server = …` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private stopAccepting(): void {
    const server = this.server;
    if (server?.listening) server.close();
  }

  private createModel(): Model {
    const { limits, connections } = this;
    const host: ModelHost = {
      maxConnections: limits.maxConnections,
      get active() {
        return connections.size;
      },
      serve: (socket, done) => this.serve(socket, done),
      reject: (socket) => this.reject(socket),
      stopAccepting: () => this.stopAccepting(),
      finish: () => void this.close(),
    };
    if (this.model === "iterative") return iterativeModel(host, (length) => (this.counters.queued = length));
    if (this.model === "once") return onceModel(host);
    return asyncModel(host);
  }

  private serve(socket: Socket, done: () => void): void {
    if (this.state !== "listening") {
      socket.destroy();
      done();
      return;
    }
    this.connections.add(socket);
    const conn = serveSocket(socket, {
      handler: this.handler!,
      limits: this.limits,
      stats: this.counters,
      worker: this.options.workerName,
      logger: this.options.logger,
      logConnections: this.options.logConnections,
      onClose: () => {
        this.connections.delete(socket);
        this.drain?.closed();
        done();
      },
      onHandlerError: (error: HandlerError, c: Connection) => {
        if (this.listenerCount("handlerError") > 0) this.emit("handlerError", error, c);
      },
    });
    this.emit("connection", conn);
  }

  private reject(socket: Socket): void {
    this.counters.rejected++;
    const error = new MaxConnectionsError(this.limits.maxConnections);
    if (this.listenerCount("reject") > 0) this.emit("reject", error, socket.remoteAddress);
    socket.destroy();
  }
}

/** Creates an {@link EchoServer}; call `listen()` on it. */
export function createServer(options?: ServerOptions): EchoServer {
  return new EchoServer(options);
}
