// The open-loop scheduler: starts arrival number i at its intended time
// t0 + i × 1000 / rate, whatever earlier arrivals are doing.
//
// Contract
// - Open loop: `onArrival` is called synchronously and its result is not
//   awaited, so a slow (or never) answered arrival cannot delay a later one.
//   This is what keeps coordinated omission out: a closed-loop generator
//   waits for an answer before sending the next request, so a stalled server
//   also stalls the generator and the requests that should have queued up
//   are never sent nor measured.
// - Every arrival carries its INTENDED time. When the timer fires late (a
//   busy event loop, a coarse timer), every arrival that is due is started at
//   once, each with its own intended time, so the lateness is charged to
//   those arrivals' latency instead of silently shifting the timetable.
// - Time comes from an injected clock (milliseconds, monotonic), so the
//   pacing is tested with a fake clock and no real waiting.
// - Bounded: at most `count` arrivals; `stop()` ends the timetable early.

export interface SchedulerClock {
  /** Monotonic milliseconds (performance.now() in production). */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: SchedulerClock = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface OpenLoopOptions {
  /** Arrivals per second (> 0). */
  readonly rate: number;
  /** Total arrivals of the timetable. */
  readonly count: number;
  /** Intended time of arrival 0, on the clock's scale. */
  readonly startAt: number;
  readonly clock: SchedulerClock;
  /**
   * Starts one arrival. Called in index order; must not block. `lateMs` is
   * how far behind its intended time the scheduler got to it (the
   * generator's own share of the latency, reported as "send lag").
   */
  onArrival(index: number, intendedAt: number, lateMs: number): void;
  /** Called once per timer turn after the due arrivals were started (progress, window bookkeeping). */
  onTurn?(now: number): void;
}

export interface OpenLoop {
  /** Resolves with the number of arrivals started once the timetable is done (or stopped). */
  readonly done: Promise<number>;
  stop(): void;
}

/** Intended time of arrival `index`. Computed from the index, never accumulated, so rounding cannot drift. */
export function intendedAt(startAt: number, rate: number, index: number): number {
  return startAt + (index * 1000) / rate;
}

export function runOpenLoop(options: OpenLoopOptions): OpenLoop {
  const { rate, count, startAt, clock } = options;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number, got ${rate}`);
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  let launched = 0;
  let timer: unknown;
  let finished = false;
  let finish: (launched: number) => void = () => {};
  const done = new Promise<number>((resolve) => { finish = resolve; });

  const end = (): void => {
    if (finished) return;
    finished = true;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    finish(launched);
  };

  const turn = (): void => {
    timer = undefined;
    if (finished) return;
    const now = clock.now();
    while (launched < count) {
      const at = intendedAt(startAt, rate, launched);
      if (at > now) break;
      const index = launched;
      launched += 1;
      options.onArrival(index, at, now - at);
      if (finished) return; // onArrival called stop()
    }
    options.onTurn?.(now);
    if (launched >= count) { end(); return; }
    // Sleep until the next arrival is due. setTimeout rounds up to whole
    // milliseconds, so at high rates several arrivals share a turn; each
    // still keeps its own intended time.
    timer = clock.setTimeout(turn, Math.max(0, intendedAt(startAt, rate, launched) - clock.now()));
  };

  if (count === 0) end();
  else timer = clock.setTimeout(turn, Math.max(0, startAt - clock.now()));
  return { done, stop: end };
}
