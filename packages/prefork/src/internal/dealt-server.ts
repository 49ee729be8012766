/**
 * The worker side of `schedule: "round-robin"`: no listener, connections arrive from the master
 * over IPC and are served with core's `serveSocket`, limits and counters included.
 * @internal
 */
import type { Socket } from "node:net";
import type { Handler, Logger, StatsSnapshot } from "@echo/core";
import {
  ServerStats,
  drainSockets,
  loadHandler,
  serveSocket,
  type Drain,
  type NormalizedLimits,
} from "@echo/core/model-kit";

export class DealtServer {
  private readonly counters = new ServerStats();
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
  ) {}

  /** Loads the handler (throws core's HandlerLoadError). */
  static async create(o: {
    handler: string;
    handlerOptions: unknown;
    limits: NormalizedLimits;
    name: string;
    logger: Logger;
    logConnections: boolean;
  }): Promise<DealtServer> {
    const handler = await loadHandler(o.handler, { worker: o.name, options: o.handlerOptions });
    return new DealtServer(handler, o.limits, o.name, o.logger, o.logConnections);
  }

  stats(): StatsSnapshot {
    let buffered = 0;
    for (const socket of this.sockets) buffered += socket.writableLength;
    this.counters.buffered = buffered;
    return this.counters.snapshot();
  }

  serve(socket: Socket): void {
    if (this.sockets.size >= this.limits.maxConnections) {
      this.counters.rejected++;
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
