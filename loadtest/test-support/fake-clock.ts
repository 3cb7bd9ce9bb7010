// A manual clock for the scheduler and driver tests: time moves only when the
// test advances it, timers fire in time order, and the promise jobs each
// timer starts run before the next timer (as they would on a real event loop).
import type { SchedulerClock } from "../scheduler.js";

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

export class FakeClock implements SchedulerClock {
  private time: number;
  private timers: Timer[] = [];
  private lastId = 0;

  constructor(start = 1_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const timer = { id: ++this.lastId, at: this.time + Math.max(0, delayMs), callback };
    this.timers.push(timer);
    // Stable by time, then by creation, like Node's timer lists.
    this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Runs every timer due up to `time`, in order, settling promise jobs after each; then sets the time to `time`. */
  async advanceTo(time: number): Promise<void> {
    await settle();
    for (;;) {
      const next = this.timers[0];
      if (next === undefined || next.at > time) break;
      this.timers.shift();
      this.time = Math.max(this.time, next.at);
      next.callback();
      await settle();
    }
    this.time = Math.max(this.time, time);
    await settle();
  }

  async advanceBy(ms: number): Promise<void> {
    await this.advanceTo(this.time + ms);
  }

  /** Jumps the time forward without running timers (a blocked event loop). */
  jump(ms: number): void {
    this.time += ms;
  }
}

/** Lets queued promise jobs run (several rounds: async functions chain a few). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}
