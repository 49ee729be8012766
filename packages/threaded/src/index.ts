/**
 * `@echo/threaded`: a TCP server whose connections are served by N worker threads, each with
 * its own event loop running core's handler machinery, so CPU-heavy handlers run in parallel.
 * @module
 */
export { ThreadedServer, createThreadedServer } from "./server.js";
export type { ThreadStats, ThreadedCloseOptions } from "./server.js";
export { MAX_THREADS } from "./options.js";
export type { AcceptPath, ThreadedServerOptions } from "./options.js";
export { ThreadedErrorCodes, ThreadExitError, ThreadStartError } from "./errors.js";
