/**
 * `@echo/core`: the server lifecycle, the handler contract every model runs, the `once`,
 * `iterative` and `async` models, limits and typed errors. What model packages share (option
 * validation, handler loading, the CLI runner, the error wire format) is in
 * `@echo/core/model-kit`.
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
export { InvalidMetricsAddressError } from "./observability/errors.js";
export type { EndpointAddress } from "./observability/endpoint.js";
export type { LogFormat } from "./observability/log-format.js";
export { ProxyHeaderError, ProxyTimeoutError, UntrustedProxyError, InvalidTrustedProxyError } from "./proxy/errors.js";
export type { ProxyHeaderReason } from "./proxy/errors.js";
export { SocketActivationError } from "./activation-error.js";
export type { ActivationErrorReason } from "./activation-error.js";
export type { ProxyOptions } from "./kit/proxy-options.js";
export type { ProxyEndpoint, ProxyHeader } from "./proxy/header.js";

export { DatagramUnsupportedError } from "./datagram/bind.js";
export type { Datagram, DatagramHandler, Transport } from "./datagram/contract.js";
export type { DatagramOptions } from "./datagram/options.js";
export type { DatagramDropReason, DatagramStatsSnapshot } from "./datagram/stats.js";

export { defineHandler } from "./handler.js";
export type { Connection, Handler, HandlerContext, HandlerExport, HandlerFactory, TlsIdentity } from "./handler.js";

export { builtinHandlers } from "./handler-loader.js";
export type { BuiltinHandlerName } from "./handler-loader.js";

export { defaultLimits } from "./options.js";
export type { CoreModel, LimitOptions, ListenOptions, Logger, ServerOptions } from "./options.js";

export type { StatsSnapshot } from "./stats.js";

export { EchoServer, createServer, coreModels, formatAddress } from "./server.js";
export type { CloseOptions, ServerAddress } from "./server.js";
