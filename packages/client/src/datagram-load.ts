/**
 * `runDatagramLoad()`: the UDP load generator. N flows, each its own socket, each keeping a
 * window of datagrams in flight; every reply is byte-checked; loss and reordering are counted
 * apart from errors.
 * @module
 */
import { Buffer } from "node:buffer";
import { randomFillSync } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import { invalidArg } from "./errors.js";
import { newHistogram } from "./internal/engine.js";
import { summarizeLatency } from "./internal/latency.js";
import type { LatencySummary } from "./load.js";
import { measureCost, type LoadCost } from "./load-cost.js";

/** Options of {@link runDatagramLoad}. */
export interface DatagramLoadOptions {
  /** Server host. @default "127.0.0.1" */
  host?: string;
  /** Server UDP port. */
  port?: number;
  /** Flows, each its own socket (source port), 1–4096. @default 50 */
  flows?: number;
  /** Datagrams in flight per flow, 1–1024. @default 1 */
  window?: number;
  /** Bytes per datagram, 8–65507 (the first 8 carry the flow and sequence number). @default 64 */
  size?: number;
  /** Seconds to run, at most 600. @default 10 (600 with `count`) */
  duration?: number;
  /** Datagrams to send in total, then stop. */
  count?: number;
  /** Milliseconds after which a datagram without reply counts as lost (and the window moves on). @default 1000 */
  lossTimeout?: number;
  /** Stops the run early. */
  signal?: AbortSignal;
}

/** What {@link runDatagramLoad} measured (plain data: `JSON.stringify` gives `--json`). */
export interface DatagramLoadResult {
  target: string;
  transport: "udp";
  flows: number;
  window: number;
  size: number;
  elapsed: number;
  stoppedBy: "duration" | "count" | "aborted";
  /** Datagrams sent. */
  sent: number;
  /** Replies received and byte-checked equal (round trips). */
  roundTrips: number;
  roundTripsPerSecond: number;
  /** Datagrams without reply within `lossTimeout` (or by the end of the run). */
  lost: number;
  /** Replies that arrived after a reply to a later datagram of the same flow. */
  reordered: number;
  /** Replies whose bytes differ from what was sent. */
  mismatches: number;
  /** Replies to datagrams already counted as lost, and duplicates. */
  late: number;
  /** Send and socket errors. */
  errors: number;
  errorCodes: Record<string, number>;
  /** Round trip latency in microseconds. */
  latency: LatencySummary;
  /** What the load generator itself cost. */
  cost: LoadCost;
}

const HEADER = 8;

function int(name: string, value: unknown, def: number, min: number, max: number): number {
  if (value === undefined) return def;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArg(
      `options.${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value) ?? typeof value}`,
    );
  }
  return value;
}

interface Flow {
  id: number;
  socket: Socket;
  /** seq → send time (ms, performance.now()). */
  inflight: Map<number, number>;
  nextSeq: number;
  highest: number;
}

/**
 * Runs UDP echo load against `host:port` and resolves with what it measured. Always ends by
 * itself: after `duration` (≤ 600 s) or `count` datagrams, then waits up to `lossTimeout` for
 * the last replies.
 * @throws {EchoClientError} `ECHO_ERR_INVALID_ARG` naming the option.
 */
export async function runDatagramLoad(options: DatagramLoadOptions): Promise<DatagramLoadResult> {
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string" || isIP(host) === 0)
    throw invalidArg(`options.host must be an IP address for UDP, got ${JSON.stringify(host)}`);
  const port = int("port", options.port, -1, 1, 65535);
  if (port < 0) throw invalidArg("options.port is required");
  const flowsN = int("flows", options.flows, 50, 1, 4096);
  const windowN = int("window", options.window, 1, 1, 1024);
  const size = int("size", options.size, 64, HEADER, 65_507);
  const count = options.count === undefined ? Infinity : int("count", options.count, 0, 1, Number.MAX_SAFE_INTEGER);
  const durationDefault = options.count === undefined ? 10 : 600;
  if (
    options.duration !== undefined &&
    (typeof options.duration !== "number" || !(options.duration > 0) || options.duration > 600)
  ) {
    throw invalidArg(
      `options.duration must be a number of seconds above 0 and at most 600, got ${String(options.duration)}`,
    );
  }
  const duration = options.duration ?? durationDefault;
  const lossTimeout = int("lossTimeout", options.lossTimeout, 1000, 1, 60_000);
  const type = isIP(host) === 6 ? "udp6" : "udp4";

  const template = Buffer.allocUnsafe(size);
  randomFillSync(template);
  const histogram = newHistogram();
  const errorCodes: Record<string, number> = {};
  let sent = 0;
  let roundTrips = 0;
  let lost = 0;
  let reordered = 0;
  let mismatches = 0;
  let late = 0;
  let errors = 0;
  let issuing = true;
  let stoppedBy: DatagramLoadResult["stoppedBy"] = "duration";

  const countError = (code: string): void => {
    errors++;
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
  };
  const flows: Flow[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const inflightTotal = (): number => flows.reduce((n, f) => n + f.inflight.size, 0);
  const maybeDone = (): void => {
    if (!issuing && inflightTotal() === 0) finish();
  };
  const onSent = (error: Error | null): void => {
    if (error) countError((error as NodeJS.ErrnoException).code ?? "ESEND");
  };
  const issue = (flow: Flow): void => {
    if (!issuing) return;
    if (sent >= count) {
      issuing = false;
      stoppedBy = "count";
      return;
    }
    const seq = flow.nextSeq++ >>> 0;
    // A fresh buffer per datagram: dgram holds it until the send completes.
    const out = Buffer.allocUnsafe(size);
    template.copy(out, HEADER, HEADER);
    out.writeUInt32BE(flow.id, 0);
    out.writeUInt32BE(seq, 4);
    flow.inflight.set(seq, performance.now());
    sent++;
    flow.socket.send(out, port, host, onSent);
  };
  const receive = (flow: Flow, reply: Buffer): void => {
    const now = performance.now();
    if (reply.length < HEADER || reply.readUInt32BE(0) !== flow.id) {
      mismatches++;
      return;
    }
    const seq = reply.readUInt32BE(4);
    const at = flow.inflight.get(seq);
    if (at === undefined) {
      late++;
      return;
    }
    flow.inflight.delete(seq);
    if (reply.length !== size || template.compare(reply, HEADER, size, HEADER, size) !== 0) mismatches++;
    else {
      roundTrips++;
      histogram.recordValue(Math.max(1, Math.round((now - at) * 1000)));
    }
    if (seq < flow.highest) reordered++;
    else flow.highest = seq;
    issue(flow);
    maybeDone();
  };

  for (let i = 0; i < flowsN; i++) {
    const socket = createSocket(type);
    const flow: Flow = { id: i + 1, socket, inflight: new Map(), nextSeq: 0, highest: -1 };
    socket.on("message", (reply) => receive(flow, reply));
    socket.on("error", (error: NodeJS.ErrnoException) => countError(error.code ?? "ESOCKET"));
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ address: type === "udp6" ? "::" : "0.0.0.0", port: 0 }, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    flows.push(flow);
  }

  const cost = measureCost();
  const started = performance.now();
  const stop = (reason: DatagramLoadResult["stoppedBy"]): void => {
    if (!issuing) return;
    issuing = false;
    stoppedBy = reason;
    maybeDone();
  };
  const durationTimer = setTimeout(() => stop("duration"), duration * 1000);
  const onAbort = (): void => stop("aborted");
  options.signal?.addEventListener("abort", onAbort);
  if (options.signal?.aborted) stop("aborted");
  // Loss: a datagram without reply after lossTimeout is counted lost and its slot refilled.
  const sweep = setInterval(
    () => {
      const limit = performance.now() - lossTimeout;
      for (const flow of flows) {
        for (const [seq, at] of flow.inflight) {
          if (at > limit) continue;
          flow.inflight.delete(seq);
          lost++;
          issue(flow);
        }
      }
      maybeDone();
    },
    Math.max(5, Math.min(250, lossTimeout / 4)),
  );
  for (const flow of flows) for (let w = 0; w < windowN; w++) issue(flow);
  maybeDone();
  // After the run: at most lossTimeout more for the last replies.
  await finished;
  clearTimeout(durationTimer);
  clearInterval(sweep);
  options.signal?.removeEventListener("abort", onAbort);
  const elapsedMs = performance.now() - started;
  const spent = cost.stop(roundTrips);
  await Promise.all(flows.map((f) => new Promise<void>((resolve) => f.socket.close(() => resolve()))));

  const elapsed = elapsedMs / 1000;
  return {
    target: type === "udp6" ? `[${host}]:${port}/udp` : `${host}:${port}/udp`,
    transport: "udp",
    flows: flowsN,
    window: windowN,
    size,
    elapsed,
    stoppedBy,
    sent,
    roundTrips,
    roundTripsPerSecond: elapsed > 0 ? roundTrips / elapsed : 0,
    lost,
    reordered,
    mismatches,
    late,
    errors,
    errorCodes,
    latency: summarizeLatency(histogram),
    cost: spent,
  };
}
