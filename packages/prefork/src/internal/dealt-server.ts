/**
 * The worker side of `schedule: "round-robin"`: no listener, connections arrive from the master
 * over IPC and are served with core's `serveSocket`, limits and counters included.
 * @internal
 */
import type { Socket } from "node:net";
import type { Handler, Logger, StatsSnapshot } from "@echo/core";
import {
  ConnectionLifetimes,
  ServerStats,
  drainSockets,
  loadHandler,
  logStructured,
  serveSocket,
  proxyGate,
  type Drain,
  type LifetimeSnapshot,
  type NormalizedLimits,
  type NormalizedProxyOptions,
  type ProxyGate,
} from "@echo/core/model-kit";

export class DealtServer {
  private readonly counters = new ServerStats();
  private readonly lifetimes = new ConnectionLifetimes();
  private readonly sockets = new Set<Socket>();
  private closing: Promise<void> | undefined;
  private drain: Drain | undefined;
  /** Called for every connection served (for `maxRequests`). */
  onConnection: (() => void) | undefined;

  private constructor(
    private readonly handler: Handler,
    readonly limits: NormalizedLimits,
    private readonly worker: string,
    private readonly logger: Logger,
    private readonly logConnections: boolean,
    private readonly gate: ProxyGate | undefined,
  ) {}

  /** Loads the handler (throws core's HandlerLoadError). */
  static async create(o: {
    handler: string;
    handlerOptions: unknown;
    limits: NormalizedLimits;
    name: string;
    logger: Logger;
    logConnections: boolean;
    proxy: NormalizedProxyOptions | undefined;
  }): Promise<DealtServer> {
    const handler = await loadHandler(o.handler, { worker: o.name, options: o.handlerOptions });
    return new DealtServer(handler, o.limits, o.name, o.logger, o.logConnections, proxyGate(o.proxy));
  }

  stats(): StatsSnapshot {
    let buffered = 0;
    for (const socket of this.sockets) buffered += socket.writableLength;
    this.counters.buffered = buffered;
    return this.counters.snapshot();
  }

  /** The connection lifetimes counted so far. */
  connectionLifetimes(): LifetimeSnapshot {
    return this.lifetimes.snapshot();
  }

  serve(socket: Socket): void {
    if (this.sockets.size >= this.limits.maxConnections) {
      this.counters.rejected++;
      logStructured(
        this.logger,
        "info",
        `rejected a connection: maxConnections (${this.limits.maxConnections}) reached`,
        {
          event: "rejection",
          remoteAddress: socket.remoteAddress ?? null,
          code: "ECHO_ERR_MAX_CONNECTIONS",
        },
      );
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    serveSocket(socket, {
      handler: this.handler,
      limits: this.limits,
      stats: this.counters,
      worker: this.worker,
      logger: this.logger,
      logConnections: this.logConnections,
      lifetimes: this.lifetimes,
      ...(this.gate !== undefined ? { proxy: this.gate } : {}),
      onClose: () => {
        this.sockets.delete(socket);
        this.drain?.closed();
      },
    });
    this.onConnection?.();
  }

  /** Lets open connections finish for up to `timeout` ms, then destroys the rest. */
  close({ timeout }: { timeout: number }): Promise<void> {
    if (!this.closing) {
      this.drain = drainSockets(this.sockets, {
        timeout,
        onTimeout: (error) => this.logger.error(`[echo] ${error.message}`),
      });
      this.closing = this.drain.done;
    }
    return this.closing;
  }
}
