import { describe, expect, it } from "vitest";
import { interleave } from "../src/schedule.js";
import { median, noiseVerdict, quantileSorted, ratio, relativeSpread, summarize } from "../src/stats.js";

describe("statistics", () => {
  it("takes medians of odd and even counts and ignores NaN", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, Number.NaN, 1])).toBe(3);
    expect(median([])).toBeNaN();
  });

  it("interpolates quartiles and reports min–max and n", () => {
    expect(quantileSorted([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantileSorted([10, 20], 0.75)).toBe(17.5);
    expect(summarize([9, 1, 5, 3, 7])).toEqual({ median: 5, min: 1, max: 9, q1: 3, q3: 7, n: 5 });
    expect(relativeSpread(summarize([90, 100, 110]))).toBeCloseTo(0.2);
  });

  it("calls a change real only when the rounds do not overlap", () => {
    expect(noiseVerdict([10, 11, 12], [13, 14, 15])).toBe("higher");
    expect(noiseVerdict([10, 11, 12], [7, 8, 9.9])).toBe("lower");
    expect(noiseVerdict([10, 11, 12], [11.5, 13, 14])).toBe("within noise");
    expect(noiseVerdict([10], [20, 21])).toBe("too few rounds");
  });

  it("takes ratios against a baseline, NaN when the baseline is missing", () => {
    expect(ratio(15, 10)).toBe(1.5);
    expect(ratio(15, 0)).toBeNaN();
    expect(ratio(Number.NaN, 10)).toBeNaN();
  });
});

describe("interleaving", () => {
  it("runs every model once per round, rounds one after the other", () => {
    const order = interleave(["A", "B", "C"], 3);
    expect(order.map((r) => r.model).join("")).toBe("ABCABCABC");
    expect(order.map((r) => r.round)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(order.map((r) => r.order)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(interleave(["A"], 0)).toEqual([]);
  });
});
