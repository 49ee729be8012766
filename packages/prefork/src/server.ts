/**
 * `PreforkServer`: a master that binds once and supervises N worker processes serving a
 * handler module with core's machinery.
 * @module
 */
import cluster, { type Worker } from "node:cluster";
import { randomInt } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { ServerStateError, type CloseOptions, type ServerAddress, type StatsSnapshot } from "@echo/core";
import {
  ServerStats,
  fromWire,
  listenServer,
  loadPrivdrop,
  normalizeLimits,
  resolveHandler,
  serverAddress,
  statsKeys,
  sumStats,
} from "@echo/core/model-kit";
import { CrashLoopError, WorkerBootError } from "./errors.js";
import { checkSchedule, setupCluster } from "./internal/cluster-setup.js";
import { isEchoMessage, type FromWorker, type ToWorker, type WorkerConfig } from "./internal/protocol.js";
import {
  normalizePreforkOptions,
  type NormalizedPreforkOptions,
  type PreforkOptions,
  type Schedule,
} from "./options.js";
import type { PreforkStats, WorkerInfo, WorkerState } from "./stats.js";

/** The worker entry, built next to this module. */
const WORKER_ENTRY = fileURLToPath(new URL("./worker.js", import.meta.url));

const GAUGES = new Set<string>(["active", "queued", "buffered"]);

/** How long a stopping worker may outlive its drain deadline before SIGKILL. */
const STOP_GRACE = 2000;
/** How long `stats()` waits for a worker's answer before using its last heartbeat. */
const STATS_WAIT = 1000;

type ServerState = "new" | "starting" | "listening" | "closing" | "closed";

interface WorkerRecord {
  readonly serial: number;
  readonly name: string;
  readonly worker: Worker;
  readonly pid: number;
  readonly startedAt: number;
  /** Whether a failure to boot stops the server (`fatal`) or is handled by whoever spawned it. */
  readonly onBootFailure: "fatal" | "caller";
  state: WorkerState;
  /** Asked to stop (reload, scale down, recycle, close): its exit is expected. */
  leaving: boolean;
  /** Asked to be recycled; its replacement is on the way. */
  retiring: boolean;
  everListened: boolean;
  bootError: Error | undefined;
  lastBeat: number;
  stats: StatsSnapshot;
  timers: Set<NodeJS.Timeout>;
  /** Sent when the worker says it is ready for it. */
  config?: WorkerConfig;
  readonly booted: Promise<void>;
  resolveBoot(): void;
  rejectBoot(error: Error): void;
  readonly exited: Promise<void>;
  resolveExit(): void;
}

function zeroStats(): StatsSnapshot {
  return new ServerStats().snapshot();
}

function defer(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A pre-forked multi-process server: `workers` processes accept on a socket the master binds
 * and shares (`schedule: "os"`), or the master accepts and deals connections to them in turn
 * (`schedule: "round-robin"`); and the master supervises them: replaces dead workers with
 * exponential backoff, stops on a boot failure or a crash loop, kills workers whose heartbeat
 * stops, recycles workers after `maxRequests`, reloads with no connection lost.
 *
 * Events: `listening` (address), `fork` (info), `workerListening` (info, dropLine?),
 * `exit` (info, code, signal), `heartbeatTimeout` (info), `recycle` (old, replacement),
 * `reload`, `error` (a fatal error after start: the server is closing), `close`.
 */
export class PreforkServer extends EventEmitter {
  /** The schedule in force. */
  readonly schedule: Schedule;
  private readonly o: NormalizedPreforkOptions;
  private readonly records = new Map<number, WorkerRecord>();
  private target: number;
  private state: ServerState = "new";
  private bound: ServerAddress | undefined;
  /** The port workers pass to `listen`: cluster shares one handle per (address, port) key. */
  private keyPort: number;
  private handlerUrl = "";
  private serial = 0;
  private readonly retired = new ServerStats();
  private crashes: number[] = [];
  private respawnTimer: NodeJS.Timeout | undefined;
  private monitor: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Round-robin: the master's own listener, and connections waiting for a ready worker. */
  private dealer: Server | undefined;
  private readonly pending: Socket[] = [];
  private nextDeal = 0;
  private statsSeq = 0;
  private readonly statsWaiters = new Map<number, (stats: StatsSnapshot) => void>();
  private resolveFinished!: () => void;
  /** The fatal error that stopped the server after it started, if any. */
  failure: Error | undefined;
  /** Resolves once the server has closed, by `close()`, `quit()` or a fatal error (see `failure`). */
  readonly finished: Promise<void> = new Promise((resolve) => (this.resolveFinished = resolve));

  /**
   * @param options - see {@link PreforkOptions}; validated here.
   * @throws {InvalidArgumentError} an option has a wrong type or value; the message names it.
   * @throws {ScheduleConflictError} this process already forks cluster workers with the other schedule.
   */
  constructor(options: PreforkOptions = {}) {
    super();
    this.o = normalizePreforkOptions(options);
    this.schedule = this.o.schedule;
    this.target = this.o.workers;
    this.keyPort = this.o.listen.port;
    checkSchedule(this.schedule);
  }

  /**
   * Forks the workers and resolves once every one of them is listening.
   * @returns the address bound (port 0 becomes the real port).
   * @throws {HandlerLoadError} the handler module is missing or fails to load in a worker.
   * @throws {AddressInUseError} {@link PermissionDeniedError} {@link ListenError} binding failed.
   * @throws {WorkerBootError} a worker died or hung before listening.
   * @throws {EchoError} `ECHO_ERR_PRIVDROP_MISSING`: `privileges` given without `@echo/privdrop`.
   */
  async listen(): Promise<ServerAddress> {
    if (this.state !== "new") throw new ServerStateError(`listen() called on a server that is ${this.state}`);
    this.state = "starting";
    try {
      checkSchedule(this.schedule);
      this.handlerUrl = resolveHandler(this.o.handler);
      if (this.o.privileges) await loadPrivdrop();
      if (this.schedule === "round-robin") {
        // The master binds and accepts; paused, so it never reads a byte of a connection.
        const dealer = createNetServer({ pauseOnConnect: true });
        dealer.on("connection", (socket: Socket) => this.deal(socket));
        dealer.on("error", (error) => this.o.logger.error(`[echo-prefork] listener: ${error.message}`));
        await listenServer(dealer, this.o.listen);
        this.dealer = dealer;
        this.bound = serverAddress(dealer);
      }
    } catch (error) {
      this.state = "closed";
      this.resolveFinished();
      throw error;
    }
    const first = Array.from({ length: this.target }, () => this.spawn("caller"));
    const settled = await Promise.allSettled(first.map((r) => r.booted));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed || this.state !== "starting") {
      const reason = failed ? (failed.reason as Error) : new ServerStateError("the server was closed while starting");
      await this.close({ timeout: 0 });
      throw reason;
    }
    this.state = "listening";
    const every = Math.max(10, Math.min(1000, Math.floor(this.o.heartbeatTimeout / 4)));
    this.monitor = setInterval(() => this.checkHeartbeats(), every);
    this.monitor.unref();
    this.fillUp();
    const address = this.address();
    this.emit("listening", address);
    return address;
  }

  /** The bound address. @throws {ServerStateError} not listening. */
  address(): ServerAddress {
    if (!this.bound || (this.state !== "listening" && this.state !== "starting"))
      throw new ServerStateError("the server is not listening");
    return this.bound;
  }

  /** The number of workers the master keeps running. */
  get workerCount(): number {
    return this.target;
  }

  /** The live workers now, with the counters of their last heartbeat. */
  workers(): WorkerInfo[] {
    return [...this.records.values()].map((r) => this.info(r));
  }

  /**
   * Counters summed over every worker (those that have exited included, with `sumStats`),
   * plus each live worker's own counters, asked for over IPC now.
   */
  async stats(): Promise<PreforkStats> {
    const live = [...this.records.values()].filter((r) => r.everListened && r.state !== "exited");
    const fresh = await Promise.all(live.map((r) => this.queryStats(r)));
    const workers = live.map((r, i) => ({ ...this.info(r), stats: fresh[i]! }));
    return { ...sumStats([this.retired.snapshot(), ...fresh]), workers };
  }

  /**
   * Zero-downtime reload: forks a new generation, waits until every new worker listens, then
   * stops the old ones gracefully. Workers import the handler module afresh. If a new worker
   * fails to boot, the new generation is stopped, the old one keeps serving, and this rejects.
   */
  reload(): Promise<void> {
    if (this.state !== "listening")
      return Promise.reject(new ServerStateError(`reload() called on a server that is ${this.state}`));
    if (this.reloading) return this.reloading;
    this.reloading = (async () => {
      const old = [...this.records.values()].filter((r) => !r.leaving);
      const fresh = Array.from({ length: this.target }, () => this.spawn("caller"));
      const settled = await Promise.allSettled(fresh.map((r) => r.booted));
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
      if (failed) {
        await Promise.all(fresh.map((r) => this.stopWorker(r, 0)));
        throw failed.reason;
      }
      if (this.state !== "listening") return;
      this.emit("reload");
      await Promise.all(old.map((r) => this.stopWorker(r, this.o.limits.closeTimeout)));
    })().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  /** Adds a worker (SIGTTIN); resolves with it once it listens. */
  async addWorker(): Promise<WorkerInfo> {
    if (this.state !== "listening") throw new ServerStateError(`addWorker() called on a server that is ${this.state}`);
    this.target++;
    const record = this.spawn("caller");
    try {
      await record.booted;
    } catch (error) {
      this.target--;
      throw error;
    }
    return this.info(record);
  }

  /** Stops one worker gracefully (SIGTTOU), the oldest; resolves once it has exited. Never below one. */
  async removeWorker(): Promise<WorkerInfo> {
    if (this.state !== "listening")
      throw new ServerStateError(`removeWorker() called on a server that is ${this.state}`);
    if (this.target <= 1) throw new ServerStateError("removeWorker() cannot remove the last worker");
    const candidates = [...this.records.values()].filter((r) => !r.leaving);
    const victim = candidates.find((r) => r.state === "listening") ?? candidates[0];
    this.target--;
    if (!victim) return Promise.reject(new ServerStateError("no worker to remove"));
    await this.stopWorker(victim, this.o.limits.closeTimeout);
    return this.info(victim);
  }

  /**
   * Graceful shutdown (SIGTERM/SIGINT): every worker stops accepting at once, open connections
   * get up to `timeout` ms (default `closeTimeout`) to finish and are then destroyed; a worker
   * still alive 2 s after that is SIGKILLed. Resolves when every worker has exited.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closing) return this.closing;
    const timeout =
      options.timeout === undefined
        ? this.o.limits.closeTimeout
        : normalizeLimits({ closeTimeout: options.timeout }, "options").closeTimeout;
    if (this.state === "new") {
      this.state = "closed";
      this.resolveFinished();
      this.closing = Promise.resolve();
      return this.closing;
    }
    this.state = "closing";
    this.dealer?.close();
    for (const socket of this.pending.splice(0)) socket.destroy();
    this.closing = (async () => {
      clearTimeout(this.respawnTimer);
      clearInterval(this.monitor);
      // Stopping workers may still be replaced by nobody; wait until every record is gone.
      while (this.records.size > 0) {
        await Promise.all([...this.records.values()].map((r) => this.stopWorker(r, timeout)));
      }
      this.state = "closed";
      this.emit("close");
      this.resolveFinished();
    })();
    return this.closing;
  }

  /** Quick shutdown (SIGQUIT): open connections are destroyed at once. */
  quit(): Promise<void> {
    return this.close({ timeout: 0 });
  }

  /** `await using server = …` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private info(r: WorkerRecord): WorkerInfo {
    return { name: r.name, pid: r.pid, state: r.state, startedAt: r.startedAt, stats: { ...r.stats } };
  }

  private spawn(onBootFailure: "fatal" | "caller"): WorkerRecord {
    setupCluster(this.schedule, WORKER_ENTRY, this.o.execArgv);
    const serial = ++this.serial;
    const name = `Process-${serial}`;
    if (!this.dealer && this.bound?.kind === "tcp" && !this.hasListenHolder()) {
      // No worker holds cluster's shared handle: it is (or will be) closed, and a new one is
      // bound on the port we already own, not on a fresh port 0.
      this.keyPort = this.bound.port;
    }
    const worker = cluster.fork();
    const boot = defer();
    const exit = defer();
    boot.promise.catch(() => {});
    const record: WorkerRecord = {
      serial,
      name,
      worker,
      pid: worker.process.pid ?? -1,
      startedAt: Date.now(),
      onBootFailure,
      state: "starting",
      leaving: false,
      retiring: false,
      everListened: false,
      bootError: undefined,
      lastBeat: Date.now(),
      stats: zeroStats(),
      timers: new Set(),
      booted: boot.promise,
      resolveBoot: boot.resolve,
      rejectBoot: boot.reject,
      exited: exit.promise,
      resolveExit: exit.resolve,
    };
    this.records.set(serial, record);
    worker.on("message", (message: unknown) => this.onMessage(record, message));
    worker.on("exit", (code: number | null, signal: NodeJS.Signals | null) => this.onExit(record, code, signal));
    worker.on("error", (error: Error) => this.o.logger.error(`[echo-prefork] ${name}: ${error.message}`));
    const { listen, limits } = this.o;
    const config: WorkerConfig = {
      name,
      handler: this.handlerUrl,
      handlerOptions: this.o.handlerOptions,
      host: listen.host,
      port: this.keyPort,
      path: listen.path,
      ipv6Only: listen.ipv6Only,
      backlog: listen.backlog,
      limits,
      logConnections: this.o.logConnections,
      heartbeatInterval: this.o.heartbeatInterval,
      maxRequests: this.o.maxRequests > 0 ? this.o.maxRequests + randomInt(0, this.o.maxRequestsJitter + 1) : 0,
      privileges: this.o.privileges,
      dealt: this.dealer ? this.bound : undefined,
    };
    record.config = config;
    this.after(record, this.o.bootTimeout, () => {
      if (record.state !== "starting") return;
      record.bootError = new WorkerBootError(name, `not listening after bootTimeout (${this.o.bootTimeout} ms)`);
      record.worker.process.kill("SIGKILL");
    });
    this.emit("fork", this.info(record));
    return record;
  }

  private hasListenHolder(): boolean {
    for (const r of this.records.values()) if (r.state === "listening") return true;
    return false;
  }

  /** A timer tied to a worker's life. */
  private after(record: WorkerRecord, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      record.timers.delete(timer);
      fn();
    }, ms);
    record.timers.add(timer);
  }

  private send(record: WorkerRecord, message: ToWorker): boolean {
    if (!record.worker.isConnected()) return false;
    record.worker.send(message);
    return true;
  }

  private onMessage(record: WorkerRecord, raw: unknown): void {
    if (!isEchoMessage(raw)) return;
    const message = raw as FromWorker;
    switch (message.type) {
      case "ready":
        if (record.state === "starting" && !record.leaving)
          this.send(record, { echo: 1, type: "start", config: record.config! });
        break;
      case "listening": {
        const address = message.address;
        if (this.bound === undefined) this.bound = address;
        else if (address.kind === "tcp" && this.bound.kind === "tcp" && address.port !== this.bound.port) {
          // Raced with the last holder's exit and bound a fresh port: drop it and start over.
          this.o.logger.error(
            `[echo-prefork] ${record.name} bound port ${address.port} instead of ${this.bound.port}; replacing it`,
          );
          record.bootError = new WorkerBootError(record.name, "bound another port");
          void this.stopWorker(record, 0).then(() => this.fillUp());
          return;
        }
        if (record.state === "starting") record.state = "listening";
        record.everListened = true;
        record.lastBeat = Date.now();
        this.emit("workerListening", this.info(record), message.dropped);
        if (message.dropped !== undefined) this.o.logger.info(`${record.name} (pid ${record.pid}): ${message.dropped}`);
        record.resolveBoot();
        this.flushPending();
        break;
      }
      case "bootError":
        record.bootError = fromWire(message.error);
        break;
      case "heartbeat":
        record.lastBeat = Date.now();
        record.stats = message.stats;
        break;
      case "stats":
        record.stats = message.stats;
        this.statsWaiters.get(message.seq)?.(message.stats);
        break;
      case "retire":
        this.recycle(record);
        break;
      case "drained":
        record.stats = message.stats;
        this.send(record, { echo: 1, type: "bye" });
        break;
    }
  }

  private onExit(record: WorkerRecord, code: number | null, signal: NodeJS.Signals | null): void {
    for (const timer of record.timers) clearTimeout(timer);
    record.timers.clear();
    const previous = record.state;
    record.state = "exited";
    this.records.delete(record.serial);
    // Counters carry over; gauges (active, queued, buffered) of an exited worker are zero.
    for (const key of statsKeys) if (!GAUGES.has(key)) this.retired[key] += record.stats[key];
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    const bootError = record.bootError ?? new WorkerBootError(record.name, `exited before listening (${how})`);
    if (!record.everListened) record.rejectBoot(bootError);
    record.resolveExit();
    this.emit("exit", this.info(record), code, signal);
    if (record.leaving || this.state !== "listening") return;
    if (!record.everListened) {
      if (record.onBootFailure === "fatal") this.fail(bootError);
      return;
    }
    this.o.logger.error(
      `[echo-prefork] ${record.name} (pid ${record.pid}) died (${how}) while ${previous}; replacing it`,
    );
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < this.o.crashWindow);
    this.crashes.push(now);
    if (this.crashes.length > this.o.maxCrashes) {
      this.fail(new CrashLoopError(this.crashes.length, this.o.crashWindow, `${record.name} ${how}`));
      return;
    }
    const delay = Math.min(this.o.backoffMax, this.o.backoffInitial * 2 ** (this.crashes.length - 1));
    if (this.respawnTimer === undefined) {
      this.respawnTimer = setTimeout(() => {
        this.respawnTimer = undefined;
        this.fillUp();
      }, delay);
    }
  }

  /** Round-robin: hands `socket` to the next ready worker (never one that is leaving). */
  private deal(socket: Socket, attempt = 0): void {
    socket.on("error", () => {});
    const ready = [...this.records.values()].filter((r) => r.state === "listening" && !r.leaving);
    if (ready.length === 0) {
      // Every worker is starting (say after a crash): hold the connection, as the backlog would.
      if (this.pending.length < this.o.listen.backlog && this.state !== "closing") this.pending.push(socket);
      else socket.destroy();
      return;
    }
    const record = ready[this.nextDeal++ % ready.length]!;
    // keepOpen false: our copy closes once the descriptor is in the IPC message. If the worker
    // dies before reading it, the kernel closes the descriptor: the client sees a close, not a hang.
    record.worker.send(
      { echo: 1, type: "conn" } satisfies ToWorker,
      socket,
      { keepOpen: false },
      (error: Error | null) => {
        if (!error) return;
        if (!socket.destroyed && attempt < 3 && this.state === "listening") this.deal(socket, attempt + 1);
        else socket.destroy();
      },
    );
  }

  private flushPending(): void {
    while (this.pending.length > 0 && this.state === "listening") {
      if (![...this.records.values()].some((r) => r.state === "listening" && !r.leaving)) return;
      this.deal(this.pending.shift()!);
    }
  }

  /** Forks replacements until `target` workers are running or starting. */
  private fillUp(): void {
    if (this.state !== "listening") return;
    let running = 0;
    for (const r of this.records.values()) if (!r.leaving && !r.retiring) running++;
    for (let i = running; i < this.target; i++) this.spawn("fatal");
  }

  private recycle(record: WorkerRecord): void {
    if (this.state !== "listening" || record.leaving || record.retiring) return;
    record.retiring = true;
    const fresh = this.spawn("fatal");
    fresh.booted.then(
      () => {
        this.emit("recycle", this.info(record), this.info(fresh));
        void this.stopWorker(record, this.o.limits.closeTimeout);
      },
      () => {},
    );
  }

  /** Asks a worker to stop gracefully; SIGKILL if it is still there `timeout` + 2 s later. */
  private stopWorker(record: WorkerRecord, timeout: number): Promise<void> {
    if (record.state === "exited") return record.exited;
    if (!record.leaving) {
      record.leaving = true;
      if (record.state === "starting") {
        // Nothing served yet, and it may not even listen for messages yet.
        record.worker.process.kill("SIGKILL");
        return record.exited;
      }
      record.state = "stopping";
      if (!this.send(record, { echo: 1, type: "stop", timeout })) record.worker.process.kill("SIGKILL");
      this.after(record, timeout + STOP_GRACE, () => {
        this.o.logger.error(
          `[echo-prefork] ${record.name} (pid ${record.pid}) still running ${timeout + STOP_GRACE} ms after stop: SIGKILL`,
        );
        record.worker.process.kill("SIGKILL");
      });
    }
    return record.exited;
  }

  private checkHeartbeats(): void {
    const now = Date.now();
    for (const r of this.records.values()) {
      if (r.state !== "listening" || now - r.lastBeat <= this.o.heartbeatTimeout) continue;
      this.o.logger.error(
        `[echo-prefork] ${r.name} (pid ${r.pid}) silent for ${now - r.lastBeat} ms (heartbeatTimeout ${this.o.heartbeatTimeout}): SIGKILL`,
      );
      r.lastBeat = now;
      this.emit("heartbeatTimeout", this.info(r));
      r.worker.process.kill("SIGKILL");
    }
  }

  private queryStats(record: WorkerRecord): Promise<StatsSnapshot> {
    const seq = ++this.statsSeq;
    return new Promise((resolve) => {
      const done = (stats: StatsSnapshot): void => {
        clearTimeout(timer);
        this.statsWaiters.delete(seq);
        resolve(stats);
      };
      const timer = setTimeout(() => done(record.stats), STATS_WAIT);
      this.statsWaiters.set(seq, done);
      if (!this.send(record, { echo: 1, type: "stats", seq })) done(record.stats);
    });
  }

  private fail(error: Error): void {
    if (this.state !== "listening") return;
    this.failure = error;
    this.o.logger.error(
      `[echo-prefork] stopping: ${(error as { code?: string }).code ?? error.name}: ${error.message}`,
    );
    if (this.listenerCount("error") > 0) this.emit("error", error);
    void this.close();
  }
}

/** Creates a {@link PreforkServer}; call `listen()` on it. */
export function createPreforkServer(options?: PreforkOptions): PreforkServer {
  return new PreforkServer(options);
}
