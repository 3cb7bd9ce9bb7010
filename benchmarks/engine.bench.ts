// Engine-only throughput: identify, calculate and confirm through the real
// engine entry points on an in-memory Tx (no LMDB, no sockets), so the figure
// is the CPU cost of the business logic alone.
//
// Run: npm run build && node dist/benchmarks/engine.bench.js [--seconds 2] [--rounds 5]
// Prints one JSON line per operation with the median ops/s over the rounds.
// Every setup command and every answer is checked: an error answer ends the
// run with its message (a benchmark of declines measures nothing useful).
// The in-memory Tx keeps every check and answer, so the heap grows during a
// run and the figures include that garbage collection; compare runs of the
// same --seconds and --rounds.
import { parseArgs } from "node:util";
import { applyPos, applyRead, encodeOperation, type Answer, type PosCommand } from "../daemon/engine/apply.js";
import { applyAdmin, cardsPerCommandMax, type AdminAction } from "../daemon/engine/admin.js";
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
function admin(action: AdminAction): void {
  const result = applyAdmin(tx, { t: "admin", actor: "bench", action }, now);
  if (!result.ok) throw new Error(`bench setup failed: ${action.a}: ${result.message}`);
}
for (const action of seed.actions) admin(action);
const cards = Array.from({ length: 10_000 }, (_, i) => withCheckDigit(`2775${String(i).padStart(11, "0")}`));
for (let i = 0; i < cards.length; i += cardsPerCommandMax) {
  admin({ a: "cards.issue", merchantId: "demo", cards: cards.slice(i, i + cardsPerCommandMax).map((number) => ({ number, kind: "bonus" })) });
}
const terminal = seed.credentials.terminals[0]!;
const ctx = { merchantId: "demo", storeId: terminal.storeId, terminalId: terminal.terminalId, cashierId: "c1" };
const basket = fiveLineBasket;
let seq = 0;
function checked(op: Operation, answer: Answer): Uint8Array {
  if (answer.errorCode !== 0) throw new Error(`bench ${op} answered an error: ${JSON.stringify(decodeResponse(answer.body).error)}`);
  return answer.body;
}
function pos(op: Operation, message: object): Uint8Array {
  seq += 1;
  const command: PosCommand = { t: "pos", m: ctx.merchantId, s: ctx.storeId, term: ctx.terminalId, cash: "c1", op, body: encodeOperation(op, { ...message, operationId: `b-${seq}` }) };
  return checked(op, applyPos(tx, command, now));
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

measure("identify", (i) => { checked("identify", applyRead(tx, ctx, "identify", { card: { cardNumber: cards[i % cards.length] } }, now)); });
measure("calculate", (i) => { pos("calculate", { card: { cardNumber: cards[i % cards.length] }, lines: basket }); });
measure("calculate+confirm", (i) => {
  const calc = decodeResponse(pos("calculate", { card: { cardNumber: cards[i % cards.length] }, lines: basket })).calculate!;
  pos("confirm", { checkId: calc.checkId, receiptNumber: `F-${seq}` });
});
