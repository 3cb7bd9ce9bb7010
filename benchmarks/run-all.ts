// Every benchmark in one command, repeated, with medians, into one JSON file.
//
// Run: npm run bench -- [--repeat 3] [--quick] [--skip-macro] [--json FILE]
//      (= npm run build && node dist/benchmarks/run-all.js …)
//
// Micro (each a separate process, so one's JIT and heap do not colour the next):
//   codec.bench          protobuf encode/decode of identify/calculate/confirm
//   engine.bench         the pure engine without I/O (identify, calculate, calculate+confirm)
//   storage-commit.bench LMDB group commit: batch cost and commands/s, sync and none
//   fsync.bench          the disk's fsync floor
//   wake-floor.bench     the machine's wake-up floor (loopback round trip of two idle processes)
//   wal.bench            a write-ahead log append (the durability point), alone and beside checkpoint-like I/O
// Macro (the load-test CLI, each with its own spawned daemon):
//   loadtest run         fixed rate (--rate, default 500 checks/s)
//   loadtest saturate    rising rates until the SLO fails (--slo, default the load test's:
//                        identify and calculate p99 ≤ 1 ms, confirm p99 ≤ 2 ms)
//
// Each is run --repeat times; every numeric figure is reported as the median
// over the repeats (and every repeat is kept in the JSON). On a shared 2-core
// machine, quote medians and ratios, never one run.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { machineInfo, median } from "./support/measure.js";

const run = promisify(execFile);
const distRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

const { values: flags } = parseArgs({
  options: {
    repeat: { type: "string", default: "3" },
    quick: { type: "boolean", default: false },
    "skip-macro": { type: "boolean", default: false },
    rate: { type: "string", default: "500" },
    slo: { type: "string" },
    json: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (flags.help) {
  console.log("usage: node dist/benchmarks/run-all.js [--repeat 3] [--quick] [--skip-macro] [--rate 500] [--slo TERMS] [--json FILE]");
  process.exit(0);
}
const repeat = Number(flags.repeat);
if (!Number.isInteger(repeat) || repeat < 1 || repeat > 50) {
  console.error(`--repeat must be an integer from 1 to 50, got ${flags.repeat}`);
  process.exit(2);
}
const quick = flags.quick;

interface Job {
  readonly name: string;
  readonly script: string;
  readonly args: readonly string[];
}

const micro: Job[] = [
  { name: "codec", script: "benchmarks/codec.bench.js", args: ["--seconds", quick ? "0.3" : "1", "--rounds", "1"] },
  { name: "engine", script: "benchmarks/engine.bench.js", args: ["--seconds", quick ? "0.5" : "1", "--rounds", "1"] },
  { name: "storage-commit", script: "benchmarks/storage-commit.bench.js", args: ["--seconds", quick ? "0.5" : "1", "--accounts", "5000"] },
  { name: "fsync", script: "benchmarks/fsync.bench.js", args: ["--rounds", "1", "--iterations", "200"] },
  { name: "wake-floor", script: "benchmarks/wake-floor.bench.js", args: ["--seconds", quick ? "1" : "3", "--rounds", "1"] },
  { name: "wal", script: "benchmarks/wal.bench.js", args: ["--appends", quick ? "200" : "1000"] },
];

/** Runs a script and returns its stdout. */
async function node(script: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [join(distRoot, script), ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
  return stdout;
}

/** The JSON lines of a micro benchmark, keyed: by "bench", or for storage-commit by durability and requests in flight. */
function parseLines(name: string, stdout: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const record = JSON.parse(line) as Record<string, unknown>;
    if (typeof record["bench"] === "string") out[record["bench"]] = record;
    else if (record["durability"] !== undefined) out[`${name}.${String(record["durability"])}.inflight-${String(record["inFlight"])}`] = record;
  }
  return out;
}

/** Median over runs of every numeric field, recursively; other values from the first run. */
function medianOf(runs: readonly unknown[]): unknown {
  const first = runs[0];
  if (typeof first === "number") return median(runs as number[]);
  if (typeof first === "string" && runs.every((r) => typeof r === "string" && r !== "" && !Number.isNaN(Number(r)))) return median(runs.map(Number));
  if (first !== null && typeof first === "object" && !Array.isArray(first)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(first)) out[key] = medianOf(runs.map((r) => (r as Record<string, unknown>)[key]));
    return out;
  }
  return first;
}

const machine = machineInfo();
const date = new Date().toISOString();
const command = `node dist/benchmarks/run-all.js ${process.argv.slice(2).join(" ")}`.trim();
console.log(`# run-all: ${command}`);
console.log(`# machine: nproc ${machine.nproc}, ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}, load ${machine.loadAverageAtStart}; ${date}`);

const microRuns: Record<string, Record<string, unknown>[]> = {};
for (const job of micro) {
  for (let i = 1; i <= repeat; i += 1) {
    process.stderr.write(`# ${job.name} ${i}/${repeat}\n`);
    for (const [key, record] of Object.entries(parseLines(job.name, await node(job.script, job.args)))) (microRuns[key] ??= []).push(record);
  }
}
const microMedians = Object.fromEntries(Object.entries(microRuns).map(([key, runs]) => [key, medianOf(runs)]));

interface LoadtestJson {
  runs: { offeredRate: number; achievedRate: number; errorsTotal: number; latencyMs: Record<string, { p50: number; p99: number; p999: number }> }[];
  saturation?: { highestPassingRate: number | undefined; firstFailingRate: number | undefined };
}

async function loadtest(args: readonly string[]): Promise<LoadtestJson> {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-run-all-"));
  try {
    const file = join(dir, "result.json");
    await node("loadtest/main.js", [...args, "--json", file, "--no-progress"]);
    return JSON.parse(readFileSync(file, "utf8")) as LoadtestJson;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fixedArgs = ["run", "--spawn", "--rate", flags.rate, "--seconds", quick ? "3" : "8", "--warmup", quick ? "1" : "2", "--cards", "10000"];
const saturateArgs = ["saturate", "--spawn", "--seconds", quick ? "2" : "4", "--warmup", quick ? "1" : "3", "--start-rate", "250", "--step-factor", "1.5", "--refine", quick ? "1" : "2", "--cards", "10000",
  ...(flags.slo === undefined ? [] : ["--slo", flags.slo])];
const macroRuns: { fixed: unknown[]; saturate: unknown[] } = { fixed: [], saturate: [] };
if (!flags["skip-macro"]) {
  for (let i = 1; i <= repeat; i += 1) {
    process.stderr.write(`# loadtest run ${i}/${repeat}\n`);
    const fixed = (await loadtest(fixedArgs)).runs[0]!;
    macroRuns.fixed.push({ offeredRate: fixed.offeredRate, achievedRate: fixed.achievedRate, errorsTotal: fixed.errorsTotal, latencyMs: fixed.latencyMs });
  }
  for (let i = 1; i <= repeat; i += 1) {
    process.stderr.write(`# loadtest saturate ${i}/${repeat}\n`);
    const result = await loadtest(saturateArgs);
    // 0 = no rate met the SLO (JSON has no undefined); the median then says so too.
    macroRuns.saturate.push({ highestPassingRate: result.saturation?.highestPassingRate ?? 0, firstFailingRate: result.saturation?.firstFailingRate ?? NaN, steps: result.runs.length });
  }
}

const record = {
  bench: "run-all", date, command, repeat, machine,
  commands: {
    micro: micro.map((j) => `node dist/${j.script} ${j.args.join(" ")}`),
    macro: flags["skip-macro"] ? [] : [`node dist/loadtest/main.js ${fixedArgs.join(" ")}`, `node dist/loadtest/main.js ${saturateArgs.join(" ")}`],
  },
  micro: microMedians,
  macro: flags["skip-macro"] ? undefined : { fixed: medianOf(macroRuns.fixed), saturate: medianOf(macroRuns.saturate) },
  runs: { micro: microRuns, macro: macroRuns },
};
const jsonFile = flags.json ?? join("benchmarks", "out", `run-all-${date.replace(/[:.]/g, "-")}.json`);
mkdirSync(dirname(jsonFile), { recursive: true });
writeFileSync(jsonFile, `${JSON.stringify(record, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v), 2)}\n`);

// A short human summary; the JSON has everything.
const fmt = (v: unknown): string => (typeof v === "number" ? (Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(3)) : String(v));
console.log(`\n| benchmark | median over ${repeat} |\n|---|---|`);
for (const [key, value] of Object.entries(microMedians)) {
  const v = value as Record<string, unknown>;
  const figure = v["opsPerSecMedian"] !== undefined ? `${fmt(v["opsPerSecMedian"])} ops/s${v["bytes"] !== undefined ? ` (${fmt(v["bytes"])} B)` : ""}`
    : v["medianUs"] !== undefined ? `median ${fmt(v["medianUs"])} µs, p90 ${fmt(v["p90Us"])} µs`
      : v["p50"] !== undefined ? `p50 ${fmt(v["p50"])} ms, p90 ${fmt(v["p90"])} ms, p99 ${fmt(v["p99"])} ms`
      : `${fmt(v["commandsPerS"])} commands/s, commit median ${fmt(v["commitMsMedian"])} ms, ${fmt(v["batchCommandsMedian"])} commands/commit`;
  console.log(`| ${key} | ${figure} |`);
}
if (record.macro) {
  const f = record.macro.fixed as LoadtestJson["runs"][number];
  const s = record.macro.saturate as { highestPassingRate: number };
  console.log(`| loadtest run ${f.offeredRate}/s | achieved ${fmt(f.achievedRate)}/s; p50/p99 identify ${fmt(f.latencyMs["identify"]!.p50)}/${fmt(f.latencyMs["identify"]!.p99)} ms, ` +
    `calculate ${fmt(f.latencyMs["calculate"]!.p50)}/${fmt(f.latencyMs["calculate"]!.p99)} ms, confirm ${fmt(f.latencyMs["confirm"]!.p50)}/${fmt(f.latencyMs["confirm"]!.p99)} ms; errors ${fmt(f.errorsTotal)} |`);
  const slo = flags.slo ?? "the default SLO";
  console.log(`| loadtest saturate (${slo}) | ${s.highestPassingRate > 0 ? `highest passing rate ${fmt(s.highestPassingRate)} checks/s` : "no rate tried met it (from 250 checks/s)"} |`);
}
console.log(`\nJSON: ${jsonFile}`);
