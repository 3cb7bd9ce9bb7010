// Micro benchmarks of helpers on the per-check hot path, the old way and the
// new way side by side in one process (rounds interleaved, so a busy shared
// machine slows both alike). Each case keeps the replaced code here, verbatim,
// as the reference it is measured against; a case first checks that both
// ways give the same result.
//
// Run: npm run build && node dist/benchmarks/hot-path.bench.js [--ms 300] [--rounds 7]
// Prints the machine, then one JSON line per case: median ns per call of each
// way over the rounds, and new/old.
import { createHash } from "node:crypto";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { contentHash, encodeOperation } from "../daemon/engine/apply.js";
import { fiveLineBasket } from "./support/basket.js";

const { values } = parseArgs({ options: { ms: { type: "string", default: "300" }, rounds: { type: "string", default: "7" } } });
const roundMs = Number(values.ms);
const rounds = Number(values.rounds);

/** Calls per timing check: keeps performance.now() out of the measured cost. */
const batch = 256;

function nsPerCall(fn: (i: number) => unknown): number {
  let sink: unknown = null;
  let n = 0;
  const start = performance.now();
  const end = start + roundMs;
  do {
    for (let k = 0; k < batch; k += 1) sink = fn(n + k);
    n += batch;
  } while (performance.now() < end);
  const ns = ((performance.now() - start) * 1e6) / n;
  if (sink === Symbol.for("never")) console.log(sink);
  return ns;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function pair(name: string, before: (i: number) => unknown, after: (i: number) => unknown): void {
  const a = JSON.stringify(before(0));
  const b = JSON.stringify(after(0));
  if (a !== b) throw new Error(`${name}: the two ways disagree: ${a} vs ${b}`);
  nsPerCall(before);
  nsPerCall(after);
  const old: number[] = [];
  const neu: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    old.push(nsPerCall(before));
    neu.push(nsPerCall(after));
  }
  const o = median(old);
  const m = median(neu);
  console.log(JSON.stringify({ bench: `hot-path.${name}`, oldNsMedian: Math.round(o), newNsMedian: Math.round(m), ratio: Math.round((m / o) * 1000) / 1000, rounds }));
}

console.log(JSON.stringify({ machine: cpus()[0]?.model ?? "?", cores: cpus().length, node: process.version, roundMs, rounds, date: new Date().toISOString() }));

const calculateBody = encodeOperation("calculate", { operationId: "till-1-000123", card: { cardNumber: "2775000000000009" }, lines: fiveLineBasket });
pair("contentHash",
  () => createHash("sha256").update("calculate").update("\u0000").update(calculateBody).digest("hex").slice(0, 32),
  () => contentHash("calculate", calculateBody));
