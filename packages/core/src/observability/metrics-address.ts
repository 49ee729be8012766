/**
 * Parsing the `--metrics HOST:PORT` value into where the observability endpoint listens.
 * @module
 */
import { isIP } from "node:net";
import { InvalidMetricsAddressError } from "./errors.js";

/** Where the observability endpoint listens. */
export interface MetricsAddress {
  /** An IPv4 or IPv6 literal (without brackets) or a host name. */
  readonly host: string;
  /** TCP port, 0 for any free one. */
  readonly port: number;
}

/** The interface the endpoint binds when only a port is given: loopback, never every interface. */
export const DEFAULT_METRICS_HOST = "127.0.0.1";

/** A host name: dot-separated labels of letters, digits and inner hyphens (RFC 1123). */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function parsePort(option: string, input: string, raw: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    throw new InvalidMetricsAddressError(
      option,
      input,
      `the port must be an integer from 0 to 65535, got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw);
}

/**
 * Parses a `--metrics` value: `PORT` (bound on 127.0.0.1), `HOST:PORT` with an IPv4 address or a
 * host name, or `[IPV6]:PORT`. Port 0 picks a free port.
 *
 * @example
 * ```ts
 * parseMetricsAddress("9464");            // { host: "127.0.0.1", port: 9464 }
 * parseMetricsAddress("0.0.0.0:9464");    // { host: "0.0.0.0", port: 9464 }
 * parseMetricsAddress("[::1]:9464");      // { host: "::1", port: 9464 }
 * ```
 * @param value - the value as given.
 * @param option - the option's name for the message. @default "--metrics"
 * @throws {InvalidMetricsAddressError} the value is none of those forms; the message says what was expected.
 */
export function parseMetricsAddress(value: unknown, option = "--metrics"): MetricsAddress {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
      throw new InvalidMetricsAddressError(option, value, "the port must be an integer from 0 to 65535");
    }
    return { host: DEFAULT_METRICS_HOST, port: value };
  }
  if (typeof value !== "string") throw new InvalidMetricsAddressError(option, value);
  if (value.length === 0) throw new InvalidMetricsAddressError(option, value, "the value is empty");
  if (/^\d+$/.test(value)) return { host: DEFAULT_METRICS_HOST, port: parsePort(option, value, value) };
  if (value.startsWith("[")) {
    const match = /^\[([^\]]*)\]:(.*)$/.exec(value);
    if (!match)
      throw new InvalidMetricsAddressError(option, value, "a bracketed IPv6 address must be followed by :PORT");
    const host = match[1]!;
    if (isIP(host) !== 6)
      throw new InvalidMetricsAddressError(option, value, `${JSON.stringify(host)} is not an IPv6 address`);
    return { host, port: parsePort(option, value, match[2]!) };
  }
  const colon = value.lastIndexOf(":");
  if (colon === -1) throw new InvalidMetricsAddressError(option, value, "no port");
  const host = value.slice(0, colon);
  if (host.includes(":"))
    throw new InvalidMetricsAddressError(option, value, "put an IPv6 address in brackets, as in [::1]:9464");
  if (host.length === 0)
    throw new InvalidMetricsAddressError(
      option,
      value,
      "no host before the colon (give 0.0.0.0:PORT to listen on every interface)",
    );
  if (isIP(host) !== 4 && (/^[\d.]+$/.test(host) || !HOST_NAME.test(host))) {
    throw new InvalidMetricsAddressError(
      option,
      value,
      `${JSON.stringify(host)} is neither an IPv4 address nor a host name`,
    );
  }
  return { host, port: parsePort(option, value, value.slice(colon + 1)) };
}
