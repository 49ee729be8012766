/**
 * The options every model shares for running behind a proxy and under a service manager:
 * `proxyProtocol`, `trustedProxies`, `proxyHeaderTimeout` and `listenFd`, validated once here.
 * @module
 */
import cluster from "node:cluster";
import { activatedSocket, listenFdHandle } from "../activation.js";
import { InvalidArgumentError } from "../errors.js";
import { checkBoolean, checkInteger } from "../options.js";
import { parseTrustedProxies, type TrustedProxies } from "../proxy/trusted-proxies.js";

/** Options for the PROXY protocol (receiving side) and systemd socket activation. */
export interface ProxyOptions {
  /**
   * Expect a PROXY protocol header (v1 or v2) at the start of every connection, and serve the
   * client it names (`conn.remoteAddress`/`remotePort`). Connections without one are refused.
   * Requires `trustedProxies`. @default false
   */
  proxyProtocol?: boolean;
  /** Who may send a header: `ADDR|CIDR[,…]` or an array of entries. Others are closed without a reply. */
  trustedProxies?: string | readonly string[];
  /** Milliseconds a connection may take to send its complete header. @default 3000 */
  proxyHeaderTimeout?: number;
  /**
   * Serve on an already-listening socket instead of binding: a descriptor number, or `"auto"`
   * for the one socket systemd passed (`LISTEN_FDS`/`LISTEN_PID`). Refused together with
   * `port`, `host` or `path`.
   */
  listenFd?: number | "auto";
}

/**
 * The PROXY settings once validated. `trustedProxies` is the canonical entry list, so it crosses
 * threads and processes as it is; {@link proxyGate} turns it into a matcher where it is used.
 */
export interface NormalizedProxyOptions {
  trustedProxies: readonly string[];
  headerTimeout: number;
}

/** What the per-connection gate needs: the matcher and the header deadline. */
export interface ProxyGate {
  readonly trusted: TrustedProxies;
  readonly headerTimeout: number;
}

/** The default `proxyHeaderTimeout`. */
export const DEFAULT_PROXY_HEADER_TIMEOUT = 3000;

const MAX_TIMER = 2 ** 31 - 1;

/** Validates the PROXY options; `undefined` when `proxyProtocol` is off. @throws {InvalidArgumentError} */
export function normalizeProxyOptions(o: ProxyOptions): NormalizedProxyOptions | undefined {
  const on = o.proxyProtocol === undefined ? false : checkBoolean("options.proxyProtocol", o.proxyProtocol);
  const timeout =
    o.proxyHeaderTimeout === undefined
      ? DEFAULT_PROXY_HEADER_TIMEOUT
      : checkInteger("options.proxyHeaderTimeout", o.proxyHeaderTimeout, 1, MAX_TIMER);
  if (!on) {
    if (o.trustedProxies !== undefined)
      throw new InvalidArgumentError("options.trustedProxies is given but options.proxyProtocol is not true");
    return undefined;
  }
  if (o.trustedProxies === undefined) {
    throw new InvalidArgumentError(
      "options.trustedProxies is required when options.proxyProtocol is true (ADDR|CIDR[,…]: who may send a PROXY header)",
    );
  }
  const trusted = parseTrustedProxies(o.trustedProxies, "options.trustedProxies");
  if (trusted.entries.length === 0)
    throw new InvalidArgumentError("options.trustedProxies must name at least one address or network");
  return { trustedProxies: trusted.entries, headerTimeout: timeout };
}

/** The gate a model's serving code uses, from the carried {@link NormalizedProxyOptions}. */
export function proxyGate(options: NormalizedProxyOptions | undefined): ProxyGate | undefined {
  if (options === undefined) return undefined;
  return {
    trusted: parseTrustedProxies(options.trustedProxies, "options.trustedProxies"),
    headerTimeout: options.headerTimeout,
  };
}

/**
 * Resolves `listenFd` to a descriptor number (`"auto"`: the socket systemd passed), or
 * `undefined` when absent.
 * @throws {InvalidArgumentError} with `port`, `host` or `path`, or not a number/`"auto"`.
 * @throws {SocketActivationError} nothing was passed, or the descriptor is not a socket.
 */
export function resolveListenFd(
  o: ProxyOptions & { port?: unknown; host?: unknown; path?: unknown },
): number | undefined {
  const value = o.listenFd;
  if (value === undefined) return undefined;
  const clash = (["port", "host", "path"] as const).filter((key) => o[key] !== undefined);
  if (clash.length > 0) {
    throw new InvalidArgumentError(
      `options.listenFd cannot be combined with options.${clash.join(", options.")}: the passed socket is already bound`,
    );
  }
  if (value === "auto") return activatedSocket().fd;
  const fd = checkInteger("options.listenFd", value, 0, MAX_TIMER);
  // A cluster worker's listen({ fd }) is resolved in the master, whose descriptor this is.
  if (cluster.isWorker) return fd;
  return listenFdHandle(fd).fd;
}
