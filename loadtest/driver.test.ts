// The driver with a fake clock and fake POS clients: open-loop pacing end to
// end (a slow answer does not delay later checks) and latency from the
// intended time, with exact numbers because time is under the test's control.
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../protocol/codec.js";
import { PosError } from "../protocol/client.js";
import { runFixedRate, type CheckClient } from "./driver.js";
import { FakeClock } from "./test-support/fake-clock.js";
import { Workload, type WorkloadOptions } from "./workload.js";

const plainChecks: WorkloadOptions = {
  seed: 7, nonmemberShare: 0, redeemShare: 0, redeemPoints: 10, couponShare: 0, cancelShare: 0, refundShare: 0,
  basketMin: 1, basketMax: 3, zipfS: 0,
};

interface Sent {
  readonly operation: string;
  readonly at: number;
}

/** A client whose every answer takes `delayMs(operation, n)` of fake time; it logs when each request was sent. */
function fakeClient(clock: FakeClock, sent: Sent[], delayMs: (operation: string, n: number) => number | "never" | "decline"): CheckClient {
  let n = 0;
  const answer = <T>(operation: string, value: T): Promise<T> => {
    sent.push({ operation, at: clock.now() });
    const delay = delayMs(operation, n++);
    if (delay === "never") return new Promise<T>(() => {});
    if (delay === "decline") return Promise.reject(new PosError(ErrorCode.ERROR_CODE_INSUFFICIENT_POINTS, "no", {}, 0, operation));
    return new Promise<T>((resolve) => { clock.setTimeout(() => resolve(value), delay); });
  };
  return {
    identify: () => answer("identify", {}),
    calculate: () => answer("calculate", { checkId: `c${n}`, coupons: [] }),
    confirm: () => answer("confirm", {}),
    cancel: () => answer("cancel", {}),
    refund: () => answer("refund", {}),
  };
}

function workload(options: WorkloadOptions = plainChecks): Workload {
  return new Workload(options, { earn: ["A", "B", "C"], redeem: ["A"] });
}

describe("fixed-rate run (fake clock)", () => {
  it("sends on the timetable while the first check hangs, and counts it as unfinished", async () => {
    const clock = new FakeClock(0);
    const sent: Sent[] = [];
    const client = fakeClient(clock, sent, (op, n) => (n === 0 ? "never" : 1));
    const run = runFixedRate({ rate: 100, seconds: 1, warmupSeconds: 0, clients: [client], workload: workload(), clock, runTag: "t", drainGraceMs: 500 });
    await clock.advanceTo(5_000);
    const result = await run;
    const identifies = sent.filter((s) => s.operation === "identify").map((s) => s.at);
    // Slot i at 20 ms (the driver's start offset) + 10 ms × i, whatever check 0 is doing.
    expect(identifies).toEqual(Array.from({ length: 100 }, (_, i) => 20 + i * 10));
    expect(result.checksStarted).toBe(100);
    expect(result.unfinishedChecks).toBe(1);
    expect(result.summary.errors).toEqual({ "identify:unfinished-at-end": 1 });
    expect(result.summary.checksOk).toBe(99);
  });

  it("measures from the intended time: a check whose slot the generator missed by 30 ms carries those 30 ms", async () => {
    const clock = new FakeClock(0);
    const sent: Sent[] = [];
    const client = fakeClient(clock, sent, () => 2);
    const run = runFixedRate({ rate: 10, seconds: 1, warmupSeconds: 0, clients: [client], workload: workload(), clock, runTag: "t", drainGraceMs: 100 });
    await clock.advanceTo(30); // check 0 (slot at 20 ms) is done by 26 ms
    clock.jump(120); // the event loop stalls until 150 ms; slot 1 was due at 120 ms
    await clock.advanceTo(2_000);
    const result = await run;
    const l = result.latencyMs;
    expect(l.identify.count).toBe(10);
    // Nine identifies took 2 ms from their slot; slot 1's took 30 + 2 = 32 ms.
    expect(l.identify.p50).toBeCloseTo(2, 2);
    expect(l.identify.max).toBeCloseTo(32, 1);
    expect(l.sendLag.max).toBeCloseTo(30, 1);
    // Later steps count from the previous answer: always 2 ms.
    expect(l.calculate.max).toBeCloseTo(2, 2);
    expect(l.confirm.max).toBeCloseTo(2, 2);
    // The whole check: 3 × 2 ms, plus the 30 ms missed.
    expect(l.check.p50).toBeCloseTo(6, 2);
    expect(l.check.max).toBeCloseTo(36, 1);
    expect(result.achievedRate).toBe(10);
  });

  it("records only the window, counts declines apart from errors, and spreads checks over clients", async () => {
    const clock = new FakeClock(0);
    const sentA: Sent[] = [];
    const sentB: Sent[] = [];
    const decline = (op: string, n: number): number | "decline" => (op === "calculate" && n % 4 === 1 ? "decline" : 1);
    const clients = [fakeClient(clock, sentA, decline), fakeClient(clock, sentB, () => 1)];
    const run = runFixedRate({ rate: 20, seconds: 1, warmupSeconds: 1, clients, workload: workload(), clock, runTag: "t", drainGraceMs: 100 });
    await clock.advanceTo(5_000);
    const result = await run;
    expect(sentA.filter((s) => s.operation === "identify")).toHaveLength(20);
    expect(sentB.filter((s) => s.operation === "identify")).toHaveLength(20);
    expect(result.checksStarted).toBe(20);
    expect(result.latencyMs.identify.count).toBe(20);
    expect(result.errorsTotal).toBe(0);
    expect(result.summary.declinesTotal).toBeGreaterThan(0);
    expect(result.summary.declines).toEqual({ "calculate:INSUFFICIENT_POINTS": result.summary.declinesTotal });
    expect(result.summary.checksOk + result.summary.declinesTotal).toBe(20);
  });

  it("runs the mix: non-member checks skip identify, cancels replace confirms, refunds follow confirms", async () => {
    const clock = new FakeClock(0);
    const sent: Sent[] = [];
    const mix = { ...plainChecks, nonmemberShare: 0.3, cancelShare: 0.2, refundShare: 0.5 };
    const run = runFixedRate({ rate: 200, seconds: 1, warmupSeconds: 0, clients: [fakeClient(clock, sent, () => 1)], workload: workload(mix), clock, runTag: "t", drainGraceMs: 100 });
    await clock.advanceTo(5_000);
    const result = await run;
    const count = (op: string): number => sent.filter((s) => s.operation === op).length;
    // Replaying the same seed gives the plans the driver used.
    const plans = workload(mix);
    const expected = Array.from({ length: 200 }, (_, i) => plans.plan(i));
    expect(count("calculate")).toBe(200);
    expect(count("identify")).toBe(expected.filter((p) => p.card !== undefined).length);
    expect(count("cancel")).toBe(expected.filter((p) => p.end === "cancel").length);
    expect(count("confirm")).toBe(expected.filter((p) => p.end === "confirm").length);
    expect(count("refund")).toBe(expected.filter((p) => p.refund !== undefined).length);
    expect(count("identify")).toBeLessThan(200);
    expect(count("cancel")).toBeGreaterThan(0);
    expect(count("refund")).toBeGreaterThan(0);
    expect(result.summary.ok).toEqual({ identify: count("identify"), calculate: 200, confirm: count("confirm"), cancel: count("cancel"), refund: count("refund") });
  });
});
