/**
 * The datagram safety rules, on by default: no reply that could loop with another small
 * service (CERT CA-1996-01), and a bounded per-source rate limit.
 * @module
 */

/**
 * Source ports never answered: 0 (no real sender) and the small services that answer anything
 * (echo 7, daytime 13, qotd 17, chargen 19, time 37), where a reply could loop forever.
 */
export const reflectionPorts: ReadonlySet<number> = new Set([0, 7, 13, 17, 19, 37]);

/** True when a datagram from `port` must be dropped without reply. */
export function isReflectionPort(port: number): boolean {
  return reflectionPorts.has(port);
}

/** A rate: at most `count` datagrams per `seconds` from one source address. */
export interface DatagramRate {
  count: number;
  seconds: number;
}

interface Window {
  start: number;
  count: number;
}

/**
 * A fixed-window counter per source address, with a bounded table: when it holds `maxEntries`
 * addresses, windows that have ended are swept, and if none has, the oldest entry is evicted.
 * Memory stays bounded whatever the number of sources (spoofed ones included).
 */
export class RateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;

  constructor(
    private readonly rate: DatagramRate,
    private readonly maxEntries = 16_384,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.windowMs = rate.seconds * 1000;
  }

  /** Addresses tracked now (at most `maxEntries`). */
  get size(): number {
    return this.windows.size;
  }

  /** Counts one datagram from `address`; false when it is over the rate and must be dropped. */
  allow(address: string): boolean {
    const t = this.now();
    const w = this.windows.get(address);
    if (w !== undefined) {
      if (t - w.start >= this.windowMs) {
        w.start = t;
        w.count = 1;
        return true;
      }
      w.count++;
      return w.count <= this.rate.count;
    }
    if (this.windows.size >= this.maxEntries) this.evict(t);
    this.windows.set(address, { start: t, count: 1 });
    return this.rate.count >= 1;
  }

  private evict(t: number): void {
    for (const [key, w] of this.windows) if (t - w.start >= this.windowMs) this.windows.delete(key);
    if (this.windows.size >= this.maxEntries) {
      const oldest = this.windows.keys().next();
      if (!oldest.done) this.windows.delete(oldest.value);
    }
  }
}
