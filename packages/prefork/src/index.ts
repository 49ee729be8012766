/**
 * `@echo/prefork`: a supervised master and pre-forked worker processes, gunicorn-grade.
 * @module
 */
export { PreforkServer, createPreforkServer } from "./server.js";
export { schedules } from "./options.js";
export type { PreforkOptions, PrivilegeOptions, Schedule } from "./options.js";
export type { PreforkStats, WorkerInfo, WorkerState } from "./stats.js";
export { PreforkErrorCodes, WorkerBootError, CrashLoopError, ScheduleConflictError } from "./errors.js";
