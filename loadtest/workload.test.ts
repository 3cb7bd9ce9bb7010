import { describe, expect, it } from "vitest";
import { ZipfSampler, Workload, catalogue, mulberry32, zipfProbabilities, type WorkloadOptions } from "./workload.js";

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
function chiSquare(observed: readonly number[], probabilities: readonly number[], total: number): number {
  return observed.reduce((sum, o, i) => {
    const e = probabilities[i]! * total;
    return sum + ((o - e) * (o - e)) / e;
  }, 0);
}

describe("Zipf sampler", () => {
  // 99.9th percentile of chi-square with 49 degrees of freedom is about 85.4; a
  // correct sampler with a fixed seed lands far below, a wrong exponent far above.
  const chiSquare999For49Df = 85.4;

  for (const s of [0, 0.5, 0.99, 1, 1.5]) {
    it(`matches P(k) ∝ 1/k^${s} over 50 ranks (chi-square, fixed seed)`, () => {
      const n = 50;
      const samples = 200_000;
      const sampler = new ZipfSampler(n, s, mulberry32(42));
      const counts = new Array<number>(n).fill(0);
      let outOfRange = 0;
      for (let i = 0; i < samples; i += 1) {
        const k = sampler.sample();
        if (Number.isInteger(k) && k >= 1 && k <= n) counts[k - 1]! += 1;
        else outOfRange += 1;
      }
      expect(outOfRange).toBe(0);
      expect(chiSquare(counts, zipfProbabilities(n, s), samples)).toBeLessThan(chiSquare999For49Df);
    });
  }

  it("is told apart from a neighbouring exponent by the same test", () => {
    const n = 50;
    const samples = 200_000;
    const sampler = new ZipfSampler(n, 1, mulberry32(42));
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < samples; i += 1) counts[sampler.sample() - 1]! += 1;
    expect(chiSquare(counts, zipfProbabilities(n, 0.9), samples)).toBeGreaterThan(chiSquare999For49Df);
  });

  it("keeps the hottest card's share on a large card base without a table", () => {
    const n = 1_000_000;
    const sampler = new ZipfSampler(n, 0.99, mulberry32(1));
    let first = 0;
    const samples = 100_000;
    for (let i = 0; i < samples; i += 1) if (sampler.sample() === 1) first += 1;
    // P(1) = 1 / H(n, 0.99), about 0.0676 for n = 10^6.
    const expected = 1 / Array.from({ length: n }, (_, i) => (i + 1) ** -0.99).reduce((a, b) => a + b, 0);
    expect(Math.abs(first / samples - expected)).toBeLessThan(0.005);
  });

  it("rejects bad parameters", () => {
    expect(() => new ZipfSampler(0, 1, Math.random)).toThrow(RangeError);
    expect(() => new ZipfSampler(10, -1, Math.random)).toThrow(RangeError);
  });
});

const options: WorkloadOptions = {
  seed: 3, nonmemberShare: 0.1, redeemShare: 0.3, redeemPoints: 10, couponShare: 0.05, cancelShare: 0.1, refundShare: 0.1,
  basketMin: 2, basketMax: 6, zipfS: 0.99,
};
const cards = { earn: Array.from({ length: 100 }, (_, i) => `E${i}`), redeem: Array.from({ length: 20 }, (_, i) => `R${i}`) };
const redeemableGroups = new Set(catalogue.filter((c) => c.redeemable).map((c) => c.group));

describe("workload", () => {
  it("is deterministic: the same seed gives the same checks", () => {
    const a = new Workload(options, cards);
    const b = new Workload(options, cards);
    for (let i = 0; i < 500; i += 1) expect(a.plan(i)).toEqual(b.plan(i));
    const c = new Workload({ ...options, seed: 4 }, cards);
    const d = new Workload(options, cards);
    expect(Array.from({ length: 20 }, (_, i) => c.plan(i))).not.toEqual(Array.from({ length: 20 }, (_, i) => d.plan(i)));
  });

  it("draws the shares of the mix, within binomial noise", () => {
    const w = new Workload(options, cards);
    const n = 20_000;
    const plans = Array.from({ length: n }, (_, i) => w.plan(i));
    const share = (f: (p: (typeof plans)[number]) => boolean): number => plans.filter(f).length / n;
    expect(share((p) => p.card === undefined)).toBeCloseTo(0.1, 1);
    // Redeem is a share of member checks.
    expect(share((p) => p.redeemPoints > 0) / share((p) => p.card !== undefined)).toBeCloseTo(0.3, 1);
    expect(share((p) => p.coupon !== undefined)).toBeCloseTo(0.05, 1);
    expect(share((p) => p.end === "cancel")).toBeCloseTo(0.1, 1);
    expect(share((p) => p.refund !== undefined) / share((p) => p.end === "confirm")).toBeCloseTo(0.1, 1);
    for (const p of plans) {
      expect(p.lines.length >= 2 && p.lines.length <= 6).toBe(true);
      if (p.card === undefined) expect(p.redeemPoints).toBe(0);
      if (p.redeemPoints > 0) {
        expect(p.card!.startsWith("R")).toBe(true);
        expect(redeemableGroups.has(p.lines[0]!.group)).toBe(true);
      }
      if (p.end === "cancel") expect(p.refund).toBeUndefined();
      for (const l of p.lines) expect(l.amountMinor).toBe(Math.floor((l.priceMinor * l.quantityMilli + 500) / 1000));
      for (const r of p.refund?.lines ?? []) expect(r.quantityMilli).toBeLessThanOrEqual(p.lines[r.index]!.quantityMilli);
    }
    // Skew: the hottest earn card is used far more than the median one.
    const uses = (card: string): number => plans.filter((p) => p.card === card).length;
    expect(uses("E0")).toBeGreaterThan(10 * uses("E50"));
  });

  it("makes every check non-member when there are no cards, and insists on consecutive indices", () => {
    const w = new Workload(options, { earn: [], redeem: [] });
    expect(w.plan(0).card).toBeUndefined();
    expect(() => w.plan(5)).toThrow(RangeError);
  });

  it("rejects shares outside [0, 1] and inverted basket bounds", () => {
    expect(() => new Workload({ ...options, cancelShare: 1.5 }, cards)).toThrow(RangeError);
    expect(() => new Workload({ ...options, basketMin: 5, basketMax: 4 }, cards)).toThrow(RangeError);
  });
});
