/**
 * Drives a handler over a `net.Socket`, applying the limits. Every model built on Node's `net`
 * (core's three, threaded, prefork) serves its sockets through this one function.
 * @module
 */
import type { Socket } from "node:net";
import { HandlerError, IdleTimeoutError } from "./errors.js";
import type { Connection, Handler } from "./handler.js";
import type { Logger, NormalizedLimits } from "./options.js";
import type { ServerStats } from "./stats.js";

/** What {@link serveSocket} needs from the server that owns the socket. */
export interface SocketEnvironment {
  handler: Handler;
  limits: NormalizedLimits;
  stats: ServerStats;
  worker: string;
  logger: Logger;
  logConnections: boolean;
  /** Called once when the connection is gone. */
  onClose?: (conn: Connection, error?: Error) => void;
  /** Called when a handler callback fails (after the connection is destroyed). */
  onHandlerError?: (error: HandlerError, conn: Connection) => void;
}

let nextId = 1;

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof value === "object" && value !== null && typeof (value as Promise<unknown>).then === "function";
}

/** A {@link Connection} over a `net.Socket`. */
class SocketConnection implements Connection {
  readonly id = nextId++;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly worker: string;
  state: unknown = undefined;
  /** Set while a handler promise is pending: no reads until it settles. */
  private waiting = false;
  /** Set while output is over `maxBuffered`: no reads until it drains. */
  private blocked = false;
  private closeError: Error | undefined;
  /** EOF arrived while a handler promise was pending: deliver it once that settles. */
  private endPending = false;

  constructor(
    private readonly socket: Socket,
    private readonly env: SocketEnvironment,
  ) {
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.worker = env.worker;
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  write(data: Uint8Array | string): boolean {
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) return false;
    this.env.stats.bytesOut += typeof data === "string" ? Buffer.byteLength(data) : data.length;
    socket.write(data);
    if (socket.writableLength >= this.env.limits.maxBuffered) {
      // Backpressure: stop reading this client until the kernel has taken our output, so a
      // client that sends but never reads cannot grow our memory.
      this.blocked = true;
      socket.pause();
      return false;
    }
    return true;
  }

  end(data?: Uint8Array | string): void {
    if (data !== undefined) this.write(data);
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.end();
  }

  destroy(error?: Error): void {
    if (error && !this.closeError) this.closeError = error;
    this.socket.destroy();
  }

  start(): void {
    const { socket, env } = this;
    const { limits, stats } = env;
    socket.setNoDelay(true);
    if (limits.idleTimeout > 0) {
      socket.setTimeout(limits.idleTimeout, () => {
        stats.timeouts++;
        this.destroy(new IdleTimeoutError(limits.idleTimeout));
      });
    }
    socket.on("data", (chunk: Buffer) => {
      stats.bytesIn += chunk.length;
      this.call("onData", chunk);
    });
    socket.on("end", () => {
      if (this.waiting) this.endPending = true;
      else this.onPeerEnd();
    });
    socket.on("drain", () => {
      if (!this.blocked) return;
      this.blocked = false;
      this.maybeResume();
      if (env.handler.onDrain) this.call("onDrain");
    });
    socket.on("error", (error) => {
      stats.errors++;
      if (!this.closeError) this.closeError = error;
    });
    socket.on("close", () => {
      stats.active--;
      stats.closed++;
      const error = this.closeError;
      if (env.handler.onClose) {
        try {
          env.handler.onClose(this, error);
        } catch (thrown) {
          this.fail("onClose", thrown);
        }
      }
      env.onClose?.(this, error);
    });
    if (env.logConnections)
      env.logger.info(`Connected by ${this.remoteAddress ?? "unix"}:${this.remotePort ?? socket.localAddress ?? ""}`);
    if (env.handler.onConnection) this.call("onConnection");
    this.maybeResume();
  }

  private call(name: "onConnection" | "onData" | "onEnd" | "onDrain", data?: Buffer): void {
    let result: unknown;
    try {
      const handler = this.env.handler;
      result = name === "onData" ? handler.onData(this, data!) : handler[name]!(this);
    } catch (thrown) {
      this.fail(name, thrown);
      return;
    }
    if (isPromise(result)) {
      this.waiting = true;
      this.socket.pause();
      result.then(
        () => {
          this.waiting = false;
          if (this.endPending) {
            this.endPending = false;
            this.onPeerEnd();
          } else this.maybeResume();
        },
        (thrown: unknown) => this.fail(name, thrown),
      );
    }
  }

  private onPeerEnd(): void {
    if (this.env.handler.onEnd) this.call("onEnd");
    else this.end();
  }

  private maybeResume(): void {
    if (!this.waiting && !this.blocked && !this.socket.destroyed) this.socket.resume();
  }

  private fail(name: string, thrown: unknown): void {
    const error = new HandlerError(name, thrown);
    this.env.stats.errors++;
    this.env.logger.error(`[echo] ${this.worker}: connection ${this.id} closed: ${error.message}`);
    this.destroy(error);
    this.env.onHandlerError?.(error, this);
  }
}

/**
 * Serves one accepted socket with a handler until it closes. The socket should be paused (or
 * just accepted); counts it in `stats.accepted` and `stats.active`.
 */
export function serveSocket(socket: Socket, env: SocketEnvironment): Connection {
  env.stats.accepted++;
  env.stats.active++;
  const conn = new SocketConnection(socket, env);
  conn.start();
  return conn;
}
