/**
 * The datagram options every model shares, validated once (through the model kit).
 * @module
 */
import { InvalidArgumentError } from "../errors.js";
import { checkInteger, checkOneOf } from "../options.js";
import { transports, type Transport } from "./contract.js";
import type { DatagramRate } from "./safety.js";

/** The largest UDP payload over IPv4, and the default `maxDatagram`. */
export const MAX_UDP_PAYLOAD = 65_507;

/** Options for serving UDP. */
export interface DatagramOptions {
  /** `tcp` (or a Unix socket), `udp`, or `both` on the same port number. @default "tcp" */
  transport?: Transport;
  /** Largest datagram served; larger ones are counted as `truncated` and dropped, never half-echoed. @default 65507 */
  maxDatagram?: number;
  /**
   * A per-source-address rate limit, off by default: `"N/SECONDS"` such as `"100/1"`, or
   * `{ count, seconds }`. Datagrams over it are dropped and counted as `rateLimited`.
   */
  maxDatagramsPerAddress?: string | DatagramRate;
}

/** {@link DatagramOptions} validated, defaults applied. */
export interface NormalizedDatagramOptions {
  transport: Transport;
  maxDatagram: number;
  maxDatagramsPerAddress: DatagramRate | undefined;
}

/**
 * Parses `"N/SECONDS"` (as `--max-datagrams-per-address` takes it).
 * @throws {InvalidArgumentError} naming `name`.
 */
export function parseDatagramRate(name: string, value: unknown): DatagramRate {
  if (typeof value === "string") {
    const match = /^(\d{1,9})\/(\d{1,6})$/.exec(value);
    if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
      throw new InvalidArgumentError(
        `${name} must be N/SECONDS with N >= 1 and SECONDS >= 1, such as 100/1, got ${JSON.stringify(value)}`,
      );
    }
    return { count: Number(match[1]), seconds: Number(match[2]) };
  }
  if (typeof value === "object" && value !== null) {
    const r = value as Record<string, unknown>;
    return {
      count: checkInteger(`${name}.count`, r.count, 1),
      seconds: checkInteger(`${name}.seconds`, r.seconds, 1, 86_400),
    };
  }
  throw new InvalidArgumentError(
    `${name} must be "N/SECONDS" or { count, seconds }, got ${value === null ? "null" : typeof value}`,
  );
}

/** Applies defaults to {@link DatagramOptions} and validates them (and that UDP has no `path`). */
export function normalizeDatagramOptions(
  o: DatagramOptions & { path?: unknown },
  prefix = "options",
): NormalizedDatagramOptions {
  const transport = o.transport === undefined ? "tcp" : checkOneOf(`${prefix}.transport`, o.transport, transports);
  if (transport !== "tcp" && o.path !== undefined) {
    throw new InvalidArgumentError(
      `${prefix}.transport ${JSON.stringify(transport)} serves UDP on host and port: it cannot be used with ${prefix}.path`,
    );
  }
  return {
    transport,
    maxDatagram:
      o.maxDatagram === undefined
        ? MAX_UDP_PAYLOAD
        : checkInteger(`${prefix}.maxDatagram`, o.maxDatagram, 1, MAX_UDP_PAYLOAD),
    maxDatagramsPerAddress:
      o.maxDatagramsPerAddress === undefined
        ? undefined
        : parseDatagramRate(`${prefix}.maxDatagramsPerAddress`, o.maxDatagramsPerAddress),
  };
}
