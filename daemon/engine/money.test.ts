import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocate, allocateCapped, applyBp, cumulativeShare, mulDivFloor } from "./money.js";

describe("mulDivFloor", () => {
  it("is exact where a*b passes 2^53", () => {
    expect(mulDivFloor(9_000_000_000_000, 9_999, 10_000)).toBe(8_999_100_000_000);
    expect(mulDivFloor(10_000_000_000_000, 70_000, 10_000)).toBe(70_000_000_000_000);
  });
  it("matches BigInt floor division on random inputs", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e13 }), fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 1e7 }), (a, b, c) => {
      fc.pre((BigInt(a) * BigInt(b)) / BigInt(c) <= BigInt(Number.MAX_SAFE_INTEGER));
      expect(mulDivFloor(a, b, c)).toBe(Number((BigInt(a) * BigInt(b)) / BigInt(c)));
    }));
  });
  it("rounds percentages down", () => {
    expect(applyBp(999, 500)).toBe(49); // 49.95 → 49
  });
});

describe("allocate (largest remainder)", () => {
  it("splits proportionally, ties to the earlier line", () => {
    expect(allocate(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(allocate(100, [50, 30, 20])).toEqual([50, 30, 20]);
    expect(allocate(7, [0, 0])).toEqual([7, 0]);
  });
  it("always sums to the total and each part is within one of its exact share", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e9 }), fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 1, maxLength: 30 }), (total, weights) => {
      const parts = allocate(total, weights);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
      const sum = weights.reduce((a, b) => a + b, 0);
      if (sum > 0) parts.forEach((p, i) => expect(Math.abs(p - (total * weights[i]!) / sum)).toBeLessThan(1.0001));
    }));
  });
});

describe("allocateCapped", () => {
  it("never exceeds a cap and re-splits what a capped line could not take", () => {
    expect(allocateCapped(10, [100, 1], [5, 10])).toEqual([5, 5]);
    expect(allocateCapped(5, [1, 100], [5, 1])).toEqual([4, 1]);
  });
  it("sums to the total under random caps", () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 })), { minLength: 1, maxLength: 20 }), fc.double({ min: 0, max: 1, noNaN: true }), (pairs, share) => {
      const weights = pairs.map(([w]) => w);
      const caps = pairs.map(([, c]) => c);
      const total = Math.floor(caps.reduce((a, b) => a + b, 0) * share);
      const parts = allocateCapped(total, weights, caps);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
      parts.forEach((p, i) => expect(p).toBeLessThanOrEqual(caps[i]!));
    }));
  });
});

describe("cumulativeShare", () => {
  it("partial refunds add up to exactly the original", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e9 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }), (original, steps) => {
      const total = steps.reduce((a, b) => a + b, 0);
      let done = 0;
      let given = 0;
      for (const s of steps) {
        const part = cumulativeShare(original, done + s, total) - cumulativeShare(original, done, total);
        expect(part).toBeGreaterThanOrEqual(0);
        given += part;
        done += s;
      }
      expect(given).toBe(original);
    }));
  });
});
