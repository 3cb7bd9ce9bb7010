// Engine-only throughput: identify, calculate and confirm through the real
// engine entry points on an in-memory Tx (no LMDB, no sockets), so the figure
// is the CPU cost of the business logic alone.
//
// Run: npm run build && node dist/benchmarks/engine.bench.js [--seconds 2] [--rounds 5]
// Prints one JSON line per operation with the median ops/s over the rounds.
import { parseArgs } from "node:util";
import { applyPos, applyRead, encodeOperation, type PosCommand } from "../daemon/engine/apply.js";
import { applyAdmin } from "../daemon/engine/admin.js";
import { MemoryTx } from "../daemon/engine/memory-tx.js";
import { demoSeed, withCheckDigit } from "../daemon/seed.js";
import type { Operation } from "../protocol/codec.js";
import { decodeResponse } from "../protocol/codec.js";
import { fiveLineBasket } from "./support/basket.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "2" }, rounds: { type: "string", default: "5" } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

const now = Date.UTC(2026, 10, 23, 9, 0);
const tx = new MemoryTx(false);
const seed = demoSeed(now);
for (const action of seed.actions) applyAdmin(tx, { t: "admin", actor: "bench", action }, now);
const cards = Array.from({ length: 10_000 }, (_, i) => withCheckDigit(`2775${String(i).padStart(11, "0")}`));
applyAdmin(tx, { t: "admin", actor: "bench", action: { a: "cards.issue", merchantId: "demo", cards: cards.map((number) => ({ number, kind: "bonus" })) } }, now);
const terminal = seed.credentials.terminals[0]!;
const ctx = { merchantId: "demo", storeId: terminal.storeId, terminalId: terminal.terminalId, cashierId: "c1" };
const basket = fiveLineBasket;
let seq = 0;
function pos(op: Operation, message: object): Uint8Array {
  seq += 1;
  const command: PosCommand = { t: "pos", m: ctx.merchantId, s: ctx.storeId, term: ctx.terminalId, cash: "c1", op, body: encodeOperation(op, { ...message, operationId: `b-${seq}` }) };
  return applyPos(tx, command, now).body;
}

function measure(name: string, fn: (i: number) => void): void {
  const rates: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    const end = performance.now() + seconds * 1000;
    let n = 0;
    const start = performance.now();
    while ((n & 255) !== 0 || performance.now() < end) { fn(n); n += 1; }
    rates.push(n / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  console.log(JSON.stringify({ bench: `engine.${name}`, opsPerSecMedian: Math.round(rates[Math.floor(rates.length / 2)]!), rounds, seconds }));
}

measure("identify", (i) => { applyRead(tx, ctx, "identify", { card: { cardNumber: cards[i % cards.length] } }, now); });
measure("calculate", (i) => { pos("calculate", { card: { cardNumber: cards[i % cards.length] }, lines: basket }); });
measure("calculate+confirm", (i) => {
  const calc = decodeResponse(pos("calculate", { card: { cardNumber: cards[i % cards.length] }, lines: basket })).calculate!;
  pos("confirm", { checkId: calc.checkId, receiptNumber: `F-${i}` });
});
