import { describe, expect, it } from "vitest";
import { AddressLimiter, parseAddressRate } from "../src/kit/address-limits.js";
import { InvalidArgumentError } from "../src/errors.js";

describe("AddressLimiter", () => {
  it("refuses an address past maxConnectionsPerAddress and admits it again after a release; other addresses unaffected", () => {
    const limiter = new AddressLimiter({ maxConnectionsPerAddress: 2 });
    const a1 = limiter.admit("10.0.0.1");
    const a2 = limiter.admit("10.0.0.1");
    expect(a1.ok && a2.ok).toBe(true);
    expect(limiter.admit("10.0.0.1")).toEqual({ ok: false, reason: "per-address-connections" });
    expect(limiter.admit("10.0.0.2").ok).toBe(true);
    if (a1.ok) {
      a1.release();
      a1.release(); // twice counts once
    }
    expect(limiter.admit("10.0.0.1").ok).toBe(true);
    expect(limiter.admit("10.0.0.1")).toEqual({ ok: false, reason: "per-address-connections" });
  });

  it("refuses past N new connections per interval and admits again in the next interval", () => {
    const limiter = new AddressLimiter({ maxNewConnectionsPerAddress: { count: 3, seconds: 1 } });
    for (let i = 0; i < 3; i++) {
      const admission = limiter.admit("::1", 1000 + i);
      expect(admission.ok).toBe(true);
      if (admission.ok) admission.release(); // closed at once: the rate still counts it
    }
    expect(limiter.admit("::1", 1500)).toEqual({ ok: false, reason: "per-address-rate" });
    expect(limiter.admit("::2", 1500).ok).toBe(true);
    expect(limiter.admit("::1", 2000).ok).toBe(true);
  });

  it("stays bounded: 100,000 distinct addresses keep the table at maxTrackedAddresses plus those open", () => {
    const limiter = new AddressLimiter({
      maxNewConnectionsPerAddress: { count: 5, seconds: 60 },
      maxTrackedAddresses: 1000,
    });
    const open = [];
    for (let i = 0; i < 10; i++) open.push(limiter.admit(`192.0.2.${i}`, 0));
    let largest = 0;
    for (let i = 0; i < 100_000; i++) {
      const admission = limiter.admit(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, i / 1000);
      if (admission.ok) admission.release();
      largest = Math.max(largest, limiter.size);
    }
    expect(largest).toBeLessThanOrEqual(1000 + 10 + 1);
    // Open connections are never forgotten: their limit still holds.
    expect(open.every((a) => a.ok)).toBe(true);
    const strict = new AddressLimiter({ maxConnectionsPerAddress: 1, maxTrackedAddresses: 10 });
    expect(strict.admit("198.51.100.7").ok).toBe(true);
    for (let i = 0; i < 5000; i++) {
      const admission = strict.admit(`203.0.113.${i % 250}-${i}`);
      if (admission.ok) admission.release();
    }
    expect(strict.admit("198.51.100.7")).toEqual({ ok: false, reason: "per-address-connections" });
    expect(strict.size).toBeLessThanOrEqual(11);
  });

  it("parses N/SECONDS and names the option when it is wrong", () => {
    expect(parseAddressRate("--max-new-connections-per-address", "20/1")).toEqual({ count: 20, seconds: 1 });
    for (const bad of ["20", "0/1", "5/0", "a/b", "1.5/1", "-1/1"]) {
      expect(() => parseAddressRate("--max-new-connections-per-address", bad)).toThrow(InvalidArgumentError);
      expect(() => parseAddressRate("--max-new-connections-per-address", bad)).toThrow(
        /--max-new-connections-per-address must be N\/SECONDS/,
      );
    }
  });
});
