// End-to-end latency of the whole product: POS clients (protocol/client.ts
// PosClient over a binary WebSocket) → the real daemon as a child process
// (uWS, service, engine, group commit, LMDB with fsync) and back.
//
// Run: npm run build && node dist/benchmarks/e2e.bench.js \
//        [--rate 5000] [--seconds 10] [--warmup 2] [--connections 16] [--durability sync|none]
//        [--redeem-share 0.2] [--redeem-points 10] [--cards 10000] [--card-points 1000] [--tick-ms 1]
//        [--repeat 1] [--seed 1] [--cpu-prof DIR] [--json FILE] [--keep] [--wal-dir DIR]
//        [--wait-idle-percent 25] [--wait-idle-max-s 180]
// Prints a table per run, the medians over --repeat runs (each run has a
// fresh data directory and daemon), and one JSON line; --json writes every run.
//
// What is measured
// - The generator is the load test's (loadtest/driver.ts, scheduler.ts,
//   recorder.ts), with this benchmark's fixed mix: no non-member checks,
//   cancels, refunds or coupons, uniform card choice, the three baskets below.
// - Open loop: checks START on a fixed timetable at --rate per second,
//   whatever the answers do. The scheduler wakes when the next check is due;
//   every check due by then starts at once with its own intended time
//   (--tick-ms is accepted for old command lines and no longer used). A check is identify → calculate →
//   confirm, strictly one after another; many checks run at once, spread
//   round-robin over --connections PosClient connections (the demo seed has
//   4 terminals; several connections authenticate as the same terminal, each
//   with its own cashier id).
// - Latency is measured from the INTENDED send time, so a slow daemon (or a
//   slow generator) cannot hide its queueing (coordinated omission):
//   identify's intended time is its timetable tick; calculate's and
//   confirm's intended time is the moment the previous step's answer arrived
//   (a till sends the next step when it has the answer; there is no earlier
//   moment at which it "should" have been sent). "check" is the whole
//   check, from its tick to confirm's answer. "send lag" is how late the
//   generator actually handed identify to the client after its tick: the
//   generator's own share of identify latency, reported so it is never
//   mistaken for the daemon's. Percentiles are HDR histograms (3
//   significant digits), no longer exact sorted samples.
// - A failed step ends its check; errors are counted by step and ErrorCode
//   (or client error class). When the timetable ends, unanswered checks get
//   2 s to finish; the rest are reported as "unfinished-at-end".
// - Only checks whose tick falls in the measurement window (after --warmup
//   seconds) are recorded; achieved throughput counts confirms answered OK
//   within the window.
// - Around the window: CPU of the daemon (every thread, from /proc), of this
//   generator, and of the whole machine (other users of a shared box show up
//   as the difference, "other"). The daemon's /metrics (commands per group
//   commit, commit duration, its own latency histogram, event-loop lag),
//   as the difference between a scrape just before the window and one after
//   the load. Before the daemon starts: the fsync floor of the data
//   directory's disk. Before each run: a wait for a quiet machine.
// - The wake-up floor (support/wake-floor.ts): the loopback round trip of
//   two idle processes, for 2 s before the daemon starts and again during the
//   window. No answer through this machine can be faster than it; the
//   difference between the two is what the load does to every thread's
//   scheduling, the daemon's included.
// - Daemon and generator run on the same machine; on a 2-core box they share
//   the cores with each other, LMDB's threads and the kernel's loopback.
//
// Card base: see benchmarks/support/daemon-process.ts (the demo seed plus
// --cards bonus cards with --card-points each; --cards 0 = the seed's 10 cards).
// With --wal-dir DIR the daemon's write-ahead log goes to a fresh directory
// under DIR (a device other than the data directory's, as --wal-dir is
// meant to be used).
// With --cpu-prof DIR the daemon runs with node --cpu-prof and the window is
// printed in profile time; summarise with dist/benchmarks/cpu-profile-top.js.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { runFixedRate } from "../loadtest/driver.js";
import type { LatencySummaryMs } from "../loadtest/recorder.js";
import { realClock } from "../loadtest/scheduler.js";
import { connectClients } from "../loadtest/target.js";
import { Workload, type BasketLine } from "../loadtest/workload.js";
import {
  bucketQuantileBound, diffMetrics, histogramBuckets, metricValue, prepareData, scrapeMetrics, startDaemon, type MetricSample,
} from "./support/daemon-process.js";
import { measureWakeFloor, startWakeFloor, type WakeFloor } from "./support/wake-floor.js";
import {
  machineCpuSeconds, machineInfo, measureFsyncFloor, median, processCpuSeconds, threadCpu, threadCpuPercent,
  type LatencySummary, type MachineInfo, type ThreadCpu,
} from "./support/measure.js";

const { values: flags } = parseArgs({
  options: {
    rate: { type: "string", default: "5000" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "16" },
    durability: { type: "string", default: "sync" },
    "redeem-share": { type: "string", default: "0.2" },
    "redeem-points": { type: "string", default: "10" },
    cards: { type: "string", default: "10000" },
    "card-points": { type: "string", default: "1000" },
    "tick-ms": { type: "string", default: "1" },
    repeat: { type: "string", default: "1" },
    seed: { type: "string", default: "1" },
    "cpu-prof": { type: "string" },
    "wal-dir": { type: "string" },
    json: { type: "string" },
    keep: { type: "boolean", default: false },
    "wait-idle-percent": { type: "string", default: "25" },
    "wait-idle-max-s": { type: "string", default: "180" },
  },
});

interface Config {
  readonly rate: number;
  readonly seconds: number;
  readonly warmup: number;
  readonly connections: number;
  readonly durability: "sync" | "none";
  readonly redeemShare: number;
  readonly redeemPoints: number;
  readonly cards: number;
  readonly cardPoints: number;
  readonly tickMs: number;
  readonly repeat: number;
  readonly seed: number;
  readonly cpuProfileDir: string | undefined;
  /** The daemon's --wal-dir is a fresh directory under this one (another device); undefined = the log beside LMDB. */
  readonly walParent: string | undefined;
}

function numberFlag(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in [${min}, ${max}], got ${value}`);
  return n;
}

const config: Config = {
  rate: numberFlag("rate", flags.rate, 1, 100_000),
  seconds: numberFlag("seconds", flags.seconds, 1, 600),
  warmup: numberFlag("warmup", flags.warmup, 0, 600),
  connections: numberFlag("connections", flags.connections, 1, 1_000),
  durability: flags.durability === "none" ? "none" : flags.durability === "sync" ? "sync" : (() => { throw new Error("--durability is sync or none"); })(),
  redeemShare: numberFlag("redeem-share", flags["redeem-share"], 0, 1),
  redeemPoints: numberFlag("redeem-points", flags["redeem-points"], 1, 1_000_000),
  cards: numberFlag("cards", flags.cards, 0, 10_000_000),
  cardPoints: numberFlag("card-points", flags["card-points"], 0, 1_000_000_000),
  tickMs: numberFlag("tick-ms", flags["tick-ms"], 0.1, 100),
  repeat: numberFlag("repeat", flags.repeat, 1, 100),
  seed: numberFlag("seed", flags.seed, 0, 2 ** 32 - 1),
  cpuProfileDir: flags["cpu-prof"] === undefined ? undefined : resolve(flags["cpu-prof"]),
  walParent: flags["wal-dir"] === undefined ? undefined : resolve(flags["wal-dir"]),
};

/** A few realistic baskets (kopecks, quantities in thousandths), with the seed's groups: promotions and exclusions apply. */
const baskets: BasketLine[][] = [
  [
    { sku: "4600000000017", group: "coffee", quantityMilli: 1000, priceMinor: 35_000, amountMinor: 35_000 },
    { sku: "4600000000024", group: "dairy", quantityMilli: 2000, priceMinor: 8_990, amountMinor: 17_980 },
  ],
  [
    { sku: "4600000000031", group: "grocery", quantityMilli: 1000, priceMinor: 12_990, amountMinor: 12_990 },
    { sku: "4600000000048", group: "dairy", quantityMilli: 2000, priceMinor: 8_950, amountMinor: 17_900 },
    { sku: "4600000000055", group: "coffee", quantityMilli: 1000, priceMinor: 45_000, amountMinor: 45_000 },
    { sku: "4600000000062", group: "bakery", quantityMilli: 1000, priceMinor: 5_500, amountMinor: 5_500 },
    { sku: "4600000000079", group: "tobacco", quantityMilli: 1000, priceMinor: 22_000, amountMinor: 22_000 },
  ],
  [
    { sku: "4600000000086", group: "grocery", quantityMilli: 1530, priceMinor: 19_900, amountMinor: 30_447 },
    { sku: "4600000000093", group: "alcohol", quantityMilli: 1000, priceMinor: 89_900, amountMinor: 89_900 },
    { sku: "4600000000109", group: "bakery", quantityMilli: 3000, priceMinor: 4_500, amountMinor: 13_500 },
  ],
];

const operations = ["identify", "calculate", "confirm"] as const;
/** How long before the window /metrics is scraped for the baseline. */
const metricsLeadMs = 200;
/** How long unanswered checks may still finish after the timetable ended. */
const drainGraceMs = 2_000;
/** How long the wake-up floor is measured on the quiet machine before the daemon starts. */
const wakeFloorQuietMs = 2_000;
type Step = (typeof operations)[number];

interface RunResult {
  readonly run: number;
  readonly offeredChecksPerSec: number;
  readonly achievedChecksPerSec: number;
  readonly checksInWindow: number;
  readonly checksCompletedOk: number;
  /** Checks (of the whole run, warm-up included) still unanswered after the drain grace. */
  readonly unfinishedChecks: number;
  readonly errors: Record<string, number>;
  readonly latencyUs: Record<Step | "check" | "sendLag", LatencySummary>;
  readonly daemonCpuPercent: number;
  readonly daemonMainThreadCpuPercent: number;
  readonly daemonThreads: { name: string; percent: number }[];
  readonly generatorCpuPercent: number;
  readonly generatorMainThreadCpuPercent: number;
  readonly machineBusyPercent: number;
  /** Machine CPU used by neither the daemon nor the generator: the kernel's share not charged to them, and other users of a shared box. */
  readonly otherCpuPercent: number;
  readonly loadAverageAtStart: string;
  readonly commitBatches: number;
  readonly commandsPerCommitAvg: number;
  readonly commitMsAvg: number;
  readonly commitBatchP50Bound: number;
  readonly commitBatchP99Bound: number;
  readonly commitMsP99Bound: number;
  readonly daemonLatencyP99BoundMs: Record<Step, number>;
  readonly daemonEventLoopLagP99Ms: number;
  readonly daemonEventLoopLagMaxMs: number;
  readonly fsyncFloorMedianUs: number;
  readonly fsyncFloorP90Us: number;
  /** Loopback round trip between two idle processes (support/wake-floor.ts), µs: before the daemon starts, and during the window. */
  readonly wakeFloorQuietUs: LatencySummary;
  readonly wakeFloorWindowUs: LatencySummary;
  readonly prepareMs: number;
  readonly profileWindowUs: readonly [number, number] | undefined;
  readonly cpuProfile: string | undefined;
}

/** Process CPU plus machine CPU at one instant. */
interface CpuSnapshot {
  readonly at: number;
  readonly daemonThreads: ThreadCpu[];
  readonly daemon: number;
  readonly generatorThreads: ThreadCpu[];
  readonly generator: NodeJS.CpuUsage;
  readonly machine: { busy: number; total: number };
  readonly monotonicUs: number;
}

function cpuSnapshot(daemonPid: number): CpuSnapshot {
  return {
    at: performance.now(),
    daemonThreads: threadCpu(daemonPid),
    daemon: processCpuSeconds(daemonPid),
    generatorThreads: threadCpu(process.pid),
    generator: process.cpuUsage(),
    machine: machineCpuSeconds(),
    // V8's CPU profile timestamps are CLOCK_MONOTONIC microseconds, like hrtime.
    monotonicUs: Number(process.hrtime.bigint() / 1000n),
  };
}

async function runOnce(run: number, machine: MachineInfo): Promise<RunResult> {
  const root = mkdtempSync(join(tmpdir(), "loyalty-e2e-"));
  const cleanups: string[] = [];
  const dataDir = join(root, "data");
  const profileDir = config.cpuProfileDir === undefined ? undefined : join(config.cpuProfileDir, `run-${run}`);
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const loadAverage = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  try {
    // Same disk as the daemon's LMDB, measured while nothing else of ours runs.
    mkdirSync(dataDir, { recursive: true });
    const fsync = measureFsyncFloor(dataDir);
    const wakeQuiet = await measureWakeFloor(wakeFloorQuietMs);
    const prepared = await prepareData(dataDir, config.cards, config.cardPoints);
    const walDir = config.walParent === undefined ? undefined : mkdtempSync(join(config.walParent, "loyalty-e2e-wal-"));
    if (walDir !== undefined) cleanups.push(walDir);
    const daemon = await startDaemon({ dataDir, durability: config.durability, cpuProfileDir: profileDir, extraArgs: walDir === undefined ? [] : ["--wal-dir", walDir] });
    const clients = await connectClients(daemon.posUrl, prepared.credentials.terminals, config.connections, 5_000, "e2e-bench");
    const workload = new Workload({
      seed: config.seed + run, nonmemberShare: 0, redeemShare: config.redeemShare, redeemPoints: config.redeemPoints,
      couponShare: 0, cancelShare: 0, refundShare: 0, basketMin: 1, basketMax: 1, zipfS: 0,
    }, { earn: prepared.earnCards, redeem: prepared.redeemCards }, baskets);

    // /metrics is scraped just before the window and after the load; the
    // figures are the difference, so the warm-up's JIT compilation and first
    // commits stay out of them. (A scrape costs the daemon a few ms of event
    // loop; this one lands in the warm-up.)
    let metricsBefore: Promise<MetricSample[]> | undefined;
    let cpuStart: CpuSnapshot | undefined;
    let cpuEnd: CpuSnapshot | undefined;
    // Started with the /metrics scrape so its processes are up when the window opens; stopped when it closes.
    let wakeProbe: ReturnType<typeof startWakeFloor> | undefined;
    let wakeWindow: Promise<WakeFloor> | undefined;
    const result = await runFixedRate({
      rate: config.rate, seconds: config.seconds, warmupSeconds: config.warmup, clients, workload, clock: realClock,
      runTag: `R${run}`, drainGraceMs, preWindowLeadMs: metricsLeadMs,
      onWindow: (event) => {
        if (event === "pre-window") {
          metricsBefore = scrapeMetrics(daemon.httpUrl);
          wakeProbe = startWakeFloor();
        } else if (event === "window-start") cpuStart = cpuSnapshot(daemon.pid);
        else {
          cpuEnd = cpuSnapshot(daemon.pid);
          wakeWindow = wakeProbe!.then((probe) => probe.stop());
        }
      },
    });
    const unfinishedChecks = result.unfinishedChecks;
    const wakeDuring = await wakeWindow!;

    const metrics = diffMetrics(await scrapeMetrics(daemon.httpUrl), await metricsBefore!);
    await Promise.all(clients.map((c) => c.close({ drain: false })));
    const exitCode = await daemon.stop();
    if (exitCode !== 0) throw new Error(`daemon exited with ${exitCode}`);
    const profile = profileDir ? readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile")) : undefined;

    const a = cpuStart!;
    const b = cpuEnd!;
    const elapsedS = (b.at - a.at) / 1000;
    const generatorS = ((b.generator.user - a.generator.user) + (b.generator.system - a.generator.system)) / 1e6;
    const machineBusy = ((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * machine.nproc * 100;
    const mainOf = (threads: ThreadCpu[], pid: number): number => threads.find((t) => t.tid === pid)?.seconds ?? NaN;
    return {
      run,
      offeredChecksPerSec: config.rate,
      achievedChecksPerSec: result.achievedRate,
      checksInWindow: result.checksStarted,
      checksCompletedOk: result.summary.checksOk,
      unfinishedChecks,
      // Declines (e.g. INSUFFICIENT_POINTS) are listed with the errors, as this benchmark always did.
      errors: { ...result.summary.errors, ...result.summary.declines },
      latencyUs: {
        identify: microseconds(result.latencyMs.identify), calculate: microseconds(result.latencyMs.calculate), confirm: microseconds(result.latencyMs.confirm),
        check: microseconds(result.latencyMs.check), sendLag: microseconds(result.latencyMs.sendLag),
      },
      daemonCpuPercent: ((b.daemon - a.daemon) / elapsedS) * 100,
      daemonMainThreadCpuPercent: ((mainOf(b.daemonThreads, daemon.pid) - mainOf(a.daemonThreads, daemon.pid)) / elapsedS) * 100,
      daemonThreads: threadCpuPercent(a.daemonThreads, b.daemonThreads, elapsedS, daemon.pid),
      generatorCpuPercent: (generatorS / elapsedS) * 100,
      generatorMainThreadCpuPercent: ((mainOf(b.generatorThreads, process.pid) - mainOf(a.generatorThreads, process.pid)) / elapsedS) * 100,
      machineBusyPercent: machineBusy,
      otherCpuPercent: machineBusy - ((b.daemon - a.daemon) / elapsedS) * 100 - (generatorS / elapsedS) * 100,
      loadAverageAtStart: loadAverage,
      ...commitFigures(metrics),
      daemonLatencyP99BoundMs: {
        identify: bucketQuantileBound(histogramBuckets(metrics, "loyalty_pos_request_duration_seconds", { operation: "identify" }), 0.99) * 1000,
        calculate: bucketQuantileBound(histogramBuckets(metrics, "loyalty_pos_request_duration_seconds", { operation: "calculate" }), 0.99) * 1000,
        confirm: bucketQuantileBound(histogramBuckets(metrics, "loyalty_pos_request_duration_seconds", { operation: "confirm" }), 0.99) * 1000,
      },
      // prom-client's lag figures are the intervals of a 10 ms sampling timer,
      // so an idle loop reads 10 ms; its minimum is that interval. The lag is
      // what a sample took beyond it.
      daemonEventLoopLagP99Ms: (metricValue(metrics, "loyalty_nodejs_eventloop_lag_p99_seconds") - metricValue(metrics, "loyalty_nodejs_eventloop_lag_min_seconds")) * 1000,
      daemonEventLoopLagMaxMs: (metricValue(metrics, "loyalty_nodejs_eventloop_lag_max_seconds") - metricValue(metrics, "loyalty_nodejs_eventloop_lag_min_seconds")) * 1000,
      fsyncFloorMedianUs: fsync.medianUs,
      fsyncFloorP90Us: fsync.p90Us,
      wakeFloorQuietUs: wakeQuiet.roundTripUs,
      wakeFloorWindowUs: wakeDuring.roundTripUs,
      prepareMs: prepared.prepareMs,
      profileWindowUs: profileDir ? [a.monotonicUs, b.monotonicUs] : undefined,
      cpuProfile: profileDir && profile ? join(profileDir, profile) : undefined,
    };
  } finally {
    if (!flags.keep) for (const dir of [root, ...cleanups]) rmSync(dir, { recursive: true, force: true });
  }
}

/** The load test reports milliseconds; this benchmark's tables and JSON have always been in microseconds. */
function microseconds(s: LatencySummaryMs): LatencySummary {
  return { count: s.count, p50: s.p50 * 1000, p90: s.p90 * 1000, p99: s.p99 * 1000, p999: s.p999 * 1000, max: s.max * 1000, mean: s.mean * 1000 };
}

/** Group-commit figures from the window's /metrics difference (from just before the window until the load drained). */
function commitFigures(metrics: readonly MetricSample[]): Pick<RunResult, "commitBatches" | "commandsPerCommitAvg" | "commitMsAvg" | "commitBatchP50Bound" | "commitBatchP99Bound" | "commitMsP99Bound"> {
  const batches = metricValue(metrics, "loyalty_commit_batch_commands_count");
  const batchBuckets = histogramBuckets(metrics, "loyalty_commit_batch_commands");
  return {
    commitBatches: batches,
    commandsPerCommitAvg: metricValue(metrics, "loyalty_commit_batch_commands_sum") / batches,
    commitMsAvg: (metricValue(metrics, "loyalty_commit_duration_seconds_sum") / metricValue(metrics, "loyalty_commit_duration_seconds_count")) * 1000,
    commitBatchP50Bound: bucketQuantileBound(batchBuckets, 0.5),
    commitBatchP99Bound: bucketQuantileBound(batchBuckets, 0.99),
    commitMsP99Bound: bucketQuantileBound(histogramBuckets(metrics, "loyalty_commit_duration_seconds"), 0.99) * 1000,
  };
}

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------

const us = (v: number): string => (Number.isFinite(v) ? (v >= 10_000 ? `${(v / 1000).toFixed(1)} ms` : `${(v / 1000).toFixed(3)} ms`) : "-");
/** A histogram percentile bound; Infinity means past the last finite bucket (100 ms for POS latency). */
const bound = (ms: number): string => (ms === Infinity ? "> 100 ms" : `≤ ${ms} ms`);
const pct = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(0)}%` : "-");

function latencyTable(latencyUs: RunResult["latencyUs"]): string {
  const rows = ["| operation | samples | p50 | p90 | p99 | p99.9 | max |", "|---|---:|---:|---:|---:|---:|---:|"];
  const labels: Record<string, string> = { sendLag: "send lag (generator)" };
  for (const name of [...operations, "check", "sendLag"] as const) {
    const s = latencyUs[name];
    rows.push(`| ${labels[name] ?? name} | ${s.count} | ${us(s.p50)} | ${us(s.p90)} | ${us(s.p99)} | ${us(s.p999)} | ${us(s.max)} |`);
  }
  return rows.join("\n");
}

function describe(result: RunResult): string {
  const errors = Object.entries(result.errors).map(([k, v]) => `${k}=${v}`).join(", ") || "none";
  return [
    latencyTable(result.latencyUs),
    "",
    `throughput: offered ${result.offeredChecksPerSec}/s, achieved ${result.achievedChecksPerSec.toFixed(0)} confirmed checks/s; ` +
      `${result.checksCompletedOk}/${result.checksInWindow} window checks completed, ${result.unfinishedChecks} unfinished at the end; errors: ${errors}`,
    `cpu (100% = one core): daemon ${pct(result.daemonCpuPercent)} (event loop thread ${pct(result.daemonMainThreadCpuPercent)}), ` +
      `generator ${pct(result.generatorCpuPercent)} (main ${pct(result.generatorMainThreadCpuPercent)}), machine busy ${pct(result.machineBusyPercent)} of ${machine.nproc * 100}% ` +
      `(other: ${pct(result.otherCpuPercent)}; load average at start ${result.loadAverageAtStart})`,
    ...(result.daemonThreads ? [`daemon threads: ${result.daemonThreads.map((t) => `${t.name} ${t.percent.toFixed(1)}%`).join(", ")}`] : []),
    `group commit: ${result.commitBatches} batches, ${result.commandsPerCommitAvg.toFixed(1)} commands/commit avg ` +
      `(p50 ≤ ${result.commitBatchP50Bound}, p99 ≤ ${result.commitBatchP99Bound}), commit ${result.commitMsAvg.toFixed(2)} ms avg (p99 ≤ ${result.commitMsP99Bound} ms)`,
    `daemon-side p99 (frame in → answer out, histogram bucket bound): identify ${bound(result.daemonLatencyP99BoundMs.identify)}, ` +
      `calculate ${bound(result.daemonLatencyP99BoundMs.calculate)}, confirm ${bound(result.daemonLatencyP99BoundMs.confirm)}; event-loop lag p99 ${result.daemonEventLoopLagP99Ms.toFixed(1)} ms, max ${result.daemonEventLoopLagMaxMs.toFixed(1)} ms`,
    `fsync floor (4 KiB write + fdatasync): median ${(result.fsyncFloorMedianUs / 1000).toFixed(3)} ms, p90 ${(result.fsyncFloorP90Us / 1000).toFixed(3)} ms; set-up ${(result.prepareMs / 1000).toFixed(1)} s`,
    `wake-up floor (loopback round trip between two idle processes): quiet p50 ${us(result.wakeFloorQuietUs.p50)}, p99 ${us(result.wakeFloorQuietUs.p99)}; ` +
      `during the window p50 ${us(result.wakeFloorWindowUs.p50)}, p99 ${us(result.wakeFloorWindowUs.p99)}, max ${us(result.wakeFloorWindowUs.max)}`,
    ...(result.cpuProfile ? [`cpu profile: ${result.cpuProfile} window-us ${result.profileWindowUs![0]} ${result.profileWindowUs![1]}`] : []),
  ].join("\n");
}

/** Medians over runs of every numeric field (nested objects too); the error counts are summed. */
function medianOf(results: readonly RunResult[]): Record<string, unknown> {
  const walk = (items: readonly unknown[]): unknown => {
    const first = items[0];
    if (typeof first === "number") return median(items as number[]);
    if (first !== null && typeof first === "object" && !Array.isArray(first)) {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(first)) out[key] = walk(items.map((i) => (i as Record<string, unknown>)[key]));
      return out;
    }
    return undefined;
  };
  const merged = walk(results) as Record<string, unknown>;
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return { ...merged, errors, loadAverageAtStart: results.map((r) => r.loadAverageAtStart).join(" | "), daemonThreads: undefined, run: undefined, profileWindowUs: undefined, cpuProfile: undefined };
}

const machine = machineInfo();
const startedAt = new Date().toISOString();
console.log(`# e2e ${JSON.stringify(config)}`);
console.log(`# machine ${JSON.stringify(machine)} date ${startedAt}`);
const results: RunResult[] = [];
/**
 * On a shared machine, waits (up to --wait-idle-max-s) until the whole
 * machine used less than --wait-idle-percent of one core over a second, so a
 * run does not start in the middle of someone else's test suite. Each run
 * still reports the CPU it could not attribute ("other"), which is what to
 * check before quoting it.
 */
async function waitForQuietMachine(): Promise<void> {
  const limit = numberFlag("wait-idle-percent", flags["wait-idle-percent"], 0, 100_000);
  const deadline = performance.now() + numberFlag("wait-idle-max-s", flags["wait-idle-max-s"], 0, 3_600) * 1000;
  for (;;) {
    const a = machineCpuSeconds();
    await new Promise((r) => setTimeout(r, 1_000));
    const b = machineCpuSeconds();
    const busy = ((b.busy - a.busy) / (b.total - a.total)) * machine.nproc * 100;
    if (busy < limit) return;
    if (performance.now() > deadline) {
      console.log(`# machine still busy (${busy.toFixed(0)}% of one core) after waiting; running anyway`);
      return;
    }
  }
}

for (let run = 1; run <= config.repeat; run += 1) {
  await waitForQuietMachine();
  const result = await runOnce(run, machine);
  results.push(result);
  console.log(`\n## run ${run}/${config.repeat}\n${describe(result)}`);
}
const summary = medianOf(results);
if (config.repeat > 1) {
  console.log(`\n## median of ${config.repeat} runs (each figure's median on its own; errors summed)\n${describe(summary as unknown as RunResult)}`);
}
const record = { bench: "e2e", date: startedAt, machine, config, median: summary, runs: results };
// JSON has no Infinity (a percentile past the last histogram bucket): keep it readable instead of null.
const keepInfinity = (_key: string, value: unknown): unknown => (value === Infinity ? "Infinity" : value);
console.log(JSON.stringify({ bench: "e2e", config, median: summary }, keepInfinity));
if (flags.json) writeFileSync(flags.json, `${JSON.stringify(record, keepInfinity, 2)}\n`);
