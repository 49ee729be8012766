/**
 * `EchoServer`: the lifecycle shared by core's models: listen, serve, close with a deadline.
 * @module
 */
import type { Socket as DatagramSocket } from "node:dgram";
import { EventEmitter } from "node:events";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { InvalidArgumentError, MaxConnectionsError, ServerStateError } from "./errors.js";
import type { HandlerError } from "./errors.js";
import type { Transport } from "./datagram/contract.js";
import { listenTransport } from "./datagram/listen-transport.js";
import { serveDatagrams, type DatagramService } from "./datagram/serve.js";
import { DatagramStats } from "./datagram/stats.js";
import type { Connection, Handler, HandlerExport } from "./handler.js";
import { instantiateHandler, loadHandler } from "./handler-loader.js";
import { listenerBackoff, type AcceptBackoff } from "./kit/accept-backoff.js";
import { drainSockets, type Drain } from "./kit/drain.js";
import { normalizeModelOptions, type NormalizedModelOptions } from "./kit/model-options.js";
import { logStructured, modelLogger, serveModelMetrics } from "./kit/observability.js";
import type { EndpointAddress } from "./observability/endpoint.js";
import { ConnectionLifetimes, type LifetimeSnapshot } from "./observability/lifetimes.js";
import type { Observability } from "./observability/start.js";
import { proxyGate, type ProxyGate } from "./kit/proxy-options.js";
import { asyncModel } from "./models/async.js";
import { iterativeModel } from "./models/iterative.js";
import type { Model, ModelHost } from "./models/model.js";
import { onceModel } from "./models/once.js";
import {
  checkOneOf,
  normalizeLimits,
  type CoreModel,
  type Logger,
  type NormalizedLimits,
  type ServerOptions,
} from "./options.js";
import { serveSocket } from "./socket-connection.js";
import { ServerStats, type StatsSnapshot } from "./stats.js";

/** The models of `@echo/core`. */
export const coreModels: readonly CoreModel[] = ["once", "iterative", "async"];

/**
 * Where a server listens: a TCP address, a Unix socket path, or (`transport: "udp"`) a UDP
 * address. With `transport: "both"` it is the TCP address; UDP is served on the same port.
 */
export type ServerAddress =
  | { readonly kind: "tcp" | "udp"; readonly host: string; readonly port: number; readonly family: "IPv4" | "IPv6" }
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
  const text = address.family === "IPv6" ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
  return address.kind === "udp" ? `${text}/udp` : text;
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
 * With `transport` `udp` or `both` it also serves datagrams (`iterative`: one handler call at a
 * time; `async`: overlapping), with the datagram safety rules (see the README).
 *
 * Events: `listening` (address), `connection` (conn), `reject` (error, remote address),
 * `handlerError` (error, conn; conn is undefined for a datagram), `close` (after every connection is gone).
 */
export class EchoServer extends EventEmitter {
  /** The model this server runs. */
  readonly model: CoreModel;
  /** The limits in force, defaults applied. */
  readonly limits: NormalizedLimits;
  /** `tcp`, `udp`, or `both` (TCP and UDP on one port number). */
  readonly transport: Transport;
  private readonly options: NormalizedModelOptions<string | URL | HandlerExport>;
  private readonly counters = new ServerStats();
  private readonly lifetimes = new ConnectionLifetimes();
  /** `options.logger`, or a JSON logger over it with `logFormat: "json"` (set in listen()). */
  private logger: Logger;
  private observability: Observability | undefined;
  private readonly gate: ProxyGate | undefined;
  private readonly connections = new Set<Socket>();
  private server: Server | undefined;
  private backoff: AcceptBackoff | undefined;
  private datagramSocket: DatagramSocket | undefined;
  private datagrams: DatagramService | undefined;
  private readonly datagramCounters = new DatagramStats();
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
    this.logger = this.options.logger;
    this.gate = proxyGate(this.options.proxy);
    this.transport = this.options.datagram.transport;
    if (this.transport !== "tcp" && this.model === "once") {
      throw new InvalidArgumentError(
        `options.model "once" serves one connection: it cannot be used with options.transport ${JSON.stringify(this.transport)}`,
      );
    }
  }

  /**
   * Loads the handler, binds and starts accepting.
   * @returns the address actually bound (port 0 becomes the real port).
   * @throws {AddressInUseError} {@link PermissionDeniedError} {@link ListenError} {@link HandlerLoadError}
   */
  async listen(): Promise<ServerAddress> {
    if (this.state !== "new") throw new ServerStateError(`listen() called on a server that is ${this.state}`);
    this.state = "listening";
    const context = {
      worker: this.options.workerName,
      options: this.options.handlerOptions,
      transport: this.transport,
    };
    try {
      this.logger = await modelLogger(this.options.logger, this.options.logFormat, this.model, this.options.workerName);
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
      server.on("connection", (socket) => {
        this.backoff?.accepted();
        this.modelImpl!.admit(socket);
      });
      const { tcp, udp } = await listenTransport(this.transport, this.options.listen, server);
      if (tcp) {
        this.server = server;
        this.backoff = this.acceptBackoff(server);
        // Errors after listening go to the `error` event; running out of descriptors pauses accepting.
        server.on("error", (error) => {
          if (!this.backoff?.handle(error)) this.emit("error", error);
        });
      }
      if (udp) this.startDatagrams(udp);
      // A failure lands in the catch below, which stops the listener.
      this.observability = await serveModelMetrics(
        {
          address: this.options.metrics,
          model: this.model,
          source: () => ({
            workers: [{ worker: this.options.workerName, stats: this.stats(), lifetimes: this.lifetimes.snapshot() }],
          }),
          stats: () => this.stats(),
        },
        { starting: () => this.state === "listening", abort: () => Promise.resolve() },
      );
    } catch (error) {
      this.state = "closed";
      this.backoff?.stop();
      if (this.server?.listening) this.server.close();
      this.server = undefined;
      void this.datagrams?.close(0);
      this.resolveFinished();
      throw error;
    }
    const address = this.address();
    this.emit("listening", address);
    return address;
  }

  /** The bound address (TCP for `both`). @throws {ServerStateError} not listening. */
  address(): ServerAddress {
    if (this.server?.listening) return serverAddress(this.server);
    if (this.datagramSocket && this.datagrams && this.state === "listening") {
      const raw = this.datagramSocket.address();
      return { kind: "udp", host: raw.address, port: raw.port, family: raw.family === "IPv6" ? "IPv6" : "IPv4" };
    }
    throw new ServerStateError("the server is not listening");
  }

  /** Where the `metrics` endpoint listens; `undefined` without the option (or before `listen()`). */
  metricsAddress(): EndpointAddress | undefined {
    return this.observability?.address;
  }

  /** The connection lifetimes counted so far (what the metrics' histogram shows). */
  connectionLifetimes(): LifetimeSnapshot {
    return this.lifetimes.snapshot();
  }

  /** A copy of the counters now. */
  stats(): StatsSnapshot {
    let buffered = 0;
    for (const socket of this.connections) buffered += socket.writableLength;
    this.counters.buffered = buffered;
    const out = this.counters.snapshot();
    if (this.transport !== "tcp") out.datagram = this.datagramCounters.snapshot();
    return out;
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
    this.observability?.setDraining();
    this.closing = (async () => {
      this.modelImpl?.shutdown();
      this.stopAccepting();
      logStructured(this.logger, "info", `draining ${this.connections.size} connections`, {
        event: "drain",
        open: this.connections.size,
        timeout,
      });
      this.drain = drainSockets(this.connections, {
        timeout,
        onTimeout: (error) => this.logger.error(`[echo] ${error.message}`),
      });
      await Promise.all([this.connections.size > 0 ? this.drain.done : undefined, this.datagrams?.close(timeout)]);
      await this.observability?.close();
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

  /** Out of descriptors, accepting pauses (the listener closes) and resumes on the same address. */
  private acceptBackoff(server: Server): AcceptBackoff {
    const bound = serverAddress(server);
    return listenerBackoff(server, this.options.listen, bound.kind === "tcp" ? bound.port : undefined, {
      name: this.options.workerName,
      logger: this.options.logger,
      stats: this.counters,
      active: () => this.state === "listening",
    });
  }

  private stopAccepting(): void {
    this.backoff?.stop();
    const server = this.server;
    if (server?.listening) server.close();
  }

  private startDatagrams(socket: DatagramSocket): void {
    this.datagramSocket = socket;
    this.datagrams = serveDatagrams(socket, {
      handler: this.handler as Required<Pick<Handler, "onDatagram">>,
      options: this.options.datagram,
      stats: this.datagramCounters,
      worker: this.options.workerName,
      model: this.model === "iterative" ? "iterative" : "async",
      logger: this.options.logger,
      logDatagrams: this.options.logConnections,
      onHandlerError: (error) => {
        if (this.listenerCount("handlerError") > 0) this.emit("handlerError", error, undefined);
      },
    });
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
      logger: this.logger,
      logConnections: this.options.logConnections,
      lifetimes: this.lifetimes,
      ...(this.gate !== undefined ? { proxy: this.gate } : {}),
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
    logStructured(
      this.logger,
      "info",
      `rejected a connection from ${socket.remoteAddress ?? "unix"}: ${error.message}`,
      {
        event: "rejection",
        remoteAddress: socket.remoteAddress ?? null,
        code: error.code,
      },
    );
    if (this.listenerCount("reject") > 0) this.emit("reject", error, socket.remoteAddress);
    socket.destroy();
  }
}

/** Creates an {@link EchoServer}; call `listen()` on it. */
export function createServer(options?: ServerOptions): EchoServer {
  return new EchoServer(options);
}
