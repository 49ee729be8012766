/**
 * The loop thread: loads the handler, listens, and runs the C readiness loop on this thread's
 * libuv loop. The C side accepts, reads and writes; this file turns its batches of records into
 * handler calls, with the same contract as core's `serveSocket`.
 * @module
 */
import { Buffer } from "node:buffer";
import { unlinkSync } from "node:fs";
import { getSystemErrorName } from "node:util";
import { parentPort, workerData } from "node:worker_threads";
import { HandlerError, IdleTimeoutError, type Connection, type Handler, type ServerAddress } from "@echo/core";
import { ProxyHeaderError, ProxyTimeoutError, UntrustedProxyError } from "@echo/core";
import {
  ConnectionLifetimes,
  drainConnections,
  loadHandler,
  proxyGate,
  resolveHandler,
  toListenError,
  toWire,
  ProxyHeaderParser,
  type Drain,
} from "@echo/core/model-kit";
import { FdSetSizeError } from "./errors.js";
import { native, type NativeHandle } from "./internal/native.js";
import type { FromLoop, LoopInit, ToLoop } from "./internal/messages.js";
import { CloseReason, ConnOp, Family, Kind, LoopControl, Rec, RecField, REC_INTS, Stat } from "./internal/protocol.js";

const init = workerData as LoopInit;
const port = parentPort!;
const binding = native();
const stats = new Float64Array(init.stats);
/** Lifetimes are counted per batch: one clock read per batch that accepts or closes. */
const lifetimes = new ConnectionLifetimes(undefined, new Float64Array(init.lifetimes));
let batchNow = -1;
function now(): number {
  if (batchNow < 0) batchNow = performance.now();
  return batchNow;
}

/** Input buffer the C loop reads into; DATA records point into it. */
const input = Buffer.alloc(1024 * 1024);
/** Records of one batch. */
const records = new Int32Array(4096 * REC_INTS);

let loop: NativeHandle;
let loopCreated = false;
let handler: Handler;
const maxBuffered = init.limits.maxBuffered;
const byFd: (LoopConnection | undefined)[] = [];
let closing = false;
let drain: Drain | undefined;
let fdSetSizeLogged = false;
/** The PROXY gate (`proxyProtocol` on): headers are parsed here, before the handler sees a byte. */
const gate = proxyGate(init.proxy);

function post(message: FromLoop): void {
  port.postMessage(message);
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof value === "object" && value !== null && typeof (value as Promise<unknown>).then === "function";
}

/** The error of a connection the C loop closed on errno `errno` (positive), named as Node names it. */
function errnoError(errno: number): Error {
  const code = getSystemErrorName(-errno);
  return Object.assign(new Error(`connection error ${code}`), { code, errno: -errno });
}

class LoopConnection implements Connection {
  state: unknown = undefined;
  closed = false;
  /** `performance.now()` of the batch that accepted it. */
  readonly openedAt = now();
  private ended = false;
  private waiting = false;
  private endPending = false;
  private closeError: Error | undefined;
  /** While the PROXY header is awaited: its parser and deadline. */
  parser: ProxyHeaderParser | undefined;
  private headerTimer: NodeJS.Timeout | undefined;
  private received = 0;
  /** Refused by the PROXY gate: never served, its close is not the handler's. */
  refused = false;
  /** Bytes that followed the header, held while `onConnection`'s promise is pending. */
  private held: Buffer | undefined;

  constructor(
    readonly fd: number,
    readonly id: number,
    public remoteAddress: string | undefined,
    public remotePort: number | undefined,
    readonly worker: string,
  ) {}

  /** Starts waiting for the PROXY header; an untrusted peer is refused at once. */
  awaitHeader(): void {
    if (!gate!.trusted.matches(this.remoteAddress)) {
      this.refuse(new UntrustedProxyError(this.remoteAddress ?? "unix"));
      return;
    }
    this.parser = new ProxyHeaderParser();
    this.headerTimer = setTimeout(
      () => this.refuse(new ProxyTimeoutError(gate!.headerTimeout, this.received)),
      gate!.headerTimeout,
    );
  }

  /** Feeds bytes of a DATA record (a view on the shared input buffer) to the header parser. */
  feedHeader(chunk: Buffer): void {
    this.received += chunk.length;
    const result = this.parser!.feed(chunk);
    if (result.status === "needMore") return;
    if (result.status === "error") {
      this.refuse(new ProxyHeaderError(result.reason, result.message));
      return;
    }
    this.parser = undefined;
    clearTimeout(this.headerTimer);
    const { header } = result;
    if (header.source !== null) {
      this.remoteAddress = header.source.address;
      this.remotePort = header.source.port;
    }
    // `rest` points into the input buffer, which the next batch overwrites: copy it out.
    const rest = result.rest.length > 0 ? Buffer.from(result.rest) : undefined;
    // The C loop counted every byte received; the header's are not data.
    stats[Stat.BYTES_IN] = stats[Stat.BYTES_IN]! - header.length;
    this.serve(rest);
  }

  /** The peer ended before a complete header. */
  headerEnded(): void {
    this.refuse(
      new ProxyHeaderError(
        "incomplete",
        `the connection ended after ${this.received} byte(s), before a complete PROXY header`,
      ),
    );
  }

  /** Refused by the gate: closed without a reply, counted in proxyRejected, not in accepted/closed. */
  refuse(error: Error): void {
    if (this.refused || this.closed) return;
    this.refused = true;
    this.parser = undefined;
    clearTimeout(this.headerTimer);
    stats[Stat.ACCEPTED] = stats[Stat.ACCEPTED]! - 1;
    stats[Stat.BYTES_IN] = stats[Stat.BYTES_IN]! - this.received;
    stats[Stat.PROXY_REJECTED] = stats[Stat.PROXY_REJECTED]! + 1;
    if (init.logConnections)
      post({
        type: "log",
        level: "info",
        message: `Refused ${this.remoteAddress ?? "unix"}:${this.remotePort ?? ""}: ${error.message}`,
      });
    this.closeError = error;
    binding.loopConn(loop, ConnOp.DESTROY, this.fd, this.id);
  }

  /** The connection is admitted: log it, then `onConnection`, then the bytes after the header. */
  serve(first?: Buffer): void {
    if (init.logConnections) {
      const host = this.remoteAddress?.includes(":") ? `[${this.remoteAddress}]` : (this.remoteAddress ?? "unix");
      post({
        type: "log",
        level: "info",
        message: `Connected by ${host}:${this.remotePort ?? init.listen.path ?? ""}`,
        fields: {
          event: "connection",
          id: this.id,
          remoteAddress: this.remoteAddress ?? null,
          remotePort: this.remotePort ?? null,
        },
      });
    }
    if (handler.onConnection) {
      if (first !== undefined) this.held = first;
      this.call("onConnection");
      if (this.waiting || this.closed) return;
      this.held = undefined;
    }
    if (first !== undefined) this.call("onData", first);
  }

  get writableLength(): number {
    return this.closed ? 0 : binding.loopConn(loop, ConnOp.PENDING, this.fd, this.id);
  }

  write(data: Uint8Array | string): boolean {
    if (this.closed || this.ended) return false;
    const pending = binding.loopWrite(loop, this.fd, this.id, typeof data === "string" ? Buffer.from(data) : data);
    return pending >= 0 && pending < maxBuffered;
  }

  end(data?: Uint8Array | string): void {
    if (data !== undefined) this.write(data);
    if (this.closed || this.ended) return;
    this.ended = true;
    binding.loopConn(loop, ConnOp.END, this.fd, this.id);
  }

  destroy(error?: Error): void {
    if (error && !this.closeError) this.closeError = error;
    if (!this.closed) binding.loopConn(loop, ConnOp.DESTROY, this.fd, this.id);
  }

  call(name: "onConnection" | "onData" | "onEnd" | "onDrain", data?: Buffer): void {
    let result: unknown;
    try {
      result = name === "onData" ? handler.onData(this, data!) : handler[name]!(this);
    } catch (thrown) {
      this.fail(name, thrown);
      return;
    }
    if (isPromise(result)) {
      // No more reads on this connection until the promise settles, so calls never overlap.
      this.waiting = true;
      binding.loopConn(loop, ConnOp.PAUSE, this.fd, this.id, 1);
      result.then(
        () => {
          this.waiting = false;
          if (this.closed) return;
          if (this.held !== undefined) {
            const first = this.held;
            this.held = undefined;
            this.call("onData", first);
            if (this.waiting || this.closed) return;
          }
          if (this.endPending) {
            this.endPending = false;
            this.peerEnded();
          } else binding.loopConn(loop, ConnOp.PAUSE, this.fd, this.id, 0);
        },
        (thrown: unknown) => this.fail(name, thrown),
      );
    }
  }

  peerEnded(): void {
    if (this.waiting) this.endPending = true;
    else if (handler.onEnd) this.call("onEnd");
    else this.end();
  }

  closedBy(reason: number): void {
    this.closed = true;
    clearTimeout(this.headerTimer);
    if (this.refused) {
      // Never served: not the handler's, and not counted as a closed connection.
      stats[Stat.CLOSED] = stats[Stat.CLOSED]! - 1;
      return;
    }
    lifetimes.observe((now() - this.openedAt) / 1000);
    if (reason === CloseReason.IDLE) this.closeError ??= new IdleTimeoutError(init.limits.idleTimeout);
    else if (reason > 0) this.closeError ??= errnoError(reason);
    if (handler.onClose) {
      try {
        handler.onClose(this, this.closeError);
      } catch (thrown) {
        this.fail("onClose", thrown);
      }
    }
  }

  private fail(name: string, thrown: unknown): void {
    const error = new HandlerError(name, thrown);
    stats[Stat.ERRORS] = stats[Stat.ERRORS]! + 1;
    post({
      type: "log",
      level: "error",
      message: `[echo] ${this.worker}: connection ${this.id} closed: ${error.message}`,
      fields: {
        event: "handler-error",
        id: this.id,
        err: { type: error.name, message: error.message, code: error.code },
      },
    });
    post({ type: "handlerError", error: toWire(error) });
    this.destroy(error);
  }
}

function ipv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function accepted(fd: number, id: number, family: number, remotePort: number, addr: number): void {
  let remoteAddress: string | undefined;
  let rport: number | undefined;
  if (family === Family.IPV4) {
    remoteAddress = ipv4(addr);
    rport = remotePort;
  } else if (family === Family.IPV6) {
    try {
      const peer = binding.peername(fd);
      if ("address" in peer) remoteAddress = peer.address;
    } catch {
      // Already gone: the CLOSE record follows.
    }
    rport = remotePort;
  }
  const conn = new LoopConnection(fd, id, remoteAddress, rport, init.workerName);
  byFd[fd] = conn;
  if (gate !== undefined) conn.awaitHeader();
  else conn.serve();
}

/** Called by the C loop once per wait that produced records. */
function onBatch(n: number): void {
  batchNow = -1;
  const rec = records;
  for (let i = 0; i < n; i++) {
    const b = i * REC_INTS;
    const type = rec[b + RecField.TYPE]!;
    const fd = rec[b + RecField.FD]!;
    if (type === Rec.DATA) {
      const conn = byFd[fd];
      if (conn === undefined || conn.id !== rec[b + RecField.ID] || conn.closed || conn.refused) continue;
      const offset = rec[b + RecField.A]!;
      const chunk = input.subarray(offset, offset + rec[b + RecField.B]!);
      if (conn.parser !== undefined) conn.feedHeader(chunk);
      else conn.call("onData", chunk);
      continue;
    }
    if (type === Rec.ACCEPT) {
      accepted(fd, rec[b + RecField.ID]!, rec[b + RecField.A]!, rec[b + RecField.B]!, rec[b + RecField.C]!);
      continue;
    }
    if (type === Rec.FDSETSIZE) {
      if (!fdSetSizeLogged) {
        fdSetSizeLogged = true;
        post({
          type: "log",
          level: "error",
          message: `[echo] ECHO_ERR_FD_SETSIZE: select() cannot watch descriptor ${rec[b + RecField.A]} (FD_SETSIZE is ${binding.FD_SETSIZE}): connections past it are refused; use --selector epoll or poll`,
        });
      }
      continue;
    }
    const conn = byFd[fd];
    if (conn === undefined || conn.id !== rec[b + RecField.ID] || conn.closed) continue;
    if (type === Rec.EOF && conn.parser !== undefined) conn.headerEnded();
    else if (type === Rec.EOF) conn.peerEnded();
    else if (type === Rec.DRAIN) {
      if (handler.onDrain) conn.call("onDrain");
    } else if (type === Rec.CLOSE) {
      byFd[fd] = undefined;
      conn.closedBy(rec[b + RecField.A]!);
    }
  }
  drain?.closed();
}

function beginClose(timeout: number): void {
  if (closing) return;
  closing = true;
  binding.loopControl(loop, LoopControl.STOP_ACCEPTING);
  if (init.listen.path !== undefined) {
    try {
      unlinkSync(init.listen.path);
    } catch {
      // Already removed.
    }
  }
  drain = drainConnections({
    timeout,
    open: () => stats[Stat.ACTIVE]!,
    destroy: () => binding.loopControl(loop, LoopControl.DESTROY_ALL),
    onTimeout: (error) => post({ type: "log", level: "error", message: `[echo] ${error.message}` }),
    onDrained: finish,
  });
}

let finished = false;
function finish(): void {
  if (finished) return;
  finished = true;
  binding.loopControl(loop, LoopControl.FREE);
  post({ type: "closed" });
  port.close();
}

async function start(): Promise<void> {
  const handlerUrl = init.handlerUrl;
  handler = await loadHandler(handlerUrl, { worker: init.workerName, options: init.handlerOptions });
  // The fast path echoes in C before JS sees a byte: never while PROXY headers must be read first.
  const echo = init.echoFastPath && gate === undefined && handlerUrl === resolveHandler("echo");
  const { listen, limits } = init;
  let fd: number;
  if (init.listenFd !== undefined) fd = init.listenFd;
  else {
    try {
      // listenFd: an inherited socket, already bound and listening (descriptor numbers are process-wide).
      fd =
        listen.fd !== undefined
          ? binding.adoptListener(listen.fd)
          : binding.listen(
              listen.path === undefined ? listen.host : null,
              listen.port,
              listen.path ?? null,
              listen.backlog,
              listen.ipv6Only,
              init.reusePort,
            );
    } catch (error) {
      throw toListenError(error, listen);
    }
  }
  if (init.kind === Kind.SELECT && fd >= binding.FD_SETSIZE) {
    binding.close(fd);
    throw new FdSetSizeError(fd, binding.FD_SETSIZE);
  }
  const raw = binding.sockname(fd);
  const address: ServerAddress =
    "path" in raw
      ? { kind: "unix", path: listen.path ?? raw.path }
      : { kind: "tcp", host: raw.address, port: raw.port, family: raw.family };
  loop = binding.loopCreate(
    init.kind,
    fd,
    limits.maxConnections,
    limits.maxBuffered,
    limits.idleTimeout,
    echo,
    input,
    records,
    stats,
    onBatch,
  );
  loopCreated = true;
  if (init.sharedLimit) binding.loopShareLimit(loop, new Int32Array(init.sharedLimit));
  if (init.exclusiveAccept) binding.loopExclusiveAccept(loop);
  port.on("message", (message: ToLoop) => {
    if (message.type === "close") beginClose(message.timeout);
  });
  post({ type: "listening", address, fd });
}

start().catch((error: unknown) => {
  // A duplicate of a shared listener is this loop's to close when it never started.
  if (init.listenFd !== undefined && !loopCreated) {
    try {
      binding.close(init.listenFd);
    } catch {
      // Already closed.
    }
  }
  post({ type: "startError", error: toWire(error) });
  port.close();
});
