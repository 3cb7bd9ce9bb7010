// Micro benchmarks of helpers on the per-check hot path, the old way and the
// new way side by side in one process (rounds interleaved, so a busy shared
// machine slows both alike). A case first checks that both ways give the
// same result. The old way is either kept here verbatim (small helpers) or
// is the same module loaded from a baseline build: with --baseline DIR (the
// dist/ of another commit, e.g. `git worktree add` it and `npm run build`
// there) the cases that need one compare its modules with this build's, and
// without it they are skipped.
//
// Run: npm run build && node dist/benchmarks/hot-path.bench.js [--ms 300] [--rounds 7] [--baseline DIR]
// Prints the machine, then one JSON line per case: median ns per call of each
// way over the rounds, and new/old.
import { createHash } from "node:crypto";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { contentHash, encodeOperation } from "../daemon/engine/apply.js";
import { luhnValid } from "../daemon/engine/common.js";
import { memberPricing, type Member } from "../daemon/engine/checkout.js";
import type { BasketLine } from "../daemon/engine/pricing.js";
import { demoProgram, demoPromotions, withCheckDigit } from "../daemon/seed.js";
import { fiveLineBasket } from "./support/basket.js";

const { values } = parseArgs({ options: { ms: { type: "string", default: "300" }, rounds: { type: "string", default: "7" }, baseline: { type: "string" } } });
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

/** This build's root (dist/) and the baseline's, for cases that load the same module from both. */
const thisRoot = fileURLToPath(new URL("..", import.meta.url));
const baselineRoot = values.baseline === undefined ? null : resolve(values.baseline);
async function bothBuilds<M>(modulePath: string): Promise<{ old: M; neu: M } | null> {
  if (baselineRoot === null) return null;
  const load = async (root: string): Promise<M> => (await import(pathToFileURL(join(root, modulePath)).href)) as M;
  return { old: await load(baselineRoot), neu: await load(thisRoot) };
}

console.log(JSON.stringify({ machine: cpus()[0]?.model ?? "?", cores: cpus().length, node: process.version, roundMs, rounds, baseline: baselineRoot !== null, date: new Date().toISOString() }));

const calculateBody = encodeOperation("calculate", { operationId: "till-1-000123", card: { cardNumber: "2775000000000009" }, lines: fiveLineBasket });
pair("contentHash",
  () => createHash("sha256").update("calculate").update("\u0000").update(calculateBody).digest("hex").slice(0, 32),
  () => contentHash("calculate", calculateBody));

function luhnValidBefore(number: string): boolean {
  if (!/^\d{8,19}$/.test(number)) return false;
  let sum = 0;
  for (let i = 0; i < number.length; i += 1) {
    let d = number.charCodeAt(number.length - 1 - i) - 48;
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
}
const cardNumbers = Array.from({ length: 64 }, (_, i) => withCheckDigit(`2775${String(i * 7919).padStart(11, "0")}`));
pair("luhnValid", (i) => luhnValidBefore(cardNumbers[i & 63]!), (i) => luhnValid(cardNumbers[i & 63]!));

// Pricing the five-line basket for a bronze member under the demo rules, as
// Calculate does (the same rules version object every call, as the store's
// decoded-rules cache hands it out).
type PricingModule = typeof import("../daemon/engine/pricing.js");
const pricing = await bothBuilds<PricingModule>("daemon/engine/pricing.js");
if (pricing !== null) {
  const at = Date.UTC(2026, 10, 23, 9, 0); // a Monday morning: the coffee and breakfast promotions apply
  const version = { from: 0, program: demoProgram, promotions: demoPromotions };
  const member: Member = { card: { number: withCheckDigit("277500000000000"), kind: "bonus", status: "active", issuedAt: 0 }, account: undefined, customer: undefined };
  const lines: BasketLine[] = fiveLineBasket.map((l) => ({ sku: l.sku, grp: l.group, qty: l.quantityMilli, price: l.priceMinor, amt: l.amountMinor }));
  const input = { version, at, tzOffsetMin: 180, storeId: "msk-tverskaya", region: "moscow", lines, member: memberPricing(demoProgram, member) };
  pair("priceCheck", () => pricing.old.priceCheck(input, 0, { kind: "none" }), () => pricing.neu.priceCheck(input, 0, { kind: "none" }));
}

// An operation's reads through its BufferTx before its first write (the
// common case: merchant, store, rules, card, account are read first).
type CommonModule = typeof import("../daemon/engine/common.js");
const common = await bothBuilds<CommonModule>("daemon/engine/common.js");
if (common !== null) {
  const record = { number: "2775000000000009", kind: "bonus" };
  const parent = { get: <T>(): T | undefined => record as T, put: (): void => undefined, del: (): void => undefined };
  const keys = Array.from({ length: 64 }, (_, i) => `demo/27750000${String(i * 7919).padStart(8, "0")}`);
  const reads = (m: CommonModule) => (i: number) => new m.BufferTx(parent).get("cards", keys[i & 63]!);
  pair("bufferTxRead", reads(common.old), reads(common.neu));
}
