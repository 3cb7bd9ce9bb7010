// Replication costs (issue 6): a primary and a replica as real processes on
// this machine, the load-test harness (loadtest/) driving the primary.
//
// Run: npm run build && node dist/benchmarks/replication.bench.js [--rate 300] [--seconds 8] [--warmup 2] [--repeat 3] [--catchup-seconds 5]
//
// 1. Latency cost of semi-sync: for each mode (no replica, async, semi-sync)
//    a fresh primary (+ replica) and one fixed-rate `loyalty-loadtest run`;
//    confirm/calculate p50/p99 from the harness (open loop, latency from the
//    intended send time). Medians over --repeat.
// 2. Lag under load (async): loyalty_replication_lag_entries (the larger of
//    the replica's and the primary's view) and the primary's
//    loyalty_replication_lag_seconds, sampled every 100 ms during the run
//    (the daemons refresh these gauges once a second); max and p99.
// 3. Replication throughput: the replica stopped, --catchup-seconds of load
//    on the primary, the replica started again; entries applied per second
//    until it has the primary's last seq.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { median } from "./support/measure.js";
import { metricValue, prepareData, scrapeMetrics, startDaemon, type RunningDaemon } from "./support/daemon-process.js";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "300" }, seconds: { type: "string", default: "8" }, warmup: { type: "string", default: "2" },
    repeat: { type: "string", default: "3" }, "catchup-seconds": { type: "string", default: "5" }, cards: { type: "string", default: "5000" },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const repeat = Number(values.repeat);
const loadtestEntry = join(dirname(fileURLToPath(import.meta.url)), "..", "loadtest", "main.js");

type Mode = "none" | "async" | "semi-sync";

interface Pair {
  primary: RunningDaemon;
  replica: RunningDaemon | null;
  dir: string;
  token: string;
  credentialsFile: string;
  replicaDir: string;
}

async function startPair(mode: Mode): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-repl-bench-"));
  const dataDir = join(dir, "primary");
  const prepared = await prepareData(dataDir, Number(values.cards), 1000);
  // The harness spreads checks over the credentials' cards; give it the
  // prepared card base (the bench cards hold points, so they may redeem).
  const credentialsFile = join(dir, "credentials.json");
  writeFileSync(credentialsFile, JSON.stringify({
    ...prepared.credentials,
    cards: prepared.earnCards.map((cardNumber) => ({ cardNumber, kind: "bonus", phone: "bench" })),
  }));
  const primary = await startDaemon({
    dataDir, durability: "sync", cpuProfileDir: undefined,
    extraArgs: mode === "semi-sync" ? ["--replication-mode", "semi-sync", "--semi-sync-timeout-ms", "5000"] : [],
  });
  const token = (JSON.parse(readFileSync(join(dataDir, "admin-credentials.json"), "utf8")) as { token: string }).token;
  const replicaDir = join(dir, "replica");
  const replica = mode === "none" ? null : await startReplica(primary, replicaDir, token);
  return { primary, replica, dir, token, credentialsFile, replicaDir };
}

function startReplica(primary: RunningDaemon, dataDir: string, token: string): Promise<RunningDaemon> {
  return startDaemon({ dataDir, durability: "sync", cpuProfileDir: undefined, extraArgs: ["--replica-of", primary.replicationAddress], env: { LOYALTY_REPLICATION_TOKEN: token } });
}

async function adminCall<T>(d: RunningDaemon, token: string, method: string): Promise<T> {
  const r = await fetch(`${d.adminUrl}/v1/${method}`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: "{}" });
  return ((await r.json()) as { result: T }).result;
}

interface LoadResult { runs: { achievedRate: number; errorsTotal: number; latencyMs: Record<string, { p50: number; p99: number }> }[] }

function loadtest(pair: Pair, runSeconds: number, warmup: number): Promise<LoadResult> {
  const out = join(pair.dir, `load-${Date.now()}.json`);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [
      loadtestEntry, "run", "--target", `127.0.0.1:${pair.primary.posPort}`, "--credentials", pair.credentialsFile,
      "--rate", String(rate), "--seconds", String(runSeconds), "--warmup", String(warmup), "--json", out, "--no-progress",
    ], { maxBuffer: 64 * 1024 * 1024 }, (error) => {
      if (error) reject(error);
      else resolve(JSON.parse(readFileSync(out, "utf8")) as LoadResult);
    });
  });
}

async function stopPair(pair: Pair): Promise<void> {
  await pair.replica?.stop();
  await pair.primary.stop();
  rmSync(pair.dir, { recursive: true, force: true });
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const results: Record<Mode, { calc50: number[]; calc99: number[]; conf50: number[]; conf99: number[]; achieved: number[]; errors: number[] }> = {
  none: { calc50: [], calc99: [], conf50: [], conf99: [], achieved: [], errors: [] },
  async: { calc50: [], calc99: [], conf50: [], conf99: [], achieved: [], errors: [] },
  "semi-sync": { calc50: [], calc99: [], conf50: [], conf99: [], achieved: [], errors: [] },
};
const lagEntries: number[] = [];
const lagSeconds: number[] = [];
const catchup: number[] = [];

for (let round = 0; round < repeat; round += 1) {
  for (const mode of ["none", "async", "semi-sync"] as Mode[]) {
    const pair = await startPair(mode);
    try {
      const sampler = mode === "async" && pair.replica ? setInterval(() => {
        void Promise.all([scrapeMetrics(pair.replica!.httpUrl), scrapeMetrics(pair.primary.httpUrl)]).then(([r, p]) => {
          lagEntries.push(Math.max(metricValue(r, "loyalty_replication_lag_entries"), metricValue(p, "loyalty_replication_lag_entries")));
          lagSeconds.push(metricValue(p, "loyalty_replication_lag_seconds"));
        }, () => undefined);
      }, 100) : null;
      const load = await loadtest(pair, seconds, Number(values.warmup));
      if (sampler) clearInterval(sampler);
      const run = load.runs[0]!;
      const r = results[mode];
      r.calc50.push(run.latencyMs.calculate!.p50); r.calc99.push(run.latencyMs.calculate!.p99);
      r.conf50.push(run.latencyMs.confirm!.p50); r.conf99.push(run.latencyMs.confirm!.p99);
      r.achieved.push(run.achievedRate); r.errors.push(run.errorsTotal);

      if (mode === "async" && pair.replica) {
        const status = await adminCall<{ lastSeq: number }>(pair.replica, pair.token, "replica.status");
        await pair.replica.stop();
        pair.replica = null;
        const from = status.lastSeq;
        await loadtest(pair, Number(values["catchup-seconds"]), 0);
        const target = (await adminCall<{ lastSeq: number }>(pair.primary, pair.token, "digest")).lastSeq;
        const started = performance.now();
        pair.replica = await startReplica(pair.primary, pair.replicaDir, pair.token);
        for (;;) {
          const s = await adminCall<{ lastSeq: number; following: { durableSeq: number } | null }>(pair.replica, pair.token, "replica.status");
          if ((s.following?.durableSeq ?? 0) >= target) break;
          await new Promise((res) => setTimeout(res, 20));
        }
        const ms = performance.now() - started;
        catchup.push(((target - from) / ms) * 1000);
        process.stdout.write(`round ${round + 1}: replica caught up ${target - from} entries in ${ms.toFixed(0)} ms (process start included)\n`);
      }
    } finally {
      await stopPair(pair);
    }
    process.stdout.write(`round ${round + 1} ${mode}: confirm p50/p99 ${results[mode].conf50.at(-1)}/${results[mode].conf99.at(-1)} ms\n`);
  }
}

const row = (mode: Mode) => {
  const r = results[mode];
  return `| ${mode} | ${median(r.calc50).toFixed(2)} / ${median(r.calc99).toFixed(2)} ms | ${median(r.conf50).toFixed(2)} / ${median(r.conf99).toFixed(2)} ms | ${median(r.achieved).toFixed(0)} | ${median(r.errors)} |`;
};
process.stdout.write(`\n${rate} checks/s, ${seconds} s measured, median of ${repeat}\n`);
process.stdout.write("| replica | calculate p50 / p99 | confirm p50 / p99 | achieved checks/s | errors |\n|---|---:|---:|---:|---:|\n");
for (const mode of ["none", "async", "semi-sync"] as Mode[]) process.stdout.write(`${row(mode)}\n`);
process.stdout.write(`\nasync lag samples: entries p99 ${quantile(lagEntries, 0.99)} max ${Math.max(0, ...lagEntries)}; seconds p99 ${quantile(lagSeconds, 0.99).toFixed(3)} max ${Math.max(0, ...lagSeconds).toFixed(3)} (${lagEntries.length} samples)\n`);
process.stdout.write(`catch-up throughput: median ${median(catchup).toFixed(0)} entries/s (${catchup.map((c) => c.toFixed(0)).join(", ")})\n`);
