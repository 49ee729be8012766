/**
 * `node:cluster` keeps its settings per process: the scheduling policy is read once, at the
 * first `setupPrimary()`/`fork()`, and cannot change afterwards. PreforkServer always fixes it to
 * SCHED_NONE (workers accept on the shared socket) and does round-robin itself, in the master,
 * so servers of both schedules can share a process. Only when other code set cluster up first
 * with SCHED_RR can `schedule: "os"` not be had: that fails loudly instead of silently running
 * the wrong schedule.
 * @internal
 */
import cluster from "node:cluster";
import { ScheduleConflictError } from "../errors.js";
import type { Schedule } from "../options.js";

// On globalThis so that two copies of this package in one process agree.
const OURS = Symbol.for("@echo/prefork.clusterSetUp");

type Holder = { [OURS]?: true };

function initialised(): boolean {
  return cluster.settings !== undefined && "exec" in cluster.settings;
}

/** Throws {@link ScheduleConflictError} when `schedule` cannot be had in this process. */
export function checkSchedule(schedule: Schedule): void {
  if (schedule !== "os" || (globalThis as Holder)[OURS] || !initialised()) return;
  if (cluster.schedulingPolicy !== cluster.SCHED_NONE)
    throw new ScheduleConflictError(schedule, "node:cluster SCHED_RR");
}

/** Fixes the policy (first call) and points cluster at the worker entry. Call before every fork. */
export function setupCluster(schedule: Schedule, exec: string, execArgv: string[]): void {
  checkSchedule(schedule);
  const holder = globalThis as Holder;
  if (!holder[OURS] && !initialised()) {
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    holder[OURS] = true;
  }
  // args: [] so that the master's own arguments (a test runner's, a CLI's) never reach workers.
  cluster.setupPrimary({ exec, execArgv, args: [], silent: false });
}
