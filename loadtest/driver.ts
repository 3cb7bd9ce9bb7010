// One fixed-rate run: checks start on the open-loop timetable (scheduler.ts),
// each one a till's sequence of requests through a POS client, and the
// recorder takes every answer and error of the measurement window.
//
// Contract
// - A check is identify → calculate → confirm (or cancel) → refund, one step
//   after another on one connection; checks are spread round-robin over the
//   connections and many run at once (a connection is a store's gateway
//   pipelining its tills, not one till).
// - Latency is from the INTENDED time: identify's is the check's slot on the
//   timetable; a later step's is the moment the previous answer arrived (a
//   till sends the next step when it has the answer; there is no earlier
//   moment at which it should have been sent). "check" spans the whole check
//   from its slot. "sendLag" is how late the generator itself sent the first
//   request, so its own delay is never mistaken for the daemon's.
// - Only checks whose slot falls in [warm-up end, warm-up end + seconds) are
//   recorded. Achieved rate = checks finished OK within that window / seconds.
// - A failed step ends its check and is counted by step and code. After the
//   timetable, unanswered checks get drainGraceMs; what is still open then is
//   reported as unfinished and nothing it does later is recorded.
// - Time and the clients are injected, so the run is tested with a fake clock
//   and fake clients.
import { pb, type loyalty } from "../protocol/codec.js";
import { Recorder, errorCodeOf, type PosOperation, type RecorderSummary } from "./recorder.js";
import { runOpenLoop, type SchedulerClock } from "./scheduler.js";
import type { CheckPlan, Workload } from "./workload.js";

/** The part of PosClient a check uses (PosClient satisfies it). */
export interface CheckClient {
  identify(request: loyalty.v1.IdentifyRequest.$Properties): Promise<unknown>;
  calculate(request: Omit<loyalty.v1.CalculateRequest.$Properties, "operationId">): Promise<Pick<loyalty.v1.CalculateResult, "checkId" | "coupons">>;
  confirm(request: Omit<loyalty.v1.ConfirmRequest.$Properties, "operationId">): Promise<unknown>;
  cancel(request: Omit<loyalty.v1.CancelRequest.$Properties, "operationId">): Promise<unknown>;
  refund(request: Omit<loyalty.v1.RefundRequest.$Properties, "operationId">): Promise<unknown>;
}

export type RunPhase = "warmup" | "measure" | "drain";

export interface ProgressSnapshot {
  readonly phase: RunPhase;
  readonly elapsedS: number;
  readonly offeredRate: number;
  readonly checksStarted: number;
  /** Checks finished OK in the last progress interval, per second. */
  readonly recentChecksPerS: number;
  readonly outstanding: number;
  readonly errorsTotal: number;
  readonly checkP99Ms: number;
}

export interface RunOptions {
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly clients: readonly CheckClient[];
  readonly workload: Workload;
  readonly clock: SchedulerClock;
  /** Distinguishes receipt numbers of runs against the same daemon. */
  readonly runTag: string;
  readonly drainGraceMs: number;
  /** Milliseconds between progress snapshots. */
  readonly progressIntervalMs?: number;
  onProgress?(snapshot: ProgressSnapshot): void;
  /** How long before the window "pre-window" is reported (e.g. to scrape a metrics baseline). */
  readonly preWindowLeadMs?: number;
  onWindow?(event: "pre-window" | "window-start" | "window-end"): void;
}

export interface RunResult {
  readonly offeredRate: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly achievedRate: number;
  /** Checks whose slot fell in the window. */
  readonly checksStarted: number;
  /** Checks of the whole run (warm-up included) still open after the drain grace. */
  readonly unfinishedChecks: number;
  readonly errorsTotal: number;
  readonly latencyMs: RecorderSummary["latencyMs"];
  readonly summary: RecorderSummary;
}

const defaultProgressIntervalMs = 1_000;

function couponStatusName(status: loyalty.v1.CouponStatus | null | undefined): string {
  return pb.CouponStatus[status ?? 0]?.replace(/^COUPON_STATUS_/, "") ?? String(status);
}

/** Where an open check is, so what is still open at the end is reported by step. */
interface OpenCheck {
  step: PosOperation;
  readonly measured: boolean;
}

export async function runFixedRate(options: RunOptions): Promise<RunResult> {
  const { rate, seconds, warmupSeconds, clients, workload, clock } = options;
  if (clients.length === 0) throw new RangeError("a run needs at least one client");
  const recorder = new Recorder();
  const startAt = clock.now() + 20;
  const windowStart = startAt + warmupSeconds * 1000;
  const windowEnd = windowStart + seconds * 1000;
  const count = Math.floor((rate * (warmupSeconds + seconds)));
  const progressIntervalMs = options.progressIntervalMs ?? defaultProgressIntervalMs;
  const open = new Set<OpenCheck>();
  let checksStarted = 0;
  let finishedInWindow = 0;
  /** Set when the run is over: late answers of unfinished checks are not recorded. */
  let closed = false;
  let settle: () => void = () => {};
  let timetableDone = false;
  const settled = new Promise<void>((resolve) => { settle = resolve; });

  const runCheck = async (client: CheckClient, plan: CheckPlan, intended: number): Promise<void> => {
    const measured = intended >= windowStart && intended < windowEnd;
    if (measured) checksStarted += 1;
    const rec = (): Recorder | undefined => (measured && !closed ? recorder : undefined);
    const state: OpenCheck = { step: plan.card === undefined ? "calculate" : "identify", measured };
    open.add(state);
    let stepAt = intended;
    const done = (operation: PosOperation): void => {
      const now = clock.now();
      rec()?.ok(operation, stepAt, now);
      stepAt = now;
    };
    try {
      rec()?.latency("sendLag", intended, clock.now());
      if (plan.card !== undefined) {
        await client.identify({ card: { cardNumber: plan.card } });
        done("identify");
      }
      state.step = "calculate";
      const calc = await client.calculate({
        card: plan.card === undefined ? null : { cardNumber: plan.card }, lines: plan.lines.slice(),
        redeemPoints: plan.redeemPoints, coupons: plan.coupon === undefined ? [] : [plan.coupon],
      });
      done("calculate");
      for (const coupon of calc.coupons ?? []) rec()?.event(`coupon:${couponStatusName(coupon.status)}`);
      if (plan.end === "cancel") {
        state.step = "cancel";
        await client.cancel({ checkId: calc.checkId, reason: "load test: basket abandoned" });
        done("cancel");
      } else {
        state.step = "confirm";
        await client.confirm({ checkId: calc.checkId, receiptNumber: `${options.runTag}-${plan.index}` });
        done("confirm");
        if (plan.refund !== undefined) {
          state.step = "refund";
          await client.refund({ checkId: calc.checkId, full: plan.refund.full, lines: plan.refund.lines.slice(), receiptNumber: `${options.runTag}-${plan.index}-r` });
          done("refund");
        }
      }
      const now = clock.now();
      rec()?.checkOk(intended, now);
      if (!closed && now >= windowStart && now < windowEnd) finishedInWindow += 1;
    } catch (error) {
      rec()?.error(state.step, errorCodeOf(error));
    } finally {
      open.delete(state);
      if (open.size === 0 && timetableDone) settle();
    }
  };

  // Progress, once per interval, from the scheduler's turns and the drain.
  let nextProgressAt = startAt + progressIntervalMs;
  let okAtLastProgress = 0;
  const progress = (now: number, phase: RunPhase): void => {
    if (options.onProgress === undefined || now < nextProgressAt) return;
    const intervalS = (now - (nextProgressAt - progressIntervalMs)) / 1000;
    nextProgressAt = now + progressIntervalMs;
    const ok = recorder.checksOkCount;
    options.onProgress({
      phase, elapsedS: (now - startAt) / 1000, offeredRate: rate, checksStarted, recentChecksPerS: (ok - okAtLastProgress) / intervalS,
      outstanding: open.size, errorsTotal: recorder.errorCount, checkP99Ms: recorder.percentileMs("check", 99),
    });
    okAtLastProgress = ok;
  };

  // Window events on their own timers, so they fire on time even between sparse arrivals.
  if (options.onWindow) {
    const at = (time: number, event: "pre-window" | "window-start" | "window-end"): void => {
      clock.setTimeout(() => options.onWindow!(event), Math.max(0, time - clock.now()));
    };
    at(windowStart - (options.preWindowLeadMs ?? 0), "pre-window");
    at(windowStart, "window-start");
    at(windowEnd, "window-end");
  }

  const loop = runOpenLoop({
    rate, count, startAt, clock,
    onArrival: (index, intended) => {
      void runCheck(clients[index % clients.length]!, workload.plan(index), intended);
    },
    onTurn: (now) => progress(now, now < windowStart ? "warmup" : "measure"),
  });
  await loop.done;
  // The window ends after the last slot; wait for its end so achieved counts a full window.
  await new Promise<void>((resolve) => clock.setTimeout(resolve, Math.max(0, windowEnd - clock.now())));
  timetableDone = true;
  if (open.size === 0) settle();
  let graceTimer: unknown;
  const graceOver = new Promise<void>((resolve) => { graceTimer = clock.setTimeout(resolve, options.drainGraceMs); });
  await Promise.race([settled, graceOver]);
  clock.clearTimeout(graceTimer);
  progress(clock.now() + progressIntervalMs, "drain");
  // What is still open is cut off: counted once, by the step it was waiting for.
  for (const check of open) if (check.measured) recorder.error(check.step, "unfinished-at-end");
  closed = true;
  const unfinishedChecks = open.size;
  const summary = recorder.summary();
  return {
    offeredRate: rate, seconds, warmupSeconds, achievedRate: finishedInWindow / seconds, checksStarted,
    unfinishedChecks, errorsTotal: summary.errorsTotal, latencyMs: summary.latencyMs, summary,
  };
}
