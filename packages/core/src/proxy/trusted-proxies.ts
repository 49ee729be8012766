/**
 * `--trusted-proxies ADDR|CIDR[,…]`: which peers may send a PROXY header.
 * @module
 */
import { InvalidTrustedProxyError } from "./errors.js";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./ip.js";

/** One trusted network: `prefix` leading bits of `bytes` (4 bytes for IPv4, 16 for IPv6). */
export interface Network {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/** `::ffff:0:0/96`, the IPv4-mapped IPv6 addresses. */
const MAPPED_PREFIX = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

/**
 * A parsed list of trusted proxies. An IPv4 peer matches IPv4 entries and IPv6 entries that
 * contain its IPv4-mapped form (`::ffff:a.b.c.d`); an IPv4-mapped IPv6 peer (what a dual-stack
 * listener reports for an IPv4 client) is matched as the IPv4 address it maps.
 */
export class TrustedProxies {
  readonly #v4: Network[];
  readonly #v6: Network[];
  /** The entries in canonical form (`10.0.0.0/8`, `2001:db8::/32`; a single address with its full prefix). */
  readonly entries: readonly string[];

  /** @internal Use {@link parseTrustedProxies}. */
  constructor(v4: Network[], v6: Network[]) {
    this.#v4 = v4;
    this.#v6 = v6;
    this.entries = Object.freeze([
      ...v4.map((n) => `${formatIPv4(n.bytes)}/${n.prefix}`),
      ...v6.map((n) => `${formatIPv6(n.bytes)}/${n.prefix}`),
    ]);
  }

  /**
   * Whether `address` (a peer address as `socket.remoteAddress` gives it) is trusted.
   * Anything that is not an IPv4 or IPv6 address (`undefined`, a Unix socket's empty address,
   * a zone-scoped address) is not trusted.
   */
  matches(address: string | undefined): boolean {
    if (address === undefined) return false;
    let v4 = parseIPv4(address);
    let v6: Uint8Array | null = null;
    if (v4 === null) {
      v6 = parseIPv6(address);
      if (v6 === null) return false;
      if (startsWith(v6, MAPPED_PREFIX)) v4 = v6.subarray(12);
    }
    if (v4 !== null) {
      for (const n of this.#v4) if (inNetwork(v4, n)) return true;
      if (this.#v6.length === 0) return false;
      v6 ??= mapped(v4);
    }
    for (const n of this.#v6) if (inNetwork(v6 as Uint8Array, n)) return true;
    return false;
  }
}

/**
 * Parses `ADDR|CIDR[,…]` (a string with commas, or an array of entries). Entries are IPv4 or
 * IPv6 addresses, optionally with `/prefix` (0–32 or 0–128, no leading zeros); spaces around
 * entries are ignored. An IPv4-mapped IPv6 network of prefix 96 or more
 * (`::ffff:10.0.0.0/104`) is the IPv4 network it maps. A network whose address has bits set past
 * its prefix (`10.0.0.1/8`) is refused, as the likely typo it is.
 *
 * @param option How to name the option in messages. @default "trustedProxies"
 * @throws {InvalidTrustedProxyError} `ECHO_ERR_INVALID_ARG`, naming the first bad entry.
 */
export function parseTrustedProxies(list: string | readonly string[], option = "trustedProxies"): TrustedProxies {
  let entries: readonly string[];
  if (typeof list === "string") entries = list.split(",");
  else if (Array.isArray(list) && list.every((e) => typeof e === "string")) entries = list;
  else
    throw new InvalidTrustedProxyError(
      option,
      String(list),
      "is not a string: give ADDR|CIDR[,…] or an array of strings",
    );
  const v4: Network[] = [];
  const v6: Network[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === "") throw new InvalidTrustedProxyError(option, raw, "is empty (a stray comma?)");
    const slash = entry.indexOf("/");
    const addressText = slash === -1 ? entry : entry.slice(0, slash);
    const prefixText = slash === -1 ? undefined : entry.slice(slash + 1);
    const bytes4 = parseIPv4(addressText);
    const bytes = bytes4 ?? parseIPv6(addressText);
    if (bytes === null)
      throw new InvalidTrustedProxyError(option, raw, "is not an IPv4 or IPv6 address (ADDR or ADDR/PREFIX)");
    const bits = bytes.length * 8;
    let prefix = bits;
    if (prefixText !== undefined) {
      if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
        throw new InvalidTrustedProxyError(option, raw, `has a prefix that is not an integer from 0 to ${bits}`);
      }
      prefix = Number(prefixText);
    }
    if (!hostBitsClear(bytes, prefix)) {
      const fixed = mask(bytes, prefix);
      const suggestion = `${bytes.length === 4 ? formatIPv4(fixed) : formatIPv6(fixed)}/${prefix}`;
      throw new InvalidTrustedProxyError(
        option,
        raw,
        `has address bits set past its /${prefix} prefix (did you mean ${suggestion}?)`,
      );
    }
    if (bytes.length === 16 && prefix >= 96 && startsWith(bytes, MAPPED_PREFIX))
      v4.push({ bytes: bytes.slice(12), prefix: prefix - 96 });
    else (bytes.length === 4 ? v4 : v6).push({ bytes, prefix });
  }
  return new TrustedProxies(v4, v6);
}

function inNetwork(address: Uint8Array, network: Network): boolean {
  const full = network.prefix >> 3;
  for (let i = 0; i < full; i++) if (address[i] !== network.bytes[i]) return false;
  const rest = network.prefix & 7;
  if (rest === 0) return true;
  const m = (0xff << (8 - rest)) & 0xff;
  return ((address[full] as number) & m) === ((network.bytes[full] as number) & m);
}

function hostBitsClear(bytes: Uint8Array, prefix: number): boolean {
  const masked = mask(bytes, prefix);
  return masked.every((b, i) => b === bytes[i]);
}

function mask(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = (bytes[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function mapped(v4: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(MAPPED_PREFIX);
  out.set(v4, 12);
  return out;
}
