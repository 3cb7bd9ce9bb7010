import { describe, expect, it } from "vitest";
import { intendedAt, runOpenLoop } from "./scheduler.js";
import { FakeClock } from "./test-support/fake-clock.js";

describe("open-loop scheduler", () => {
  it("starts every arrival at its intended time on an exact timetable", async () => {
    const clock = new FakeClock(0);
    const arrivals: { index: number; intended: number; startedAt: number }[] = [];
    const loop = runOpenLoop({
      rate: 200, count: 50, startAt: 10, clock,
      onArrival: (index, intended) => { arrivals.push({ index, intended, startedAt: clock.now() }); },
    });
    await clock.advanceTo(1_000);
    expect(await loop.done).toBe(50);
    expect(arrivals.map((a) => a.index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    for (const a of arrivals) {
      expect(a.intended).toBeCloseTo(10 + a.index * 5, 9);
      // The fake timers fire exactly when asked, so each arrival starts at its intended time.
      expect(a.startedAt).toBeCloseTo(a.intended, 9);
    }
  });

  it("does not wait for answers: an arrival that never finishes does not delay the next ones", async () => {
    const clock = new FakeClock(0);
    const started: number[] = [];
    const never = new Promise<void>(() => {});
    const loop = runOpenLoop({
      rate: 100, count: 10, startAt: 0, clock,
      onArrival: (index) => {
        started.push(clock.now());
        // The first arrival "sends" and waits forever, as a stalled server would make it.
        if (index === 0) void never;
      },
    });
    await clock.advanceTo(95);
    expect(started).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(await loop.done).toBe(10);
  });

  it("charges a late timer to the arrivals: all due arrivals start at once with their own intended times", async () => {
    const clock = new FakeClock(0);
    const arrivals: { intended: number; lateMs: number }[] = [];
    runOpenLoop({ rate: 1_000, count: 100, startAt: 0, clock, onArrival: (_i, intended, lateMs) => { arrivals.push({ intended, lateMs }); } });
    await clock.advanceTo(0);
    expect(arrivals).toHaveLength(1);
    // The event loop is blocked for 30 ms: the next timer runs late.
    clock.jump(30);
    await clock.advanceTo(30);
    expect(arrivals).toHaveLength(31);
    expect(arrivals[1]).toEqual({ intended: 1, lateMs: 29 });
    expect(arrivals[30]).toEqual({ intended: 30, lateMs: 0 });
    // The timetable is not shifted: the next arrival is still due at 31 ms.
    await clock.advanceTo(31);
    expect(arrivals[31]!.intended).toBe(31);
  });

  it("computes intended times from the index so they never drift", () => {
    expect(intendedAt(0, 3, 3_000_000)).toBe(1_000_000_000);
    expect(intendedAt(5, 7, 7)).toBe(1_005);
  });

  it("stop() ends the timetable early and resolves with what was started", async () => {
    const clock = new FakeClock(0);
    const loop = runOpenLoop({ rate: 100, count: 1_000, startAt: 0, clock, onArrival: () => {} });
    await clock.advanceTo(45);
    loop.stop();
    expect(await loop.done).toBe(5);
    expect(clock.pendingTimers).toBe(0);
  });

  it("rejects a rate that is not positive", () => {
    const clock = new FakeClock(0);
    expect(() => runOpenLoop({ rate: 0, count: 1, startAt: 0, clock, onArrival: () => {} })).toThrow(RangeError);
  });
});
