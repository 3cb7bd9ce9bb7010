import { describe, expect, it } from "vitest";
import type { LatencySummaryMs, Series } from "./recorder.js";
import { allSeries } from "./recorder.js";
import { describeSaturation } from "./report.js";
import { formatSlo, judge, parseSlo, saturate, wakeFloorAbove, type PassCriteria, type RateOutcome } from "./saturation.js";

function latency(p99: number): LatencySummaryMs {
  return { count: 100, p50: p99 / 4, p90: p99 / 2, p99, p999: p99 * 2, max: p99 * 3, mean: p99 / 3 };
}

/** A daemon whose p99 grows with the rate and explodes past its knee, like a queue near saturation. */
function fakeOutcome(rate: number, knee: number): RateOutcome {
  const p99 = rate < knee ? 0.2 + (0.6 * rate) / knee : 50;
  const latencyMs = Object.fromEntries(allSeries.map((s) => [s, latency(s === "confirm" ? p99 * 1.5 : p99)])) as Record<Series, LatencySummaryMs>;
  return { offeredRate: rate, achievedRate: rate < knee ? rate : knee, checksStarted: rate * 10, errorsTotal: 0, latencyMs };
}

const criteria: PassCriteria = { slo: parseSlo("identify:p99<=1,calculate:p99<=1,confirm:p99<=2"), maxErrorRatio: 0.001, minAchievedRatio: 0.95 };

describe("SLO", () => {
  it("parses terms, with p99.9 spelt either way", () => {
    expect(parseSlo("identify:p99<=1, confirm:p99.9<=2.5ms,check:max<=50")).toEqual([
      { series: "identify", percentile: "p99", maxMs: 1 },
      { series: "confirm", percentile: "p999", maxMs: 2.5 },
      { series: "check", percentile: "max", maxMs: 50 },
    ]);
    expect(formatSlo(parseSlo("confirm:p99<=2"))).toBe("confirm:p99<=2");
  });

  it("rejects malformed terms with a message naming them", () => {
    expect(() => parseSlo("")).toThrow(/at least one/);
    expect(() => parseSlo("identify<1")).toThrow(/identify<1/);
    expect(() => parseSlo("ping:p99<=1")).toThrow(/unknown operation ping/);
    expect(() => parseSlo("confirm:p95<=1")).toThrow(/percentile/);
    expect(() => parseSlo("confirm:p99<=0")).toThrow(/positive/);
  });

  it("judges latency, errors and keeping up", () => {
    expect(judge(fakeOutcome(100, 1_000), criteria)).toEqual({ pass: true, reasons: [] });
    const slow = judge(fakeOutcome(2_000, 1_000), criteria);
    expect(slow.pass).toBe(false);
    expect(slow.reasons.join("\n")).toMatch(/identify p99 50\.000 ms > 1 ms/);
    expect(slow.reasons.join("\n")).toMatch(/achieved 1000\/s < 95 % of offered 2000\/s/);
    expect(judge({ ...fakeOutcome(100, 1_000), errorsTotal: 5 }, criteria).reasons).toEqual(["errors 0.50 % of checks > 0.10 %"]);
    const unmeasured = { ...fakeOutcome(100, 1_000), latencyMs: { ...fakeOutcome(100, 1_000).latencyMs, confirm: { ...latency(1), count: 0, p99: NaN } } };
    expect(judge(unmeasured, criteria).reasons).toEqual(["confirm p99: no samples"]);
  });
});

describe("saturation search", () => {
  it("steps up until the SLO fails, then bisects towards the knee", async () => {
    const tried: number[] = [];
    const result = await saturate({
      startRate: 100, maxRate: 100_000, stepFactor: 2, refine: 3, criteria,
      run: async (rate) => { tried.push(rate); return fakeOutcome(rate, 1_000); },
    });
    // 100, 200, 400, 800 pass; 1600 fails; then 1200 (fail), 1000 (fail), 900 (pass).
    expect(tried).toEqual([100, 200, 400, 800, 1_600, 1_200, 1_000, 900]);
    expect(result.highestPassingRate).toBe(900);
    expect(result.firstFailingRate).toBe(1_000);
    expect(result.steps.map((s) => s.verdict.pass)).toEqual([true, true, true, true, false, false, false, true]);
  });

  it("uses additive steps and stops at the maximum rate when nothing fails", async () => {
    const tried: number[] = [];
    const result = await saturate({
      startRate: 100, maxRate: 400, stepRate: 100, refine: 2, criteria,
      run: async (rate) => { tried.push(rate); return fakeOutcome(rate, 10_000); },
    });
    expect(tried).toEqual([100, 200, 300, 400]);
    expect(result.highestPassingRate).toBe(400);
    expect(result.firstFailingRate).toBeUndefined();
  });

  it("reports no passing rate when the first one already fails, without bisecting", async () => {
    const tried: number[] = [];
    const result = await saturate({
      startRate: 500, maxRate: 5_000, stepFactor: 1.5, refine: 4, criteria,
      run: async (rate) => { tried.push(rate); return fakeOutcome(rate, 100); },
    });
    expect(tried).toEqual([500]);
    expect(result.highestPassingRate).toBeUndefined();
  });

  it("rejects a search with no way to step", async () => {
    await expect(saturate({ startRate: 1, maxRate: 2, refine: 0, criteria, run: async (r) => fakeOutcome(r, 1) })).rejects.toThrow(RangeError);
  });

  it("says which failed SLO terms were below the machine's own wake-up floor", async () => {
    // The machine: idle processes need 1.5 ms at p99 to exchange a message at every rate.
    const floorMs = latency(1.5);
    const result = await saturate({
      startRate: 100, maxRate: 1000, stepFactor: 2, refine: 0, criteria,
      run: async (rate) => ({ ...fakeOutcome(rate, 150), wakeFloorMs: floorMs }),
    });
    expect(result.highestPassingRate).toBe(100);
    // identify and calculate (≤ 1 ms) cannot be met under a 1.5 ms floor; confirm (≤ 2 ms) could.
    expect(wakeFloorAbove(result.steps[1]!.outcome, criteria.slo)).toEqual([
      "identify p99 ≤ 1 ms is below this machine's wake-up floor p99 1.500 ms",
      "calculate p99 ≤ 1 ms is below this machine's wake-up floor p99 1.500 ms",
    ]);
    const text = describeSaturation(result, formatSlo(criteria.slo), criteria.slo);
    expect(text).toContain("| 200 | 150 | 50.0 ms | 50.0 ms | 75.0 ms | 1.500 ms | 0 | FAIL");
    expect(text).toContain("- identify p99 ≤ 1 ms is below this machine's wake-up floor p99 1.500 ms at 200 checks/s: no daemon could meet it here at that load");
    // Only failed steps are explained, and a run without a floor has nothing to say.
    expect(text).not.toContain("at 100 checks/s");
    expect(wakeFloorAbove(fakeOutcome(200, 150), criteria.slo)).toEqual([]);
  });
});
