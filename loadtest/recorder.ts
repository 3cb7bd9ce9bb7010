// The recorder: latency histograms per operation, answer counts, errors by
// code, and other counted outcomes (coupon statuses) of one measurement.
//
// Contract
// - Latency is always (answered at − INTENDED send time): the caller passes
//   both times and never a duration it measured itself, so the intended time
//   cannot be forgotten (see scheduler.ts for why it matters).
// - HDR histograms (hdr-histogram-js, 3 significant digits) in whole
//   microseconds from 1 µs to an hour, growing on demand: constant memory
//   per operation however long the run, and percentiles within 0.1 %.
// - Pure: no clock, no I/O; the caller decides which samples are in the
//   measurement window.
import * as hdr from "hdr-histogram-js";
import { ErrorCode } from "../protocol/codec.js";
import { PosError } from "../protocol/client.js";
import type { LatencySummary } from "../benchmarks/support/measure.js";

/** POS operations the generator sends. */
export const posOperations = ["identify", "calculate", "confirm", "cancel", "refund"] as const;
export type PosOperation = (typeof posOperations)[number];
/**
 * Series besides the operations: "check" is a whole check from its intended
 * start to its last answer; "sendLag" is how late the generator itself sent
 * identify (or calculate, for a non-member check) after its intended time.
 */
export type Series = PosOperation | "check" | "sendLag";
export const allSeries: readonly Series[] = [...posOperations, "check", "sendLag"];

/** Percentiles every report shows, as HDR percentile arguments. */
export const reportedPercentiles = { p50: 50, p90: 90, p99: 99, p999: 99.9 } as const;

/** Latency figures of one series, in milliseconds (µs resolution): the benchmarks' summary shape. */
export type LatencySummaryMs = LatencySummary;

export interface RecorderSummary {
  readonly latencyMs: Record<Series, LatencySummaryMs>;
  /** Answers that were not errors, per operation. */
  readonly ok: Record<PosOperation, number>;
  /** "operation:CODE" → count; CODE is an ErrorCode name without its prefix, or the client error class. */
  readonly errors: Record<string, number>;
  readonly errorsTotal: number;
  /** Business declines ("operation:CODE", see declineCodes): answers a POS expects, not failures of the daemon. */
  readonly declines: Record<string, number>;
  readonly declinesTotal: number;
  /** Other counted outcomes, e.g. "coupon:UNKNOWN". */
  readonly events: Record<string, number>;
  readonly checksOk: number;
}

const microsecondsPerHour = 3_600_000_000;

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: microsecondsPerHour, numberOfSignificantValueDigits: 3, autoResize: true, useWebAssembly: false });
}

/** A stable name for why an operation failed: the daemon's ErrorCode, or the client error's class. */
export function errorCodeOf(error: unknown): string {
  if (error instanceof PosError) return ErrorCode[error.code]?.replace(/^ERROR_CODE_/, "") ?? String(error.code);
  if (error instanceof Error) return error.name || error.constructor.name;
  return "non-error-thrown";
}

/**
 * Codes that are the daemon doing its job: a redeeming check on a card whose
 * points went to concurrent checks, a card blocked meanwhile. They end the
 * check but are counted apart from errors, so a saturation search does not
 * fail a rate on correct answers.
 */
export const declineCodes: ReadonlySet<string> = new Set([
  "INSUFFICIENT_POINTS", "INSUFFICIENT_FUNDS", "CARD_BLOCKED", "CARD_NOT_ACTIVE", "REFUND_EXCEEDED",
]);

function sortedRecord(map: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort(([a], [b]) => a.localeCompare(b)));
}

export class Recorder {
  private readonly histograms = new Map<Series, hdr.Histogram>(allSeries.map((s) => [s, newHistogram()]));
  private readonly okCounts = new Map<PosOperation, number>(posOperations.map((o) => [o, 0]));
  private readonly errorCounts = new Map<string, number>();
  private readonly declineCounts = new Map<string, number>();
  private declinesTotal = 0;
  private readonly eventCounts = new Map<string, number>();
  private errorsTotal = 0;
  private checksOk = 0;

  /** Records a latency of `series` from its intended time to when it was answered (both ms, same clock). */
  latency(series: Series, intendedAtMs: number, answeredAtMs: number): void {
    // Negative only if the caller mixed clocks; clamp to the histogram's floor rather than throw mid-run.
    const us = Math.max(1, Math.round((answeredAtMs - intendedAtMs) * 1000));
    this.histograms.get(series)!.recordValue(us);
  }

  /** An operation answered successfully: its count and its latency. */
  ok(operation: PosOperation, intendedAtMs: number, answeredAtMs: number): void {
    this.okCounts.set(operation, this.okCounts.get(operation)! + 1);
    this.latency(operation, intendedAtMs, answeredAtMs);
  }

  /** A whole check finished without error. */
  checkOk(intendedAtMs: number, answeredAtMs: number): void {
    this.checksOk += 1;
    this.latency("check", intendedAtMs, answeredAtMs);
  }

  /** An operation failed with `code` (see errorCodeOf); declineCodes are counted as declines. */
  error(operation: PosOperation, code: string): void {
    const key = `${operation}:${code}`;
    if (declineCodes.has(code)) {
      this.declineCounts.set(key, (this.declineCounts.get(key) ?? 0) + 1);
      this.declinesTotal += 1;
    } else {
      this.errorCounts.set(key, (this.errorCounts.get(key) ?? 0) + 1);
      this.errorsTotal += 1;
    }
  }

  event(key: string): void {
    this.eventCounts.set(key, (this.eventCounts.get(key) ?? 0) + 1);
  }

  get errorCount(): number {
    return this.errorsTotal;
  }

  get checksOkCount(): number {
    return this.checksOk;
  }

  /** Percentile (0–100) of a series so far, in ms; NaN when it has no samples. */
  percentileMs(series: Series, percentile: number): number {
    const h = this.histograms.get(series)!;
    return h.totalCount === 0 ? NaN : h.getValueAtPercentile(percentile) / 1000;
  }

  summary(): RecorderSummary {
    const latencyMs = {} as Record<Series, LatencySummaryMs>;
    for (const [series, h] of this.histograms) latencyMs[series] = summarize(h);
    return {
      latencyMs,
      ok: Object.fromEntries(this.okCounts) as Record<PosOperation, number>,
      errors: sortedRecord(this.errorCounts),
      errorsTotal: this.errorsTotal,
      declines: sortedRecord(this.declineCounts),
      declinesTotal: this.declinesTotal,
      events: sortedRecord(this.eventCounts),
      checksOk: this.checksOk,
    };
  }
}

function summarize(h: hdr.Histogram): LatencySummaryMs {
  if (h.totalCount === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  // HDR returns the top of a value's bucket, which can exceed the exact maximum it also tracks.
  const at = (p: number): number => Math.min(h.getValueAtPercentile(p), h.maxValue) / 1000;
  return {
    count: h.totalCount,
    p50: at(reportedPercentiles.p50), p90: at(reportedPercentiles.p90), p99: at(reportedPercentiles.p99), p999: at(reportedPercentiles.p999),
    max: h.maxValue / 1000, mean: h.mean / 1000,
  };
}
