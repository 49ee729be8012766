/**
 * Where a client connects: a TCP host and port, or a Unix domain socket path.
 * @module
 */
import { isIP } from "node:net";
import { invalidArg } from "./errors.js";

/** A TCP server: `host` (IPv4, IPv6 or a name; default `127.0.0.1`) and `port`. */
export interface TcpTarget {
  /** Host name or address. IPv6 addresses are written without brackets (`::1`). @default "127.0.0.1" */
  host?: string;
  /** TCP port, 1–65535. */
  port: number;
}

/** A server listening on a Unix domain socket. */
export interface UnixTarget {
  /** Filesystem path of the socket. */
  path: string;
}

/** Either a {@link TcpTarget} or a {@link UnixTarget}. */
export type EchoTarget = TcpTarget | UnixTarget;

/** A validated target. */
export type ResolvedTarget = { kind: "tcp"; host: string; port: number } | { kind: "unix"; path: string };

/**
 * Validates a target. `name` prefixes the messages (`target.port must be …`).
 * @throws {EchoClientError} `ECHO_ERR_INVALID_ARG`
 */
export function resolveTarget(target: unknown, name = "target"): ResolvedTarget {
  if (target === null || typeof target !== "object") {
    throw invalidArg(`${name} must be an object with port (and host) or path, got ${describe(target)}`);
  }
  const t = target as Record<string, unknown>;
  if (t.path !== undefined) {
    if (typeof t.path !== "string" || t.path.length === 0) {
      throw invalidArg(`${name}.path must be a non-empty string, got ${describe(t.path)}`);
    }
    if (t.port !== undefined) throw invalidArg(`${name} must have either path or port, not both`);
    return { kind: "unix", path: t.path };
  }
  if (typeof t.port !== "number" || !Number.isInteger(t.port) || t.port < 1 || t.port > 65535) {
    throw invalidArg(`${name}.port must be an integer from 1 to 65535, got ${describe(t.port)}`);
  }
  const host = t.host === undefined ? "127.0.0.1" : t.host;
  if (typeof host !== "string" || host.length === 0) {
    throw invalidArg(`${name}.host must be a non-empty string, got ${describe(t.host)}`);
  }
  return { kind: "tcp", host: stripBrackets(host), port: t.port };
}

/** `127.0.0.1:9999`, `[::1]:9999` or the socket path. */
export function formatTarget(target: ResolvedTarget): string {
  if (target.kind === "unix") return target.path;
  return isIP(target.host) === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** A short rendering of any value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined)
    return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value)) return "an array";
  return /^[aeiou]/.test(typeof value) ? `an ${typeof value}` : `a ${typeof value}`;
}
