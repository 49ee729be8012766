/**
 * Strict textual IPv4/IPv6 addresses as the PROXY protocol and `--trusted-proxies` write them,
 * to and from bytes. Formatting follows the same rules as Node's `socket.remoteAddress`
 * (RFC 5952 compression, IPv4-mapped and IPv4-compatible addresses with a dotted tail), so an
 * address carried in a PROXY header reads exactly like the same address seen directly.
 * @module
 */

/**
 * Parses dotted-decimal IPv4: exactly four numbers 0–255, one dot between each, no leading zeros
 * ("010" could be read as octal), no sign, no spaces.
 * @returns 4 bytes, or `null` when `text` is not such an address.
 */
export function parseIPv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let part = 0;
  let value = -1;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return null; // a leading zero
      value = digits === 0 ? c - 0x30 : value * 10 + (c - 0x30);
      if (++digits > 3 || value > 255) return null;
    } else if (c === 0x2e) {
      if (digits === 0 || part > 3) return null;
      out[part++] = value;
      value = -1;
      digits = 0;
    } else return null;
  }
  return part === 4 ? out : null;
}

/**
 * Parses IPv6: groups of 1–4 hex digits (either case) separated by single colons, at most one
 * `::`, optionally a dotted IPv4 tail for the last 32 bits (`::ffff:192.0.2.1`), 128 bits in all.
 * Zone ids (`%eth0`) and brackets are rejected.
 * @returns 16 bytes, or `null` when `text` is not such an address.
 */
export function parseIPv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  const gap = text.indexOf("::");
  if (gap !== -1 && text.indexOf("::", gap + 1) !== -1) return null;
  const head = gap === -1 ? text : text.slice(0, gap);
  const tail = gap === -1 ? "" : text.slice(gap + 2);
  const headWords = words(head, gap === -1);
  const tailWords = gap === -1 ? [] : words(tail, true);
  if (headWords === null || tailWords === null) return null;
  const total = headWords.length + tailWords.length;
  if (gap === -1 ? total !== 8 : total > 7) return null;
  const out = new Uint8Array(16);
  headWords.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  const start = 8 - tailWords.length;
  tailWords.forEach((w, i) => {
    out[(start + i) * 2] = w >> 8;
    out[(start + i) * 2 + 1] = w & 0xff;
  });
  return out;
}

/**
 * The 16-bit words of one side of an IPv6 address. `last` says whether this side ends the
 * address (only there may a dotted IPv4 tail stand).
 */
function words(side: string, last: boolean): number[] | null {
  if (side === "") return [];
  const parts = side.split(":");
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (last && i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIPv4(part);
      if (v4 === null) return null;
      out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
    out.push(parseInt(part, 16));
  }
  return out;
}

/** Dotted decimal of 4 bytes at `offset`. */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * The canonical text of 16 bytes at `offset`, as Node (libuv's `inet_ntop`) writes it: lower-case
 * hex without leading zeros, the longest run of two or more zero words (the first of equal runs)
 * as `::`, and a dotted tail for IPv4-mapped (`::ffff:a.b.c.d`) addresses and for those whose
 * first six words are zero and the seventh is not (`::a.b.c.d`, as libuv writes them).
 */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(((bytes[offset + i * 2] as number) << 8) | (bytes[offset + i * 2 + 1] as number));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  const dotted = bestStart === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff));
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += "::";
      i += bestLen - 1;
      continue;
    }
    if (dotted && i === 6) {
      out += `${out.endsWith(":") ? "" : ":"}${formatIPv4(bytes, offset + 12)}`;
      break;
    }
    if (out !== "" && !out.endsWith(":")) out += ":";
    out += (w[i] as number).toString(16);
  }
  return out;
}
