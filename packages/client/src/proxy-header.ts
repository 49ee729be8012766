/**
 * The sending side of the PROXY protocol (v1 text, v2 binary): the header a client writes first
 * on a connection, so a server behind a proxy, or one that expects a proxy, sees the address
 * given here instead of the connection's own. Written from the specification, independently of
 * any receiver.
 * @module
 */
import net from "node:net";
import { invalidArg } from "./errors.js";
import { describe } from "./target.js";

/** One end of the connection to announce. */
export interface ProxyEndpointOption {
  /** An IPv4 or IPv6 address (no host names, no brackets, no zone). */
  address: string;
  /** 0–65535. */
  port: number;
}

/** A PROXY header to send, with explicit addresses. */
export interface ProxyHeaderSpec {
  /** 1 for the text format, 2 for the binary one. */
  version: 1 | 2;
  /**
   * `"proxy"` relays a client (the default); `"local"` (v2 only) says the connection is the
   * proxy's own, as a health check is, and carries no address.
   * @default "proxy"
   */
  command?: "proxy" | "local";
  /** The client address to announce. Required unless `command` is `"local"`. */
  source?: ProxyEndpointOption;
  /** The address the client connected to. @default the connection's remote address and port */
  destination?: ProxyEndpointOption;
}

/**
 * The `proxyHeader` option: `"v1"` or `"v2"` announce the connection's own addresses (its local
 * end as the source, the server as the destination); a {@link ProxyHeaderSpec} announces the
 * addresses it gives.
 */
export type ProxyHeaderOption = "v1" | "v2" | ProxyHeaderSpec;

interface Endpoint {
  address: string;
  port: number;
  family: 4 | 6;
}

/** A validated `proxyHeader` option; plain data, so it crosses `postMessage` to load workers. */
export interface NormalizedProxyHeader {
  version: 1 | 2;
  local: boolean;
  /** `null`: the socket's local end. */
  source: Endpoint | null;
  /** `null`: the socket's remote end. */
  destination: Endpoint | null;
}

/**
 * Validates a `proxyHeader` option; messages name it as `name` (`options.proxyHeader.source.port must …`).
 * @throws {EchoClientError} `ECHO_ERR_INVALID_ARG`
 */
export function normalizeProxyHeader(value: unknown, name = "options.proxyHeader"): NormalizedProxyHeader | null {
  if (value === undefined) return null;
  if (typeof value === "string" && /^v\d$/i.test(value) && value !== "v1" && value !== "v2")
    throw invalidArg(`${name} must be "v1" or "v2", got ${describe(value)}`);
  if (value === "v1" || value === "v2")
    return { version: value === "v1" ? 1 : 2, local: false, source: null, destination: null };
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalidArg(
      `${name} must be "v1", "v2" or an object { version, source, destination? }, got ${describe(value)}`,
    );
  }
  const spec = value as Record<string, unknown>;
  if (spec.version !== 1 && spec.version !== 2)
    throw invalidArg(`${name}.version must be 1 or 2, got ${describe(spec.version)}`);
  if (spec.command !== undefined && spec.command !== "proxy" && spec.command !== "local") {
    throw invalidArg(`${name}.command must be "proxy" or "local", got ${describe(spec.command)}`);
  }
  const local = spec.command === "local";
  if (local) {
    if (spec.version !== 2) throw invalidArg(`${name}.command "local" needs version 2 (v1 has no LOCAL command)`);
    if (spec.source !== undefined || spec.destination !== undefined)
      throw invalidArg(`${name}.source and .destination must not be set with command "local"`);
    return { version: 2, local: true, source: null, destination: null };
  }
  if (spec.source === undefined)
    throw invalidArg(
      `${name}.source is required: an object { address, port } (or give "v1"/"v2" to use the connection's own addresses)`,
    );
  return {
    version: spec.version,
    local: false,
    source: endpoint(spec.source, `${name}.source`),
    destination: spec.destination === undefined ? null : endpoint(spec.destination, `${name}.destination`),
  };
}

function endpoint(value: unknown, name: string): Endpoint {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw invalidArg(`${name} must be an object { address, port }, got ${describe(value)}`);
  const { address, port } = value as Record<string, unknown>;
  const family = typeof address === "string" ? net.isIP(address) : 0;
  if (family === 0 || (address as string).includes("%"))
    throw invalidArg(`${name}.address must be an IPv4 or IPv6 address, got ${describe(address)}`);
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalidArg(`${name}.port must be an integer from 0 to 65535, got ${describe(port)}`);
  }
  return { address: address as string, port, family: family as 4 | 6 };
}

/** The socket's end as an {@link Endpoint}, or `null` (a Unix socket has no address). */
function socketEnd(address: string | undefined, port: number | undefined): Endpoint | null {
  if (address === undefined || port === undefined) return null;
  const family = net.isIP(address);
  return family === 0 ? null : { address, port, family: family as 4 | 6 };
}

/**
 * The PROXY header bytes for a `proxyHeader` option, as {@link EchoClient.connect} and
 * {@link runLoad} send them. `socket` (a connected socket) fills in what the option leaves out:
 * its local end is the source of `"v1"`/`"v2"`, its remote end the default destination.
 *
 * @example
 * ```ts
 * encodeProxyHeader({ version: 1, source: { address: "192.0.2.1", port: 5000 }, destination: { address: "198.51.100.1", port: 7 } });
 * // <Buffer "PROXY TCP4 192.0.2.1 198.51.100.1 5000 7\r\n">
 * ```
 * @throws {EchoClientError} `ECHO_ERR_INVALID_ARG` for a bad option, or when an end is missing
 *   (no `socket` to take it from, or a Unix socket).
 */
export function encodeProxyHeader(option: ProxyHeaderOption, socket?: SocketEnds): Buffer {
  return encodeNormalized(normalizeProxyHeader(option) as NormalizedProxyHeader, socket);
}

/** The addresses of a connected socket that {@link encodeProxyHeader} reads. */
export type SocketEnds = Pick<net.Socket, "localAddress" | "localPort" | "remoteAddress" | "remotePort">;

/**
 * The header bytes for `spec` on `socket` (a connected socket; its addresses fill in what the
 * spec leaves out). When neither end has an address (a Unix socket and `"v1"`/`"v2"`), v1 sends
 * `PROXY UNKNOWN` and v2 the PROXY command with `AF_UNSPEC`: the receiver keeps the real endpoints.
 * @throws {EchoClientError} `ECHO_ERR_INVALID_ARG` when a spec with a source has no destination
 *   to pair it with (a Unix socket without `destination`).
 */
export function encodeNormalized(spec: NormalizedProxyHeader, socket?: SocketEnds): Buffer {
  if (spec.local) return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0, 0])]);
  let source = spec.source ?? socketEnd(socket?.localAddress, socket?.localPort);
  let destination = spec.destination ?? socketEnd(socket?.remoteAddress, socket?.remotePort);
  if (source === null && destination === null) {
    return spec.version === 1
      ? Buffer.from("PROXY UNKNOWN\r\n", "latin1")
      : Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x00, 0, 0])]);
  }
  if (source === null || destination === null) {
    throw invalidArg(
      `options.proxyHeader.${source === null ? "source" : "destination"} is required: the connection has no address to take it from`,
    );
  }
  if (source.family !== destination.family) {
    // Mixed families: announce both as IPv6, the IPv4 one as IPv4-mapped (::ffff:a.b.c.d).
    source = asV6(source);
    destination = asV6(destination);
  }
  const v6 = source.family === 6;
  if (spec.version === 1) {
    const text = (e: Endpoint): string =>
      v6 ? new net.SocketAddress({ address: e.address, family: "ipv6" }).address : e.address;
    return Buffer.from(
      `PROXY ${v6 ? "TCP6" : "TCP4"} ${text(source)} ${text(destination)} ${source.port} ${destination.port}\r\n`,
      "latin1",
    );
  }
  const size = v6 ? 16 : 4;
  const out = Buffer.alloc(16 + 2 * size + 4);
  V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21; // version 2, PROXY
  out[13] = v6 ? 0x21 : 0x11; // AF_INET6 or AF_INET, STREAM
  out.writeUInt16BE(2 * size + 4, 14);
  addressBytes(source).copy(out, 16);
  addressBytes(destination).copy(out, 16 + size);
  out.writeUInt16BE(source.port, 16 + 2 * size);
  out.writeUInt16BE(destination.port, 18 + 2 * size);
  return out;
}

const V2_SIGNATURE = Buffer.from("\r\n\r\n\0\r\nQUIT\n", "latin1");

function asV6(e: Endpoint): Endpoint {
  return e.family === 6 ? e : { address: `::ffff:${e.address}`, port: e.port, family: 6 };
}

/** Network-order bytes of an address already known to be valid. */
function addressBytes(e: Endpoint): Buffer {
  if (e.family === 4) return Buffer.from(e.address.split(".").map(Number));
  // Let Node expand the text: its canonical form, then split on "::".
  const text = new net.SocketAddress({ address: e.address, family: "ipv6" }).address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  const hex = dotted === null ? text : text.slice(0, -dotted[1]!.length) + v4AsWords(dotted[1]!);
  const [head = "", tail] = hex.split("::");
  const words = (s: string): number[] => (s === "" ? [] : s.split(":").map((w) => parseInt(w, 16)));
  const left = words(head);
  const right = tail === undefined ? [] : words(tail);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

function v4AsWords(v4: string): string {
  const [a = 0, b = 0, c = 0, d = 0] = v4.split(".").map(Number);
  return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/**
 * Parses `ADDR:PORT` (`[v6]:PORT` for IPv6) as the CLIs' `--proxy-source` writes it.
 * @throws {EchoClientError} `ECHO_ERR_INVALID_ARG`, naming `flag`.
 */
export function parseEndpointFlag(flag: string, raw: string): ProxyEndpointOption {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(raw);
  const address = m === null ? undefined : (m[1] ?? m[2]);
  const port = m === null ? NaN : Number(m[3]);
  const family = address === undefined ? 0 : net.isIP(address);
  if (m === null || family === 0 || (family === 6 && m[1] === undefined) || port > 65535 || address!.includes("%")) {
    throw invalidArg(
      `${flag} must be ADDR:PORT with an IPv4 address or [IPv6]:PORT, port 0-65535, got ${JSON.stringify(raw)}`,
    );
  }
  return { address: address!, port };
}
