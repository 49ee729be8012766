/**
 * The errors `@echo/prefork` adds to core's. Match on `err.code`.
 * @module
 */
import { EchoError } from "@echo/core";

/** The stable error codes of `@echo/prefork` (core's codes apply too). The README lists each one. */
export const PreforkErrorCodes = {
  WORKER_BOOT: "ECHO_ERR_WORKER_BOOT",
  CRASH_LOOP: "ECHO_ERR_CRASH_LOOP",
  SCHEDULE_CONFLICT: "ECHO_ERR_SCHEDULE_CONFLICT",
} as const;

/**
 * A worker process died or timed out before it was listening, for a reason other than a typed
 * error it could report (those, such as core's `HandlerLoadError`, are rethrown as they are).
 */
export class WorkerBootError extends EchoError {
  /** The worker's name, such as `Process-3`. */
  readonly worker: string;

  constructor(worker: string, reason: string) {
    super(PreforkErrorCodes.WORKER_BOOT, `worker ${worker} failed to start: ${reason}`);
    this.name = "WorkerBootError";
    this.worker = worker;
  }
}

/** Workers kept dying after they had started: more than `maxCrashes` within `crashWindow`. */
export class CrashLoopError extends EchoError {
  /** Crashes counted in the window when the server gave up. */
  readonly crashes: number;

  constructor(crashes: number, windowMs: number, last: string) {
    super(
      PreforkErrorCodes.CRASH_LOOP,
      `${crashes} worker crashes within ${windowMs} ms (last: ${last}): stopping instead of restarting forever`,
    );
    this.name = "CrashLoopError";
    this.crashes = crashes;
  }
}

/**
 * `schedule: "os"` was asked for, but other code in this process set `node:cluster` up first
 * with its round-robin policy, which cluster fixes per process at the first fork.
 */
export class ScheduleConflictError extends EchoError {
  constructor(wanted: string, fixed: string) {
    super(
      PreforkErrorCodes.SCHEDULE_CONFLICT,
      `options.schedule is ${JSON.stringify(wanted)} but this process already forks cluster workers with ` +
        `${fixed}; node:cluster fixes its policy per process at the first fork: ` +
        `use schedule "round-robin" or run this server in another process`,
    );
    this.name = "ScheduleConflictError";
  }
}
