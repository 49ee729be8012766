/**
 * The worker side of `schedule: "round-robin"`: no listener, connections arrive from the master
 * over IPC and are served with core's `serveSocket`, limits and counters included.
 * @internal
 */
import type { Socket } from "node:net";
import { CloseTimeoutError, ServerStats, loadHandler, serveSocket, type Handler, type Logger, type NormalizedLimits, type StatsSnapshot } from "@echo/core";

export class DealtServer {
  private readonly counters = new ServerStats();
  private readonly sockets = new Set<Socket>();
  private closing: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;
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
  static async create(o: { handler: string; handlerOptions: unknown; limits: NormalizedLimits; name: string; logger: Logger; logConnections: boolean }): Promise<DealtServer> {
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
        if (this.sockets.size === 0) this.onDrained?.();
      },
    });
    this.onConnection?.();
  }

  /** Lets open connections finish for up to `timeout` ms, then destroys the rest. */
  close({ timeout }: { timeout: number }): Promise<void> {
    this.closing ??= (async () => {
      if (this.sockets.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const drained = new Promise<void>((resolve) => (this.onDrained = resolve));
      const deadline = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeout)));
      if ((await Promise.race([drained, deadline])) === "timeout") {
        this.logger.error(`[echo] ${new CloseTimeoutError(timeout, this.sockets.size).message}`);
        for (const socket of this.sockets) socket.destroy();
        await drained;
      }
      clearTimeout(timer);
    })();
    return this.closing;
  }
}
