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
import { drainConnections, loadHandler, resolveHandler, toListenError, toWire, type Drain } from "@echo/core/model-kit";
import { FdSetSizeError } from "./errors.js";
import { native, type NativeHandle } from "./internal/native.js";
import type { FromLoop, LoopInit, ToLoop } from "./internal/messages.js";
import { CloseReason, ConnOp, Family, Kind, LoopControl, Rec, RecField, REC_INTS, Stat } from "./internal/protocol.js";

const init = workerData as LoopInit;
const port = parentPort!;
const binding = native();
const stats = new Float64Array(init.stats);

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
  private ended = false;
  private waiting = false;
  private endPending = false;
  private closeError: Error | undefined;

  constructor(
    readonly fd: number,
    readonly id: number,
    readonly remoteAddress: string | undefined,
    readonly remotePort: number | undefined,
    readonly worker: string,
  ) {}

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
  if (init.logConnections)
    post({
      type: "log",
      level: "info",
      message: `Connected by ${remoteAddress ?? "unix"}:${rport ?? init.listen.path ?? ""}`,
    });
  if (handler.onConnection) conn.call("onConnection");
}

/** Called by the C loop once per wait that produced records. */
function onBatch(n: number): void {
  const rec = records;
  for (let i = 0; i < n; i++) {
    const b = i * REC_INTS;
    const type = rec[b + RecField.TYPE]!;
    const fd = rec[b + RecField.FD]!;
    if (type === Rec.DATA) {
      const conn = byFd[fd];
      if (conn === undefined || conn.id !== rec[b + RecField.ID] || conn.closed) continue;
      const offset = rec[b + RecField.A]!;
      conn.call("onData", input.subarray(offset, offset + rec[b + RecField.B]!));
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
    if (type === Rec.EOF) conn.peerEnded();
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
  const echo = init.echoFastPath && handlerUrl === resolveHandler("echo");
  const { listen, limits } = init;
  let fd: number;
  if (init.listenFd !== undefined) fd = init.listenFd;
  else {
    try {
      fd = binding.listen(
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
