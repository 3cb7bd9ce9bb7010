// Latency objectives (SLO) and the saturation search: the highest arrival
// rate at which one daemon still meets them.
//
// Contract
// - Pure logic over an injected runner `run(rate) → outcome`, so the search
//   is tested with a fake runner; the CLI passes a real fixed-rate run.
// - A rate passes when every SLO term holds, the errors stay within
//   maxErrorRatio of the checks started, and the daemon kept up: achieved
//   ≥ minAchievedRatio × offered. (A generator that falls behind or a daemon
//   that drops work must not pass on the latency of what little it answered.)
// - Steps go up (by stepRate, or ×stepFactor) from startRate until a rate
//   fails or maxRate is passed; then `refine` bisections between the last
//   passing and the first failing rate narrow the answer. The result is the
//   highest rate that passed, or undefined when even the first failed.
import { reportedPercentiles, type LatencySummaryMs, type Series, allSeries } from "./recorder.js";

export type SloPercentile = keyof typeof reportedPercentiles | "max";

export interface SloTerm {
  readonly series: Series;
  readonly percentile: SloPercentile;
  /** The figure must be ≤ this many milliseconds. */
  readonly maxMs: number;
}

const percentileNames: readonly SloPercentile[] = [...(Object.keys(reportedPercentiles) as SloPercentile[]), "max"];

/** Parses "identify:p99<=1,calculate:p99<=1,confirm:p99<=2" (ms; p99.9 may be written p999 or p99.9). */
export function parseSlo(text: string): SloTerm[] {
  const terms: SloTerm[] = [];
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const match = /^([a-zA-Z]+):(p[0-9.]+|max)\s*<=\s*([0-9.]+)\s*(?:ms)?$/.exec(part);
    if (!match) throw new RangeError(`SLO term "${part}" is not OPERATION:PERCENTILE<=MS, e.g. confirm:p99<=2`);
    const series = match[1] as Series;
    if (!allSeries.includes(series)) throw new RangeError(`SLO term "${part}": unknown operation ${series} (one of ${allSeries.join(", ")})`);
    const percentile = match[2]!.replace(".", "") as SloPercentile;
    if (!percentileNames.includes(percentile)) throw new RangeError(`SLO term "${part}": percentile must be one of ${percentileNames.join(", ")}`);
    const maxMs = Number(match[3]);
    if (!(maxMs > 0) || !Number.isFinite(maxMs)) throw new RangeError(`SLO term "${part}": the bound must be a positive number of ms`);
    terms.push({ series, percentile, maxMs });
  }
  if (terms.length === 0) throw new RangeError("the SLO needs at least one term");
  return terms;
}

export function formatSlo(terms: readonly SloTerm[]): string {
  return terms.map((t) => `${t.series}:${t.percentile}<=${t.maxMs}`).join(",");
}

/** What the search needs to know of one fixed-rate run. */
export interface RateOutcome {
  readonly offeredRate: number;
  readonly achievedRate: number;
  readonly checksStarted: number;
  readonly errorsTotal: number;
  readonly latencyMs: Readonly<Record<Series, LatencySummaryMs>>;
  /** This machine's wake-up floor during the run (see wakeFloorAbove), when measured. */
  readonly wakeFloorMs?: LatencySummaryMs | undefined;
}

export interface PassCriteria {
  readonly slo: readonly SloTerm[];
  /** Errors allowed as a fraction of the checks started (0.001 = 0.1 %). */
  readonly maxErrorRatio: number;
  /** Achieved rate as a fraction of the offered rate at least. */
  readonly minAchievedRatio: number;
}

export interface Verdict {
  readonly pass: boolean;
  /** Why it failed, one line per broken condition; empty when it passed. */
  readonly reasons: readonly string[];
}

export function judge(outcome: RateOutcome, criteria: PassCriteria): Verdict {
  const reasons: string[] = [];
  for (const term of criteria.slo) {
    const summary = outcome.latencyMs[term.series];
    const value = summary[term.percentile];
    // No samples of an operation the SLO names means it was never measured: that is not a pass.
    if (summary.count === 0 || !Number.isFinite(value)) reasons.push(`${term.series} ${term.percentile}: no samples`);
    else if (value > term.maxMs) reasons.push(`${term.series} ${term.percentile} ${value.toFixed(3)} ms > ${term.maxMs} ms`);
  }
  const errorRatio = outcome.checksStarted === 0 ? 1 : outcome.errorsTotal / outcome.checksStarted;
  if (errorRatio > criteria.maxErrorRatio) reasons.push(`errors ${(errorRatio * 100).toFixed(2)} % of checks > ${(criteria.maxErrorRatio * 100).toFixed(2)} %`);
  if (outcome.achievedRate < criteria.minAchievedRatio * outcome.offeredRate) {
    reasons.push(`achieved ${outcome.achievedRate.toFixed(0)}/s < ${(criteria.minAchievedRatio * 100).toFixed(0)} % of offered ${outcome.offeredRate}/s`);
  }
  return { pass: reasons.length === 0, reasons };
}

/**
 * The SLO terms this machine could not have met during the run whatever the
 * daemon did: the wake-up floor (the loopback round trip of two idle
 * processes, benchmarks/support/wake-floor.ts) was already above them at the
 * same percentile. One line per term; empty when the floor was not measured
 * or is below every term.
 */
export function wakeFloorAbove(outcome: RateOutcome, slo: readonly SloTerm[]): string[] {
  const floor = outcome.wakeFloorMs;
  if (floor === undefined || floor.count === 0) return [];
  const lines: string[] = [];
  for (const term of slo) {
    const value = floor[term.percentile];
    if (Number.isFinite(value) && value > term.maxMs) {
      lines.push(`${term.series} ${term.percentile} ≤ ${term.maxMs} ms is below this machine's wake-up floor ${term.percentile} ${value.toFixed(3)} ms`);
    }
  }
  return lines;
}

export interface SaturationOptions<O extends RateOutcome> {
  readonly startRate: number;
  readonly maxRate: number;
  /** Added to the rate each step; used when set, else stepFactor. */
  readonly stepRate?: number;
  /** Multiplies the rate each step (> 1). */
  readonly stepFactor?: number;
  /** Bisections between the last pass and the first failure. */
  readonly refine: number;
  readonly criteria: PassCriteria;
  run(rate: number): Promise<O>;
  /** Told after each step (progress output). */
  onStep?(step: SaturationStep<O>): void;
}

export interface SaturationStep<O extends RateOutcome> {
  readonly rate: number;
  readonly outcome: O;
  readonly verdict: Verdict;
}

export interface SaturationResult<O extends RateOutcome> {
  readonly steps: readonly SaturationStep<O>[];
  readonly highestPassingRate: number | undefined;
  readonly firstFailingRate: number | undefined;
}

export async function saturate<O extends RateOutcome>(options: SaturationOptions<O>): Promise<SaturationResult<O>> {
  const { startRate, maxRate, stepRate, stepFactor, refine, criteria } = options;
  if (!(startRate > 0) || !(maxRate >= startRate)) throw new RangeError(`need 0 < start rate ≤ max rate, got ${startRate} and ${maxRate}`);
  if (stepRate === undefined ? !(stepFactor !== undefined && stepFactor > 1) : !(stepRate > 0)) {
    throw new RangeError("need a step rate > 0 or a step factor > 1");
  }
  const next = (rate: number): number => Math.round(stepRate !== undefined ? rate + stepRate : rate * stepFactor!);
  const steps: SaturationStep<O>[] = [];
  const tryRate = async (rate: number): Promise<boolean> => {
    const outcome = await options.run(rate);
    const step = { rate, outcome, verdict: judge(outcome, criteria) };
    steps.push(step);
    options.onStep?.(step);
    return step.verdict.pass;
  };

  let passed: number | undefined;
  let failed: number | undefined;
  for (let rate = startRate; rate <= maxRate; rate = next(rate)) {
    if (await tryRate(rate)) passed = rate;
    else { failed = rate; break; }
  }
  // Bisection only narrows a bracket: it needs a pass below a failure.
  for (let i = 0; i < refine && passed !== undefined && failed !== undefined; i += 1) {
    const mid = Math.round((passed + failed) / 2);
    if (mid === passed || mid === failed) break;
    if (await tryRate(mid)) passed = mid;
    else failed = mid;
  }
  return { steps, highestPassingRate: passed, firstFailingRate: failed };
}
