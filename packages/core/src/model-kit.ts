/**
 * `@echo/core/model-kit`: what a concurrency model package is built from, written once. Option
 * validation, handler loading, serving a `net.Socket` with the handler contract and the limits,
 * counters, typed listening, drain-then-destroy, one wire format for errors that cross a thread
 * or process, and the server CLI runner with its flag table. For model authors; users need only
 * `@echo/core`.
 * @module
 */
export { normalizeModelOptions } from "./kit/model-options.js";
export type { HandlerCarrier, ModelOptions, NormalizedModelOptions } from "./kit/model-options.js";
export {
  normalizeProxyOptions,
  proxyGate,
  resolveListenFd,
  DEFAULT_PROXY_HEADER_TIMEOUT,
} from "./kit/proxy-options.js";
export type { NormalizedProxyOptions, ProxyGate, ProxyOptions } from "./kit/proxy-options.js";
export { ProxyHeaderParser, parseProxyHeader } from "./proxy/parser.js";
export type { ProxyHeaderParserOptions, ProxyParseResult } from "./proxy/parser.js";
export type { ProxyEndpoint, ProxyHeader, ProxySslInfo, ProxyTlv } from "./proxy/header.js";
export { parseTrustedProxies, TrustedProxies } from "./proxy/trusted-proxies.js";
export { listenFds, activatedSocket, listenFdHandle, LISTEN_FDS_START } from "./activation.js";
export type { ActivatedSocket, ActivationSelector, ListenFdsOptions } from "./activation.js";
export {
  checkInteger,
  checkBoolean,
  checkString,
  checkOneOf,
  checkOptionsObject,
  checkLogger,
  normalizeLimits,
  normalizeListenOptions,
  stderrLogger,
} from "./options.js";
export type { NormalizedLimits, NormalizedListenOptions } from "./options.js";

export { resolveHandler, loadHandler, instantiateHandler, assertHandler } from "./handler-loader.js";

export { serveSocket } from "./socket-connection.js";
export type { SocketEnvironment } from "./socket-connection.js";
export { ServerStats, sumStats, statsKeys } from "./stats.js";

export { listenServer, toListenError, describeAddress } from "./internal/listen.js";
export { serverAddress } from "./server.js";

export { drainConnections, drainSockets } from "./kit/drain.js";
export type { Drain, DrainOptions } from "./kit/drain.js";
export { toWire, fromWire } from "./kit/wire.js";
export { AcceptBackoff, isDescriptorExhaustion, listenerBackoff } from "./kit/accept-backoff.js";
export type { AcceptBackoffOptions, ListenerBackoffOptions } from "./kit/accept-backoff.js";
export type { ErrorClass, WireError } from "./kit/wire.js";

export { parseServerArgs, parseFlag, formatHelp, commonFlags } from "./cli/args.js";
export type { FlagSpec, FlagValue, PrivilegeArgs, ServerArgs } from "./cli/args.js";
export { runServerCli, cliLogger } from "./cli/run.js";
export type { RunningServer, ServerCli } from "./cli/run.js";
export { loadPrivdrop, preparePrivilegeDrop } from "./cli/privileges.js";

export {
  carryFields,
  isStructured,
  logEvent,
  logStructured,
  jsonLoggerOver,
  modelLogger,
  serveModelMetrics,
  startModelMetrics,
} from "./kit/observability.js";
export type { MetricsStartHooks, ModelMetricsOptions } from "./kit/observability.js";
export { ConnectionLifetimes, defaultLifetimeBuckets } from "./observability/lifetimes.js";
export type { LifetimeSnapshot } from "./observability/lifetimes.js";
export type { MetricsSample, MetricsSource, WorkerSample } from "./observability/metrics.js";
export type { Observability } from "./observability/start.js";
export type { EndpointAddress } from "./observability/endpoint.js";
export type { JsonLogger, LogFields, LogEvent } from "./observability/json-logger.js";
export { logFormats } from "./observability/log-format.js";
export type { LogFormat } from "./observability/log-format.js";
export { serveDatagrams, MAX_PENDING_DATAGRAMS, MAX_QUEUED_DATAGRAMS } from "./datagram/serve.js";
export type { DatagramEnvironment, DatagramService } from "./datagram/serve.js";
export { bindDatagramSocket, dgramHasReusePort, reusePortNodeVersions } from "./datagram/bind.js";
export type { BindDatagramOptions } from "./datagram/bind.js";
export { listenTransport } from "./datagram/listen-transport.js";
export type { TransportListeners } from "./datagram/listen-transport.js";
export { normalizeDatagramOptions, parseDatagramRate, MAX_UDP_PAYLOAD } from "./datagram/options.js";
export type { NormalizedDatagramOptions } from "./datagram/options.js";
export { DatagramStats, sumDatagramStats, datagramDropReasons, DATAGRAM_STATS_BYTES } from "./datagram/stats.js";
export { RateLimiter, isReflectionPort, reflectionPorts } from "./datagram/safety.js";
export type { DatagramRate } from "./datagram/safety.js";
export { transports } from "./datagram/contract.js";
