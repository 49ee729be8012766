/**
 * A load burst from the page: N connections for T seconds through `@echo/client`'s `runLoad`,
 * run as one-second slices so that every second brings its own latency percentiles.
 * @module
 */
import { runLoad } from "@echo/client";
import type { LoadSpec } from "./requests.js";

/** Payload bytes per round trip; the boxes turn the servers' bytes out into round trips with it. */
export const LOAD_SIZE = 64;

/** What the page shows of a burst. */
export interface LoadState {
  connections: number;
  seconds: number;
  running: boolean;
  /** Seconds since the burst started. */
  elapsed: number;
  /** Round trips the client completed (every byte checked). */
  roundTrips: number;
  /** Connection failures so far (resets, refused reconnects, closes by the server). */
  errors: number;
  /** Echoes that differed from what was sent: always 0 unless a server is broken. */
  mismatches: number;
  /** Latency of the last completed second, in milliseconds. */
  p50: number | null;
  p99: number | null;
  /** Why it ended, once it has: `done`, `stopped`, or an error message. */
  ended: string | null;
}

/** A running (or finished) load burst. */
export class LoadBurst {
  readonly spec: LoadSpec;
  private readonly controller = new AbortController();
  private readonly started = performance.now();
  private finishedAt: number | undefined;
  private completedTrips = 0;
  private completedErrors = 0;
  private completedMismatches = 0;
  private slice = { roundTrips: 0, errors: 0, mismatches: 0 };
  private latency: { p50: number; p99: number } | null = null;
  private ended: string | null = null;
  private sliceWaiters: (() => void)[] = [];
  /** Resolves when the burst has ended, however it ended. */
  readonly done: Promise<void>;

  constructor(target: { host: string; port: number }, spec: LoadSpec) {
    this.spec = spec;
    this.done = this.run(target);
  }

  private async run(target: { host: string; port: number }): Promise<void> {
    const deadline = this.started + this.spec.seconds * 1000;
    try {
      while (!this.controller.signal.aborted) {
        const left = (deadline - performance.now()) / 1000;
        if (left < 0.05) break;
        const result = await runLoad({
          ...target,
          connections: this.spec.connections,
          duration: Math.min(1, left),
          size: LOAD_SIZE,
          connectTimeout: 3000,
          signal: this.controller.signal,
          progressInterval: 200,
          onProgress: (p) => (this.slice = { roundTrips: p.roundTrips, errors: p.errors, mismatches: p.mismatches }),
        });
        this.completedTrips += result.roundTrips;
        this.completedErrors += result.errors;
        this.completedMismatches += result.mismatches;
        this.slice = { roundTrips: 0, errors: 0, mismatches: 0 };
        if (result.roundTrips > 0) this.latency = { p50: result.latency.p50 / 1000, p99: result.latency.p99 / 1000 };
        for (const wake of this.sliceWaiters.splice(0)) wake();
      }
      this.ended = this.controller.signal.aborted ? "stopped" : "done";
    } catch (error) {
      this.ended = (error as Error).message;
    } finally {
      this.finishedAt = performance.now();
      for (const wake of this.sliceWaiters.splice(0)) wake();
    }
  }

  /** Whether the burst still runs. */
  get running(): boolean {
    return this.finishedAt === undefined;
  }

  /** Connection failures so far, the running second's included. */
  get errors(): number {
    return this.completedErrors + this.slice.errors;
  }

  /** Resolves when the running second is over (at once if the burst has ended). */
  nextSlice(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.sliceWaiters.push(resolve));
  }

  /** Stops the burst; resolves once every connection is closed. */
  stop(): Promise<void> {
    this.controller.abort();
    return this.done;
  }

  /** What the page shows. */
  state(): LoadState {
    const end = this.finishedAt ?? performance.now();
    return {
      connections: this.spec.connections,
      seconds: this.spec.seconds,
      running: this.running,
      elapsed: (end - this.started) / 1000,
      roundTrips: this.completedTrips + this.slice.roundTrips,
      errors: this.errors,
      mismatches: this.completedMismatches + this.slice.mismatches,
      p50: this.latency?.p50 ?? null,
      p99: this.latency?.p99 ?? null,
      ended: this.ended,
    };
  }
}
