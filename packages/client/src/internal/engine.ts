/**
 * The load generator's hot loop, run on one thread. Every connection is a {@link Slot}; the
 * steady state allocates nothing per round trip: one shared read buffer (`onread`), one payload
 * written again and again, echoed bytes compared in place against the payload, latencies kept in
 * a preallocated ring and recorded into an HDR histogram, counters in plain fields published every
 * 100 ms to a Float64Array (which may sit on a SharedArrayBuffer, so the main thread can show
 * progress without messages).
 * @module
 */
import net from "node:net";
import hdr, { type Histogram } from "hdr-histogram-js";
import { encodeNormalized, type NormalizedProxyHeader } from "../proxy-header.js";
import type { ResolvedTarget } from "../target.js";
import { errnoOf } from "./socket-errors.js";

/** Indexes into the counters array. */
export const Counter = {
  roundTrips: 0,
  mismatches: 1,
  errors: 2,
  bytesSent: 3,
  bytesReceived: 4,
  connects: 5,
} as const;

/** Length of the counters array. */
export const COUNTERS = 6;

/** Highest latency the histogram tracks, in microseconds (larger values are clamped). */
export const MAX_LATENCY_US = 600_000_000;

/** How one thread's engine is set up. Plain data, so it crosses `postMessage`. */
export interface EngineConfig {
  target: ResolvedTarget;
  connections: number;
  size: number;
  pipeline: number;
  newConnection: boolean;
  /** Round trips this engine may start; `null` for no limit. */
  count: number | null;
  durationMs: number;
  connectTimeout: number;
  /** A PROXY header to write first on every connection; `null` for none. */
  proxyHeader: NormalizedProxyHeader | null;
}

/** Why a run ended. */
export type StopReason = "duration" | "count" | "aborted";

/** What one engine measured. */
export interface EngineResult {
  counters: number[];
  errorCodes: Record<string, number>;
  histogram: Histogram;
  elapsedMs: number;
  stoppedBy: StopReason;
}

/** Builds the latency histogram every engine and the merger use: 1 µs to 600 s, 3 significant digits. */
export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_LATENCY_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
}

const IDLE = 0;
const CONNECTING = 1;
const ACTIVE = 2;
const RETRY_WAIT = 3;
const DONE = 4;

const READ_BUFFER = 256 * 1024;
/** Latencies below this many µs are counted in a flat array during the run (4 MiB per engine). */
const FAST_LATENCY_US = 1 << 20;
/** Chunks up to this many bytes are compared in JS; longer ones with `Buffer#compare` on ranges. */
const SMALL_COMPARE = 128;
const FIRST_BACKOFF_MS = 5;
const MAX_BACKOFF_MS = 500;

/** Runs the load for one thread. */
export class LoadEngine {
  readonly config: EngineConfig;
  readonly counters: Float64Array;
  readonly payload: Buffer;
  readonly histogram = newHistogram();
  readonly errorCodes: Record<string, number> = {};
  /** One buffer every socket of this engine reads into: data is consumed synchronously in the callback. */
  readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER);
  readonly slots: Slot[] = [];
  stopped = false;
  issued = 0;
  roundTrips = 0;
  mismatches = 0;
  errors = 0;
  bytesSent = 0;
  bytesReceived = 0;
  connects = 0;
  readonly limit: number;
  readonly #fast = new Uint32Array(FAST_LATENCY_US);
  #finishedSlots = 0;
  #start = 0;
  #deadline: NodeJS.Timeout | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #resolve: ((result: EngineResult) => void) | undefined;

  constructor(config: EngineConfig, counters: Float64Array, payload: Buffer) {
    this.config = config;
    this.counters = counters;
    this.payload = payload;
    this.limit = config.count ?? Number.POSITIVE_INFINITY;
    for (let i = 0; i < config.connections; i++) this.slots.push(new Slot(this));
  }

  /** Starts every connection; resolves when the duration is over, the count is reached, or {@link stop} is called. */
  run(): Promise<EngineResult> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#start = performance.now();
      if (this.stopped) {
        // Stopped before it started (an abort that came first).
        this.stopped = false;
        this.stop("aborted");
        return;
      }
      this.#deadline = setTimeout(() => this.stop("duration"), this.config.durationMs);
      this.#sweep = setInterval(() => {
        this.publish();
        this.#checkConnectTimeouts();
      }, 100);
      if (this.limit === 0) {
        this.stop("count");
        return;
      }
      for (const slot of this.slots) slot.next();
    });
  }

  /** Reserves one round trip; false once the count is used up or the run stopped. */
  take(): boolean {
    if (this.stopped || this.issued >= this.limit) return false;
    this.issued++;
    return true;
  }

  /** Gives back round trips that were started but lost to an error, so the count can still be reached. */
  giveBack(n: number): void {
    this.issued -= n;
  }

  slotFinished(): void {
    if (++this.#finishedSlots === this.slots.length) this.stop("count");
  }

  /**
   * Records one latency in µs. Latencies under ~1 s land in a flat array of counters (one add, no
   * float math); they are folded into the HDR histogram when the run stops.
   */
  record(us: number): void {
    if (us < FAST_LATENCY_US) this.#fast[us] = (this.#fast[us] as number) + 1;
    else this.histogram.recordValue(us > MAX_LATENCY_US ? MAX_LATENCY_US : us);
  }

  recordError(code: string): void {
    this.errors++;
    this.errorCodes[code] = (this.errorCodes[code] ?? 0) + 1;
  }

  /** Ends the run: closes every socket and resolves {@link run}. In-flight round trips are not counted. */
  stop(reason: StopReason): void {
    if (this.stopped) return;
    this.stopped = true;
    const elapsedMs = performance.now() - this.#start;
    clearTimeout(this.#deadline);
    clearInterval(this.#sweep);
    for (const slot of this.slots) slot.close();
    this.publish();
    const fast = this.#fast;
    for (let us = 0; us < FAST_LATENCY_US; us++) {
      const n = fast[us] as number;
      if (n !== 0) this.histogram.recordValueWithCount(us, n);
    }
    fast.fill(0);
    this.#resolve?.({
      counters: Array.from(this.counters),
      errorCodes: { ...this.errorCodes },
      histogram: this.histogram,
      elapsedMs,
      stoppedBy: reason,
    });
  }

  /** Copies the counters into the (possibly shared) counters array, for progress and the result. */
  publish(): void {
    const c = this.counters;
    c[Counter.roundTrips] = this.roundTrips;
    c[Counter.mismatches] = this.mismatches;
    c[Counter.errors] = this.errors;
    c[Counter.bytesSent] = this.bytesSent;
    c[Counter.bytesReceived] = this.bytesReceived;
    c[Counter.connects] = this.connects;
  }

  #checkConnectTimeouts(): void {
    const now = performance.now();
    for (const slot of this.slots) {
      if (slot.state === CONNECTING && now - slot.connectStart > this.config.connectTimeout)
        slot.fail("ECHO_ERR_CONNECT_TIMEOUT");
    }
  }
}

/** One connection slot: persistent, or reopened for every round trip. */
class Slot {
  readonly engine: LoadEngine;
  readonly size: number;
  readonly pipeline: number;
  readonly newConnection: boolean;
  /** Send times of the in-flight messages, oldest at `head`. */
  readonly times: Float64Array;
  readonly connectOptions: net.NetConnectOpts;
  socket: net.Socket | null = null;
  state = IDLE;
  connectStart = 0;
  inflight = 0;
  /** Bytes of the oldest in-flight message received so far. */
  received = 0;
  /** The oldest in-flight message has a wrong byte. */
  bad = false;
  head = 0;
  tail = 0;
  backoff = FIRST_BACKOFF_MS;

  constructor(engine: LoadEngine) {
    this.engine = engine;
    const { size, pipeline, newConnection, target } = engine.config;
    this.size = size;
    this.pipeline = pipeline;
    this.newConnection = newConnection;
    this.times = new Float64Array(pipeline);
    const onread = {
      buffer: engine.readBuffer,
      callback: (n: number, buf: Uint8Array): boolean => {
        this.onRead(n, buf as Buffer);
        return true;
      },
    };
    this.connectOptions =
      target.kind === "unix"
        ? { path: target.path, onread }
        : { host: target.host, port: target.port, noDelay: true, onread };
  }

  /** Starts the next round trip (new-connection mode) or opens the persistent connection. */
  next(): void {
    if (this.newConnection) {
      if (!this.engine.take()) {
        this.finish();
        return;
      }
      this.inflight = 1;
    }
    this.connect();
  }

  connect(): void {
    this.state = CONNECTING;
    this.connectStart = performance.now();
    this.engine.connects++;
    const socket = net.connect(this.connectOptions);
    this.socket = socket;
    // Per-socket listeners (not per round trip): they ignore events of a socket already replaced.
    socket.once("connect", () => {
      if (this.socket === socket) this.onConnect();
    });
    socket.on("error", (error: Error) => {
      if (this.socket === socket) this.fail(errnoOf(error) ?? "ECHO_ERR_SOCKET");
    });
    socket.on("end", () => {
      if (this.socket === socket) this.fail("ECHO_ERR_CLOSED");
    });
  }

  onConnect(): void {
    this.state = ACTIVE;
    const header = this.engine.config.proxyHeader;
    if (header !== null) (this.socket as net.Socket).write(encodeNormalized(header, this.socket as net.Socket));
    if (this.newConnection) {
      this.times[0] = this.connectStart;
      this.head = 0;
      this.tail = 0;
      this.write();
      return;
    }
    let started = 0;
    const now = performance.now();
    while (started < this.pipeline && this.engine.take()) {
      this.send(now);
      started++;
    }
    if (started === 0) this.finish();
  }

  /** Starts one more round trip on the persistent connection. */
  send(now: number): void {
    this.times[this.tail] = now;
    this.tail = this.tail + 1 === this.pipeline ? 0 : this.tail + 1;
    this.inflight++;
    this.write();
  }

  write(): void {
    this.engine.bytesSent += this.size;
    (this.socket as net.Socket).write(this.engine.payload);
  }

  onRead(n: number, buf: Buffer): void {
    const engine = this.engine;
    const payload = engine.payload;
    const size = this.size;
    engine.bytesReceived += n;
    let offset = 0;
    while (offset < n) {
      if (this.inflight === 0) {
        // The server sent more than it was sent.
        engine.mismatches++;
        this.fail("ECHO_ERR_MISMATCH");
        return;
      }
      let take = size - this.received;
      if (take > n - offset) take = n - offset;
      if (take <= SMALL_COMPARE) {
        // A short JIT-compiled loop beats the native call (and its argument checks) for small chunks.
        const base = this.received - offset;
        for (let i = offset, end = offset + take; i < end; i++) {
          if (buf[i] !== payload[base + i]) {
            this.bad = true;
            break;
          }
        }
      } else if (buf.compare(payload, this.received, this.received + take, offset, offset + take) !== 0)
        this.bad = true;
      offset += take;
      this.received += take;
      if (this.received !== size) continue;

      // One round trip complete.
      const now = performance.now();
      engine.record(Math.round((now - (this.times[this.head] as number)) * 1000));
      this.head = this.head + 1 === this.pipeline ? 0 : this.head + 1;
      this.received = 0;
      this.inflight--;
      engine.roundTrips++;
      if (this.bad) {
        engine.mismatches++;
        this.bad = false;
      }
      this.backoff = FIRST_BACKOFF_MS;
      if (this.newConnection) {
        this.drop();
        if (!engine.stopped) this.next();
        return;
      }
      if (engine.take()) this.send(now);
      else if (this.inflight === 0) {
        this.finish();
        return;
      }
    }
  }

  /** A connection failed: count it, forget its in-flight round trips, and reconnect after a backoff. */
  fail(code: string): void {
    if (this.engine.stopped) return;
    this.engine.recordError(code);
    this.drop();
    this.engine.giveBack(this.inflight);
    this.inflight = 0;
    this.state = RETRY_WAIT;
    setTimeout(() => {
      if (!this.engine.stopped && this.state === RETRY_WAIT) this.next();
    }, this.backoff).unref();
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
  }

  /** This slot has no more round trips to do. */
  finish(): void {
    this.drop();
    this.state = DONE;
    this.engine.slotFinished();
  }

  /** Destroys the socket and resets the per-connection stream state. */
  drop(): void {
    const socket = this.socket;
    this.socket = null;
    this.received = 0;
    this.bad = false;
    this.head = 0;
    this.tail = 0;
    this.state = IDLE;
    socket?.destroy();
  }

  close(): void {
    this.drop();
    this.state = DONE;
  }
}
