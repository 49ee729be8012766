/**
 * The IPC messages between the master and its workers. Every message carries `echo: 1` so
 * they are told apart from anything else on the channel.
 * @internal
 */
import type { LimitOptions, ServerAddress, StatsSnapshot } from "@echo/core";
import type {
  LifetimeSnapshot,
  NormalizedDatagramOptions,
  NormalizedProxyOptions,
  WireError,
} from "@echo/core/model-kit";
import type { PrivilegeOptions } from "../options.js";

/** What a worker needs to serve. */
export interface WorkerConfig {
  name: string;
  handler: string;
  handlerOptions: unknown;
  host: string;
  port: number;
  path: string | undefined;
  ipv6Only: boolean;
  backlog: number;
  /** `os`: the master's inherited listening descriptor (listenFd); cluster resolves it in the master. */
  fd: number | undefined;
  /** PROXY protocol settings (`proxyProtocol` on), gated in the worker. */
  proxy: NormalizedProxyOptions | undefined;
  limits: Required<LimitOptions>;
  logConnections: boolean;
  heartbeatInterval: number;
  /** Round-robin: no listener; connections come from the master, and this is its address. */
  dealt: ServerAddress | undefined;
  /** Connections after which the worker asks to be recycled; 0 = never. */
  maxRequests: number;
  privileges: PrivilegeOptions | undefined;
  /** `logFormat: "json"`: send log lines with their fields to the master instead of writing text. */
  structured: boolean;
  /** Transport and datagram limits (UDP goes through cluster's shared datagram handle). */
  datagram: NormalizedDatagramOptions;
}

export type ToWorker =
  | { echo: 1; type: "start"; config: WorkerConfig }
  | { echo: 1; type: "stop"; timeout: number }
  | { echo: 1; type: "stats"; seq: number }
  | { echo: 1; type: "bye" }
  /** Round-robin: a connection, passed as the message's handle. */
  | { echo: 1; type: "conn" };

export type FromWorker =
  | { echo: 1; type: "ready" }
  | { echo: 1; type: "listening"; address: ServerAddress; dropped?: string }
  | { echo: 1; type: "bootError"; error: WireError }
  | { echo: 1; type: "heartbeat"; stats: StatsSnapshot; lifetimes?: LifetimeSnapshot }
  | { echo: 1; type: "stats"; seq: number; stats: StatsSnapshot; lifetimes?: LifetimeSnapshot }
  | { echo: 1; type: "retire" }
  | { echo: 1; type: "drained"; stats: StatsSnapshot; lifetimes?: LifetimeSnapshot }
  /** With `structured`: one log line, logged by the master's JSON logger under this worker's name. */
  | { echo: 1; type: "log"; level: "info" | "error"; message: string; fields?: Record<string, unknown> };

/** True when `value` is one of ours. */
export function isEchoMessage(value: unknown): value is { echo: 1; type: string } {
  return typeof value === "object" && value !== null && (value as { echo?: unknown }).echo === 1;
}
