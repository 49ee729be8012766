/**
 * `@echo/core`: the server lifecycle, the handler contract every model runs, the `once`,
 * `iterative` and `async` models, limits, typed errors and the pieces the CLIs share.
 * @module
 */
export {
  EchoError,
  ErrorCodes,
  InvalidArgumentError,
  AddressInUseError,
  PermissionDeniedError,
  ListenError,
  ServerStateError,
  HandlerLoadError,
  HandlerError,
  IdleTimeoutError,
  MaxConnectionsError,
  CloseTimeoutError,
} from "./errors.js";
export type { ErrorCode } from "./errors.js";

export { defineHandler } from "./handler.js";
export type { Connection, Handler, HandlerContext, HandlerExport, HandlerFactory } from "./handler.js";

export { builtinHandlers, resolveHandler, loadHandler, instantiateHandler, assertHandler } from "./handler-loader.js";
export type { BuiltinHandlerName } from "./handler-loader.js";

export {
  defaultLimits,
  normalizeLimits,
  normalizeListenOptions,
  checkInteger,
  checkBoolean,
  checkString,
  checkOneOf,
  checkOptionsObject,
  checkLogger,
  stderrLogger,
} from "./options.js";
export type {
  CoreModel,
  LimitOptions,
  ListenOptions,
  Logger,
  NormalizedLimits,
  NormalizedListenOptions,
  ServerOptions,
} from "./options.js";

export { ServerStats, sumStats, statsKeys } from "./stats.js";
export type { StatsSnapshot } from "./stats.js";

export { serveSocket } from "./socket-connection.js";
export type { SocketEnvironment } from "./socket-connection.js";

export { listenServer, toListenError, describeAddress } from "./internal/listen.js";

export { EchoServer, createServer, coreModels, formatAddress, serverAddress } from "./server.js";
export type { CloseOptions, ServerAddress } from "./server.js";

export { parseServerArgs, formatHelp, commonFlags } from "./cli/args.js";
export type { FlagSpec, PrivilegeArgs, ServerArgs } from "./cli/args.js";
export { runServerCli, cliLogger } from "./cli/run.js";
export type { RunningServer, ServerCli } from "./cli/run.js";
export { loadPrivdrop, preparePrivilegeDrop, dropPrivilegesOptional, PRIVDROP_MISSING } from "./cli/privileges.js";
