// Human-readable output of the load test: the live progress line, the
// summary of a run, the saturation table. Pure string formatting; the CLI
// decides where it goes (progress to stderr, summaries to stdout).
import type { ProgressSnapshot, RunResult } from "./driver.js";
import type { HttpLoadResult } from "./http-load.js";
import { allSeries, type LatencySummaryMs, type Series } from "./recorder.js";
import { wakeFloorAbove, type SaturationResult, type RateOutcome, type SloTerm } from "./saturation.js";

/** Milliseconds with µs resolution below 10 ms, "-" when there is nothing to show. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  return ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(3)} ms`;
}

const seriesLabels: Partial<Record<Series, string>> = {
  check: "whole check",
  sendLag: "send lag (generator)",
};

/** CPU over the measurement window, 100 % = one core. */
export interface WindowCpu {
  readonly seconds: number;
  /** The whole generator process: its event loop plus V8's GC helpers and libuv threads. */
  readonly generatorPercent: number;
  readonly generatorMainThreadPercent: number;
  /** Generator CPU per check whose slot fell in the window. */
  readonly generatorUsPerCheck: number;
  /** A spawned daemon's whole process; undefined for --target. */
  readonly daemonPercent: number | undefined;
  /** The window in CLOCK_MONOTONIC µs, the timebase of a node --cpu-prof profile of the generator. */
  readonly profileWindowUs: readonly [number, number];
}

export function describeCpu(cpu: WindowCpu): string {
  const pct = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(1)} %` : "-");
  return `cpu over the window (100 % = one core): generator ${pct(cpu.generatorPercent)} (main thread ${pct(cpu.generatorMainThreadPercent)}), ` +
    `${Number.isFinite(cpu.generatorUsPerCheck) ? cpu.generatorUsPerCheck.toFixed(0) : "-"} µs per check` +
    `${cpu.daemonPercent === undefined ? "" : `; daemon ${pct(cpu.daemonPercent)}`}; profile window-us ${cpu.profileWindowUs[0]} ${cpu.profileWindowUs[1]}`;
}

/** A markdown table of every series that has samples. */
export function latencyTable(latencyMs: Readonly<Record<Series, LatencySummaryMs>>): string {
  const rows = ["| operation | count | p50 | p90 | p99 | p99.9 | max |", "|---|---:|---:|---:|---:|---:|---:|"];
  for (const series of allSeries) {
    const s = latencyMs[series];
    if (s.count === 0) continue;
    rows.push(`| ${seriesLabels[series] ?? series} | ${s.count} | ${formatMs(s.p50)} | ${formatMs(s.p90)} | ${formatMs(s.p99)} | ${formatMs(s.p999)} | ${formatMs(s.max)} |`);
  }
  return rows.join("\n");
}

function counts(record: Readonly<Record<string, number>>): string {
  const entries = Object.entries(record);
  return entries.length === 0 ? "none" : entries.map(([k, v]) => `${k}=${v}`).join(", ");
}

export function describeRun(result: RunResult): string {
  const s = result.summary;
  return [
    latencyTable(result.latencyMs),
    "",
    `throughput: offered ${result.offeredRate} checks/s, achieved ${result.achievedRate.toFixed(1)} checks/s ` +
      `(${s.checksOk}/${result.checksStarted} checks of the ${result.seconds} s window finished OK; ${result.unfinishedChecks} unfinished at the end)`,
    `answers OK: ${counts(s.ok)}`,
    `errors (${result.errorsTotal}): ${counts(s.errors)}`,
    `declines (${s.declinesTotal}, business answers, not errors): ${counts(s.declines)}`,
    ...(Object.keys(s.events).length > 0 ? [`outcomes: ${counts(s.events)}`] : []),
  ].join("\n");
}

export function describeHttp(results: readonly HttpLoadResult[]): string {
  const rows = ["| HTTP path | requests | req/s | p50 | p90 | p99 | max | non-2xx | errors |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"];
  for (const r of results) {
    rows.push(`| ${r.path} | ${r.requests} | ${r.requestsPerS.toFixed(0)} | ${formatMs(r.latencyMs.p50)} | ${formatMs(r.latencyMs.p90)} | ${formatMs(r.latencyMs.p99)} | ${formatMs(r.latencyMs.max)} | ${r.non2xx} | ${r.errors} |`);
  }
  return rows.join("\n");
}

/** One line on the machine's wake-up floor over a run's window: what no answer measured here can beat. */
export function describeWakeFloor(floorMs: LatencySummaryMs): string {
  return `wake-up floor of this machine over the window (loopback round trip between two idle processes; no answer measured here is faster): ` +
    `p50 ${formatMs(floorMs.p50)}, p99 ${formatMs(floorMs.p99)}, max ${formatMs(floorMs.max)} (${floorMs.count} round trips)`;
}

export function describeSaturation<O extends RateOutcome>(result: SaturationResult<O>, slo: string, terms: readonly SloTerm[] = []): string {
  const rows = [
    `| rate (checks/s) | achieved | identify p99 | calculate p99 | confirm p99 | wake-up floor p99 | errors | verdict |`,
    "|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  const belowFloor = new Set<string>();
  for (const step of result.steps) {
    const l = step.outcome.latencyMs;
    const verdict = step.verdict.pass ? "pass" : `FAIL: ${step.verdict.reasons.join("; ")}`;
    if (!step.verdict.pass) for (const line of wakeFloorAbove(step.outcome, terms)) belowFloor.add(`${line} at ${step.rate} checks/s`);
    rows.push(`| ${step.rate} | ${step.outcome.achievedRate.toFixed(0)} | ${formatMs(l.identify.p99)} | ${formatMs(l.calculate.p99)} | ${formatMs(l.confirm.p99)} | ` +
      `${formatMs(step.outcome.wakeFloorMs?.p99 ?? NaN)} | ${step.outcome.errorsTotal} | ${verdict} |`);
  }
  const answer = result.highestPassingRate === undefined
    ? `no rate met the SLO (${slo}); the lowest tried was ${result.steps[0]?.rate ?? "-"} checks/s`
    : `highest rate meeting the SLO (${slo}): ${result.highestPassingRate} checks/s` +
      (result.firstFailingRate === undefined ? " (the maximum tried; raise --max-rate to look further)" : ` (first failing: ${result.firstFailingRate} checks/s)`);
  const floorLines = [...belowFloor].map((line) => `- ${line}: no daemon could meet it here at that load`);
  return [...rows, "", answer, ...(floorLines.length > 0 ? ["", "SLO terms this machine could not meet at all:", ...floorLines] : [])].join("\n");
}

/** The live line: one per second, overwritten in place on a terminal. */
export function progressLine(p: ProgressSnapshot): string {
  return `[${p.elapsedS.toFixed(0).padStart(3)} s ${p.phase.padEnd(7)}] offered ${p.offeredRate}/s, ` +
    `done ${p.recentChecksPerS.toFixed(0)}/s, started ${p.checksStarted} in window, open ${p.outstanding}, ` +
    `errors ${p.errorsTotal}, check p99 ${formatMs(p.checkP99Ms)}`;
}

/** JSON has no NaN or Infinity: write them as strings so a reader sees them instead of null. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return value;
}
