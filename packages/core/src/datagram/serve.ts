/**
 * Serving a bound `dgram` socket with a datagram handler: the safety rules, the counters, and
 * the `async` or `iterative` model. Used by core and by model packages through the kit.
 * @module
 */
import { Buffer } from "node:buffer";
import type { RemoteInfo, Socket } from "node:dgram";
import { HandlerError } from "../errors.js";
import type { Logger } from "../options.js";
import type { Datagram, DatagramHandler } from "./contract.js";
import type { NormalizedDatagramOptions } from "./options.js";
import { RateLimiter, isReflectionPort } from "./safety.js";
import type { DatagramStats } from "./stats.js";

/** Datagrams the `iterative` model holds waiting for the handler; more are dropped (`overflow`). */
export const MAX_QUEUED_DATAGRAMS = 256;
/** Handler calls of the `async` model whose promises are pending at once; more are dropped (`overflow`). */
export const MAX_PENDING_DATAGRAMS = 4096;

/** What {@link serveDatagrams} needs. */
export interface DatagramEnvironment {
  handler: DatagramHandler;
  options: NormalizedDatagramOptions;
  stats: DatagramStats;
  /** The name handlers see as `datagram.worker`. */
  worker: string;
  /** `iterative` awaits each handler call before the next datagram; `async` lets them overlap. */
  model: "async" | "iterative";
  logger: Logger;
  /** Log one line per datagram (`Datagram from 127.0.0.1:50312, 5 bytes`). */
  logDatagrams?: boolean;
  onHandlerError?(error: HandlerError, datagram: Datagram): void;
}

/** A running datagram service: {@link serveDatagrams} returns it. */
export interface DatagramService {
  /** Stops serving: closes the socket, then waits for pending handler calls for up to `timeout` ms. */
  close(timeout: number): Promise<void>;
}

class ServedDatagram implements Datagram {
  constructor(
    private readonly service: Service,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly family: "IPv4" | "IPv6",
    readonly worker: string,
  ) {}

  reply(data: Uint8Array | string): void {
    this.service.send(typeof data === "string" ? Buffer.from(data) : data, this.remotePort, this.remoteAddress);
  }
}

class Service implements DatagramService {
  private readonly limiter: RateLimiter | undefined;
  private readonly queue: [Buffer, RemoteInfo][] = [];
  private busy = false;
  private pending = 0;
  private closed = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly env: DatagramEnvironment,
  ) {
    const rate = env.options.maxDatagramsPerAddress;
    this.limiter = rate === undefined ? undefined : new RateLimiter(rate);
    socket.on("message", (data, rinfo) => this.receive(data, rinfo));
    socket.on("error", (error) => {
      env.stats.errors++;
      env.logger.error(`[echo] datagram socket error: ${error.message}`);
    });
  }

  private receive(data: Buffer, rinfo: RemoteInfo): void {
    const { stats, options } = this.env;
    stats.received++;
    stats.bytesIn += data.length;
    if (this.closed) return stats.drop("closing");
    if (isReflectionPort(rinfo.port)) return stats.drop("reflection");
    if (data.length > options.maxDatagram) return stats.drop("truncated");
    if (this.limiter !== undefined && !this.limiter.allow(rinfo.address)) return stats.drop("rateLimited");
    if (this.env.logDatagrams)
      this.env.logger.info(
        `Datagram from ${rinfo.family === "IPv6" ? `[${rinfo.address}]` : rinfo.address}:${rinfo.port}, ${data.length} bytes`,
      );
    if (this.env.model === "iterative") {
      if (this.busy) {
        if (this.queue.length >= MAX_QUEUED_DATAGRAMS) return stats.drop("overflow");
        this.queue.push([data, rinfo]);
        stats.queued = this.queue.length;
        return;
      }
      this.iterate(data, rinfo);
      return;
    }
    if (this.pending >= MAX_PENDING_DATAGRAMS) return stats.drop("overflow");
    const result = this.call(data, rinfo);
    if (result !== undefined) {
      this.pending++;
      void result.finally(() => this.settled());
    }
  }

  /** Calls the handler; returns a promise (that never rejects) when the handler returned one. */
  private call(data: Buffer, rinfo: RemoteInfo): Promise<void> | undefined {
    const datagram = new ServedDatagram(
      this,
      rinfo.address,
      rinfo.port,
      rinfo.family === "IPv6" ? "IPv6" : "IPv4",
      this.env.worker,
    );
    try {
      const result = this.env.handler.onDatagram(datagram, data);
      if (result !== undefined && typeof result.then === "function") {
        return Promise.resolve(result).then(undefined, (error: unknown) => this.failed(error, datagram));
      }
    } catch (error) {
      this.failed(error, datagram);
    }
    return undefined;
  }

  private failed(error: unknown, datagram: Datagram): void {
    this.env.stats.errors++;
    const wrapped = new HandlerError("onDatagram", error);
    if (this.env.onHandlerError) this.env.onHandlerError(wrapped, datagram);
    else this.env.logger.error(`[echo] ${wrapped.message}`);
  }

  private iterate(data: Buffer, rinfo: RemoteInfo): void {
    this.busy = true;
    let next: [Buffer, RemoteInfo] | undefined = [data, rinfo];
    while (next !== undefined) {
      const result = this.call(next[0], next[1]);
      if (result !== undefined) {
        void result.finally(() => {
          this.busy = false;
          this.drainQueue();
        });
        return;
      }
      next = this.queue.shift();
      this.env.stats.queued = this.queue.length;
    }
    this.busy = false;
    this.idle?.();
  }

  private drainQueue(): void {
    const next = this.queue.shift();
    this.env.stats.queued = this.queue.length;
    if (next !== undefined && !this.closed) this.iterate(next[0], next[1]);
    else {
      if (next !== undefined) this.env.stats.drop("closing");
      for (; this.queue.length > 0; this.queue.shift()) this.env.stats.drop("closing");
      this.env.stats.queued = 0;
      this.idle?.();
    }
  }

  private settled(): void {
    this.pending--;
    if (this.pending === 0) this.idle?.();
  }

  send(data: Uint8Array, port: number, address: string): void {
    const { stats, options } = this.env;
    if (data.length > options.maxDatagram) return stats.drop("replyTooLarge");
    if (this.closed && !this.socketOpen) return stats.drop("closing");
    stats.replied++;
    stats.bytesOut += data.length;
    this.socket.send(data, port, address, (error) => {
      if (error) stats.errors++;
    });
  }

  private socketOpen = true;

  async close(timeout: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const waiting = this.pending > 0 || this.busy;
    if (waiting) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        timer = setTimeout(resolve, timeout);
      });
      clearTimeout(timer);
    }
    for (; this.queue.length > 0; this.queue.shift()) this.env.stats.drop("closing");
    this.env.stats.queued = 0;
    this.socketOpen = false;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

/**
 * Serves `socket` (bound, not yet receiving elsewhere) with `env.handler`. Datagrams from source
 * port 0 or a small-service port, over `maxDatagram`, or over the rate limit are dropped and
 * counted; every other one reaches `onDatagram`.
 */
export function serveDatagrams(socket: Socket, env: DatagramEnvironment): DatagramService {
  return new Service(socket, env);
}
