/**
 * What a load run cost the load generator itself: CPU per round trip and how busy its threads
 * were, so a user can tell when the figures measure `echo-load` rather than the server.
 * @module
 */
import { performance, type EventLoopUtilization } from "node:perf_hooks";

/** Above this share of busy time, figures are bounded by the load generator. */
export const SATURATED_BUSY = 0.9;

/** One thread of the load generator. */
export interface ThreadCost {
  /** `main`, or `worker-N`. */
  name: string;
  /** Share of wall time its event loop was busy, 0–1. */
  busy: number;
}

/** The load generator's own cost during a run. */
export interface LoadCost {
  /** CPU time of the whole process (user + system, every thread), milliseconds. */
  cpuMs: number;
  /** `cpuMs` per completed round trip, in microseconds (0 when none completed). */
  cpuPerRoundTripUs: number;
  /** Each thread's busy share. */
  threads: ThreadCost[];
  /** True when a thread was above {@link SATURATED_BUSY}: the numbers measure the load generator. */
  saturated: boolean;
}

/** Starts measuring; `stop(roundTrips, workers?)` returns the cost. */
export function measureCost(): { stop(roundTrips: number, workers?: ThreadCost[]): LoadCost } {
  const cpu0 = process.cpuUsage();
  const elu0: EventLoopUtilization = performance.eventLoopUtilization();
  return {
    stop(roundTrips, workers = []) {
      const cpu = process.cpuUsage(cpu0);
      const elu = performance.eventLoopUtilization(elu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const threads = [{ name: "main", busy: round(elu.utilization) }, ...workers];
      return {
        cpuMs: round(cpuMs),
        cpuPerRoundTripUs: roundTrips > 0 ? round((cpuMs * 1000) / roundTrips) : 0,
        threads,
        saturated: threads.some((t) => t.busy > SATURATED_BUSY),
      };
    },
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The warning `echo-load` prints when {@link LoadCost.saturated}. */
export function saturationWarning(cost: LoadCost, udp = false): string | undefined {
  if (!cost.saturated) return undefined;
  const busiest = cost.threads.reduce((a, b) => (b.busy > a.busy ? b : a));
  const advice = udp ? "try ref-udp-echo-load" : "try --threads N or ref-echo-load";
  return `warning: load generator thread ${busiest.name} was ${Math.round(busiest.busy * 100)}% busy: these figures are bounded by echo-load, not the server; ${advice}`;
}
