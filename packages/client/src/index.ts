/**
 * `@echo/client`: an echo client, its CLI, and a load generator that checks every byte.
 * @module
 */
export { EchoClient } from "./client.js";
export type { ConnectOptions, Payload, ReceiveOptions, RequestOptions } from "./client.js";
export { ClientErrorCodes, EchoClientError } from "./errors.js";
export type { ClientErrorCode } from "./errors.js";
export { runLoad } from "./load.js";
export { encodeProxyHeader } from "./proxy-header.js";
export type { ProxyEndpointOption, ProxyHeaderOption, ProxyHeaderSpec, SocketEnds } from "./proxy-header.js";
export type { LatencySummary, LoadOptions, LoadProgress, LoadResult } from "./load.js";
export type { StopReason } from "./internal/engine.js";
export { formatBytes, formatDatagramLoadReport, formatLoadReport } from "./report.js";
export { formatTarget, resolveTarget } from "./target.js";
export type { EchoTarget, ResolvedTarget, TcpTarget, UnixTarget } from "./target.js";
export { datagramRequest } from "./datagram.js";
export type { DatagramRequestOptions } from "./datagram.js";
export { runDatagramLoad } from "./datagram-load.js";
export type { DatagramLoadOptions, DatagramLoadResult } from "./datagram-load.js";
export { SATURATED_BUSY } from "./load-cost.js";
export type { LoadCost, ThreadCost } from "./load-cost.js";
