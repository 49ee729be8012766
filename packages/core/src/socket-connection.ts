/**
 * Drives a handler over a `net.Socket`, applying the limits. Every model built on Node's `net`
 * (core's three, threaded, prefork) serves its sockets through this one function.
 * @module
 */
import type { Socket } from "node:net";
import { HandlerError, IdleTimeoutError } from "./errors.js";
import type { Connection, Handler } from "./handler.js";
import type { ProxyGate } from "./kit/proxy-options.js";
import type { Logger, NormalizedLimits } from "./options.js";
import { logEvent } from "./kit/observability.js";
import { ProxyHeaderError, ProxyTimeoutError, UntrustedProxyError } from "./proxy/errors.js";
import type { ProxyHeader } from "./proxy/header.js";
import { ProxyHeaderParser } from "./proxy/parser.js";
import type { ServerStats } from "./stats.js";

/** What {@link serveSocket} needs from the server that owns the socket. */
export interface SocketEnvironment {
  handler: Handler;
  limits: NormalizedLimits;
  stats: ServerStats;
  worker: string;
  logger: Logger;
  logConnections: boolean;
  /**
   * Set when a PROXY header must come first (`proxyProtocol`): the handler sees nothing until
   * a valid header from a trusted peer arrived; everything else is closed and counted in
   * `stats.proxyRejected`.
   */
  proxy?: ProxyGate;
  /** Called once when the connection is gone (also for one refused by the PROXY gate, with its error). */
  onClose?: (conn: Connection, error?: Error) => void;
  /** Called when a handler callback fails (after the connection is destroyed). */
  onHandlerError?: (error: HandlerError, conn: Connection) => void;
  /** Counts each connection's lifetime (accept to close), for the metrics' histogram. */
  lifetimes?: { observe(seconds: number): void };
}

let nextId = 1;

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof value === "object" && value !== null && typeof (value as Promise<unknown>).then === "function";
}

/** A {@link Connection} over a `net.Socket`. */
class SocketConnection implements Connection {
  readonly id = nextId++;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** The PROXY header the connection started with (`proxyProtocol` on). */
  proxyHeader: ProxyHeader | undefined;
  readonly worker: string;
  state: unknown = undefined;
  /** Set while a handler promise is pending: no reads until it settles. */
  private waiting = false;
  /** Set while output is over `maxBuffered`: no reads until it drains. */
  private blocked = false;
  private closeError: Error | undefined;
  /** EOF arrived while a handler promise was pending: deliver it once that settles. */
  private endPending = false;
  /** `performance.now()` at accept, for the lifetime histogram. */
  private readonly openedAt = performance.now();

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
    if (this.env.proxy === undefined) this.begin();
    else this.awaitHeader(this.env.proxy);
  }

  /**
   * The PROXY gate: an untrusted peer is closed at once, without a byte read or written; a
   * trusted one has `headerTimeout` ms to send a valid header. The handler never sees a refused
   * connection; bytes after the header are put back in front of the stream for it.
   */
  private awaitHeader(gate: ProxyGate): void {
    const { socket } = this;
    const peer = socket.remoteAddress;
    if (!gate.trusted.matches(peer)) {
      this.refuse(new UntrustedProxyError(peer ?? "unix"));
      return;
    }
    const parser = new ProxyHeaderParser();
    let received = 0;
    const detach = (): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onCut);
      socket.off("close", onCut);
      socket.off("error", onError);
    };
    const fail = (error: Error): void => {
      detach();
      this.refuse(error);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      const result = parser.feed(chunk);
      if (result.status === "needMore") return;
      if (result.status === "error") {
        fail(new ProxyHeaderError(result.reason, result.message));
        return;
      }
      detach();
      socket.pause();
      const { header, rest } = result;
      this.proxyHeader = header;
      if (header.source !== null) {
        this.remoteAddress = header.source.address;
        this.remotePort = header.source.port;
      }
      // The first application bytes go back in front, so the handler reads them as usual.
      if (rest.length > 0) socket.unshift(rest);
      this.begin();
    };
    const onCut = (): void =>
      fail(
        new ProxyHeaderError(
          "incomplete",
          `the connection ended after ${received} byte(s), before a complete PROXY header`,
        ),
      );
    const onError = (error: Error): void => {
      this.env.stats.errors++;
      fail(new ProxyHeaderError("incomplete", `connection error before a complete PROXY header: ${error.message}`));
    };
    const timer = setTimeout(() => fail(new ProxyTimeoutError(gate.headerTimeout, received)), gate.headerTimeout);
    socket.on("data", onData);
    socket.on("end", onCut);
    socket.on("close", onCut);
    socket.on("error", onError);
    socket.resume();
  }

  /** Closes a connection the PROXY gate refused: never served, counted in `proxyRejected`. */
  private refuse(error: Error): void {
    const { socket, env } = this;
    env.stats.active--;
    env.stats.proxyRejected++;
    if (env.logConnections)
      env.logger.info(`Refused ${socket.remoteAddress ?? "unix"}:${socket.remotePort ?? ""}: ${error.message}`);
    socket.on("error", () => {});
    socket.destroy();
    env.onClose?.(this, error);
  }

  /** Serving proper: the handler's events, limits and counters. */
  private begin(): void {
    const { socket, env } = this;
    const { limits, stats } = env;
    if (env.proxy !== undefined) stats.accepted++;
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
      env.lifetimes?.observe((performance.now() - this.openedAt) / 1000);
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
    if (env.logConnections) {
      const host = this.remoteAddress?.includes(":") ? `[${this.remoteAddress}]` : (this.remoteAddress ?? "unix");
      logEvent(env.logger, "info", `Connected by ${host}:${this.remotePort ?? socket.localAddress ?? ""}`, {
        event: "connection",
        id: this.id,
        remoteAddress: this.remoteAddress ?? null,
        remotePort: this.remotePort ?? null,
      });
    }
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
    logEvent(this.env.logger, "error", `[echo] ${this.worker}: connection ${this.id} closed: ${error.message}`, {
      event: "handler-error",
      id: this.id,
      err: error,
    });
    this.destroy(error);
    this.env.onHandlerError?.(error, this);
  }
}

/**
 * Serves one accepted socket with a handler until it closes. The socket should be paused (or
 * just accepted); counts it in `stats.accepted` and `stats.active`.
 */
export function serveSocket(socket: Socket, env: SocketEnvironment): Connection {
  // With a PROXY gate, `accepted` counts once the header is in (see begin()); `active` counts
  // from now, so headers in progress count toward maxConnections.
  if (env.proxy === undefined) env.stats.accepted++;
  env.stats.active++;
  const conn = new SocketConnection(socket, env);
  conn.start();
  return conn;
}
