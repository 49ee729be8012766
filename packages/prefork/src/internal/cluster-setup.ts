/**
 * `node:cluster` keeps its settings per process: the scheduling policy is read once, at the
 * first `setupPrimary()`/`fork()`, and cannot change afterwards. Every PreforkServer of a process
 * therefore shares one schedule; asking for the other one fails loudly instead of silently
 * running the wrong one.
 * @internal
 */
import cluster from "node:cluster";
import { ScheduleConflictError } from "../errors.js";
import type { Schedule } from "../options.js";

// On globalThis so that two copies of this package in one process agree.
const FIXED = Symbol.for("@echo/prefork.schedule");

type Holder = { [FIXED]?: Schedule };

function policyOf(schedule: Schedule): number {
  return schedule === "os" ? cluster.SCHED_NONE : cluster.SCHED_RR;
}

function nameOf(policy: number): Schedule {
  return policy === cluster.SCHED_NONE ? "os" : "round-robin";
}

/** The schedule already fixed in this process, if any. */
export function fixedSchedule(): Schedule | undefined {
  const held = (globalThis as Holder)[FIXED];
  if (held) return held;
  // Someone else (not a PreforkServer) already set the cluster up: its policy is frozen.
  if (cluster.settings && "exec" in cluster.settings) return nameOf(cluster.schedulingPolicy);
  return undefined;
}

/** Throws {@link ScheduleConflictError} when `schedule` cannot be used in this process. */
export function checkSchedule(schedule: Schedule): void {
  const fixed = fixedSchedule();
  if (fixed !== undefined && fixed !== schedule) throw new ScheduleConflictError(schedule, fixed);
}

/** Fixes the policy (first call) and points cluster at the worker entry. Call before every fork. */
export function setupCluster(schedule: Schedule, exec: string, execArgv: string[]): void {
  checkSchedule(schedule);
  const holder = globalThis as Holder;
  if (holder[FIXED] === undefined) {
    cluster.schedulingPolicy = policyOf(schedule);
    holder[FIXED] = schedule;
  }
  // args: [] so that the master's own arguments (a test runner's, a CLI's) never reach workers.
  cluster.setupPrimary({ exec, execArgv, args: [], silent: false });
}
