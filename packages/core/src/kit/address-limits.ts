/**
 * Per-address limits: connections open at once and new connections per interval, for each
 * client address, in a table of bounded size. Groundwork for issue 17: not wired into models or
 * CLIs yet.
 * @module
 */
import { InvalidArgumentError } from "../errors.js";

/** A rate: at most `count` new connections per `seconds`. */
export interface AddressRate {
  readonly count: number;
  readonly seconds: number;
}

/** What {@link AddressLimiter} enforces. */
export interface AddressLimitOptions {
  /** Connections one address may hold open at once; undefined for no limit. */
  maxConnectionsPerAddress?: number;
  /** New connections one address may open per interval; undefined for no limit. */
  maxNewConnectionsPerAddress?: AddressRate;
  /**
   * Addresses remembered at most besides those with open connections (default 65536). The
   * least recently seen idle address is forgotten first, so 100,000 distinct addresses do not
   * grow the table past this; a forgotten address starts a fresh interval.
   */
  maxTrackedAddresses?: number;
}

/** Why a connection was refused: the open limit or the rate. */
export type AddressRefusal = "per-address-connections" | "per-address-rate";

/** The outcome of {@link AddressLimiter.admit}. */
export type AddressAdmission =
  { readonly ok: true; release(): void } | { readonly ok: false; readonly reason: AddressRefusal };

interface Entry {
  open: number;
  windowStart: number;
  windowCount: number;
}

/**
 * Parses `N/SECONDS` (e.g. `20/1`: 20 new connections per second) for `option`.
 * @throws {InvalidArgumentError} not two positive integers separated by `/`.
 */
export function parseAddressRate(option: string, value: string): AddressRate {
  const match = /^(\d{1,9})\/(\d{1,6})$/.exec(value.trim());
  const count = match ? Number(match[1]) : NaN;
  const seconds = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || seconds < 1) {
    throw new InvalidArgumentError(
      `${option} must be N/SECONDS with positive integers (e.g. 20/1), got ${JSON.stringify(value)}`,
    );
  }
  return { count, seconds };
}

/**
 * Counts, per client address, the connections open now and those opened in the current
 * interval. `admit(address)` either refuses with a reason or returns a `release()` to call once
 * when that connection closes. The table holds every address with an open connection (at most
 * the server's `maxConnections`) plus at most `maxTrackedAddresses` idle ones.
 */
export class AddressLimiter {
  private readonly table = new Map<string, Entry>();
  private readonly maxOpen: number;
  private readonly rate: AddressRate | undefined;
  private readonly maxIdle: number;
  private idle = 0;

  constructor(options: AddressLimitOptions) {
    this.maxOpen = options.maxConnectionsPerAddress ?? Infinity;
    this.rate = options.maxNewConnectionsPerAddress;
    this.maxIdle = options.maxTrackedAddresses ?? 65_536;
  }

  /** Addresses in the table now. */
  get size(): number {
    return this.table.size;
  }

  /** Decides for a new connection from `address`; `now` in ms (performance.now() by default). */
  admit(address: string, now: number = performance.now()): AddressAdmission {
    let entry = this.table.get(address);
    if (entry) {
      // Most recently seen last: the Map's order is the eviction order.
      this.table.delete(address);
      this.table.set(address, entry);
    } else {
      entry = { open: 0, windowStart: now, windowCount: 0 };
      this.table.set(address, entry);
      this.idle++;
    }
    if (this.rate && now - entry.windowStart >= this.rate.seconds * 1000) {
      entry.windowStart = now;
      entry.windowCount = 0;
    }
    let refusal: AddressRefusal | undefined;
    if (entry.open >= this.maxOpen) refusal = "per-address-connections";
    else if (this.rate && entry.windowCount >= this.rate.count) refusal = "per-address-rate";
    if (refusal) {
      this.trim();
      return { ok: false, reason: refusal };
    }
    entry.windowCount++;
    if (entry.open++ === 0) this.idle--;
    const held = entry;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        if (--held.open === 0) {
          // Forget it at once when no interval needs remembering; else it is idle until evicted.
          if (!this.rate && this.table.get(address) === held) this.table.delete(address);
          else {
            this.idle++;
            this.trim();
          }
        }
      },
    };
  }

  /** Forgets the least recently seen idle addresses beyond the cap. */
  private trim(): void {
    if (this.idle <= this.maxIdle) return;
    for (const [address, entry] of this.table) {
      if (this.idle <= this.maxIdle) break;
      if (entry.open > 0) continue;
      this.table.delete(address);
      this.idle--;
    }
  }
}
