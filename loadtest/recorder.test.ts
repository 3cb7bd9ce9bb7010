import { describe, expect, it } from "vitest";
import { ErrorCode } from "../protocol/codec.js";
import { PosError, PosTimeoutError } from "../protocol/client.js";
import { Recorder, errorCodeOf } from "./recorder.js";
import { mulberry32 } from "./workload.js";

describe("recorder", () => {
  it("reports the percentiles of a known uniform delay distribution within HDR's precision", () => {
    const r = new Recorder();
    // Delays of 1, 2, …, 10 000 µs, in a shuffled order, each from its intended time.
    const delaysUs = Array.from({ length: 10_000 }, (_, i) => i + 1);
    const random = mulberry32(9);
    for (let i = delaysUs.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [delaysUs[i], delaysUs[j]] = [delaysUs[j]!, delaysUs[i]!];
    }
    let intended = 5_000;
    for (const d of delaysUs) {
      r.ok("confirm", intended, intended + d / 1000);
      intended += 0.25;
    }
    const s = r.summary().latencyMs.confirm;
    expect(s.count).toBe(10_000);
    // Exact nearest-rank values are 5, 9, 9.9 and 9.99 ms; 3 significant digits allow 0.1 %.
    expect(s.p50).toBeCloseTo(5, 2);
    expect(Math.abs(s.p90 - 9) / 9).toBeLessThan(0.001);
    expect(Math.abs(s.p99 - 9.9) / 9.9).toBeLessThan(0.001);
    expect(Math.abs(s.p999 - 9.99) / 9.99).toBeLessThan(0.001);
    expect(s.max).toBeCloseTo(10, 2);
    expect(s.mean).toBeCloseTo(5.0005, 2);
  });

  it("reports a bimodal distribution's tail (a stall hidden from the median)", () => {
    const r = new Recorder();
    for (let i = 0; i < 990; i += 1) r.ok("identify", 0, 0.2);
    for (let i = 0; i < 10; i += 1) r.ok("identify", 0, 250);
    const s = r.summary().latencyMs.identify;
    expect(s.p50).toBeCloseTo(0.2, 3);
    expect(s.p90).toBeCloseTo(0.2, 3);
    expect(s.p99).toBeCloseTo(0.2, 3);
    expect(Math.abs(s.p999 - 250) / 250).toBeLessThan(0.001);
    expect(s.max).toBeCloseTo(250, 0);
  });

  it("counts answers, errors by operation and code, declines apart, and events", () => {
    const r = new Recorder();
    r.ok("identify", 0, 1);
    r.error("calculate", errorCodeOf(new PosError(ErrorCode.ERROR_CODE_INSUFFICIENT_POINTS, "no", {}, 0)));
    r.error("confirm", errorCodeOf(new PosError(ErrorCode.ERROR_CODE_HOLD_EXPIRED, "late", {}, 0)));
    r.error("confirm", errorCodeOf(new PosTimeoutError(5_000, true, "confirm")));
    r.error("confirm", errorCodeOf(new PosTimeoutError(5_000, true, "confirm")));
    r.event("coupon:UNKNOWN");
    r.checkOk(0, 3);
    const s = r.summary();
    expect(s.ok).toEqual({ identify: 1, calculate: 0, confirm: 0, cancel: 0, refund: 0 });
    expect(s.errors).toEqual({ "confirm:HOLD_EXPIRED": 1, "confirm:PosTimeoutError": 2 });
    expect(s.errorsTotal).toBe(3);
    expect(s.declines).toEqual({ "calculate:INSUFFICIENT_POINTS": 1 });
    expect(s.declinesTotal).toBe(1);
    expect(s.events).toEqual({ "coupon:UNKNOWN": 1 });
    expect(s.checksOk).toBe(1);
    expect(s.latencyMs.check.count).toBe(1);
    expect(s.latencyMs.refund.count).toBe(0);
    expect(Number.isNaN(s.latencyMs.refund.p99)).toBe(true);
  });
});
