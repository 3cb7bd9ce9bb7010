// Storage group commit: commands/s, batch commit latency and answer latency
// through the real store (LMDB, overlay, journal) with a POS-like command, in
// 'sync' (fdatasync per batch) and 'none' durability, at several numbers of
// commands in flight (closed loop: each answer submits the next command, like
// tills waiting for their answer).
//
// Run: npm run build && node dist/benchmarks/storage-commit.bench.js [--seconds 3] [--accounts 20000]
// Prints the machine, then one JSON line per configuration.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Tx } from "../daemon/engine/tx.js";
import { openStore, type CommitInfo, type Durability, type Store } from "../daemon/storage/store.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "3" }, accounts: { type: "string", default: "20000" } } });
const seconds = Number(values.seconds);
const accountsCount = Number(values.accounts);

interface Account {
  readonly card: string;
  readonly points: number;
  readonly lots: readonly { readonly points: number; readonly expiresDay: number }[];
  readonly spentMinor: number;
}

interface Confirm {
  readonly card: string;
  readonly operationId: string;
  readonly amountMinor: number;
}

// A confirm-like command: idempotency check, read-modify-write of the
// account, a ledger entry and the stored answer: 1 + 3 reads, 3 writes.
// Its account-like record lives in "customers", a table in the generic
// encoding: the real "accounts" table only takes the engine's Account records
// (daemon/storage/record-codecs.ts).
function applyConfirm(tx: Tx, command: unknown, now: number): { points: number } {
  const c = command as Confirm;
  const idempotencyKey = `m1/t1/${c.operationId}`;
  const done = tx.get<{ points: number }>("idempotency", idempotencyKey);
  if (done !== undefined) return done;
  const account = tx.get<Account>("customers", `m1/${c.card}`)!;
  const earned = Math.floor(c.amountMinor / 1000);
  const lots = [...account.lots.slice(-7), { points: earned, expiresDay: Math.floor(now / 86_400_000) + 365 }];
  tx.put("customers", `m1/${c.card}`, { ...account, points: account.points + earned, lots, spentMinor: account.spentMinor + c.amountMinor });
  tx.put("activity", `m1/${c.card}/${c.operationId}`, { at: now, delta: earned, reason: "confirm", checkId: c.operationId });
  const answer = { points: account.points + earned };
  tx.put("idempotency", idempotencyKey, { hash: "0123456789abcdef0123456789abcdef", answer, at: now });
  return answer;
}

function cardOf(i: number): string {
  return `2775${String(i).padStart(12, "0")}`;
}

async function populate(store: Store): Promise<void> {
  const chunk = 1_000;
  for (let start = 0; start < accountsCount; start += chunk) {
    await store.submit(null, 0, (tx) => {
      for (let i = start; i < Math.min(start + chunk, accountsCount); i++) {
        tx.put("customers", `m1/${cardOf(i)}`, { card: cardOf(i), points: 100, lots: [{ points: 100, expiresDay: 20_500 }], spentMinor: 0 } satisfies Account);
      }
    });
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function run(durability: Durability, inFlight: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-bench-"));
  const commits: CommitInfo[] = [];
  let recording = false;
  const store = await openStore({
    path: dir,
    durability,
    mapSizeBytes: 1024 * 1024 * 1024,
    pendingCommandsMax: 10_000,
    onCommit: (info) => {
      if (recording) commits.push(info);
    },
  });
  await populate(store);

  const latenciesMs: number[] = [];
  let applyNs = 0n;
  let submitted = 0;
  let answered = 0;
  let stopAt = 0;
  let random = 12_345;
  const nextRandom = (): number => (random = (random * 1_103_515_245 + 12_345) & 0x7fffffff);

  const done = new Promise<void>((resolve) => {
    let active = inFlight;
    const submitOne = (): void => {
      if (performance.now() >= stopAt) {
        if (--active === 0) resolve();
        return;
      }
      const command: Confirm = { card: cardOf(nextRandom() % accountsCount), operationId: `op${submitted++}`, amountMinor: 1_000 + (nextRandom() % 100_000) };
      const started = performance.now();
      const before = process.hrtime.bigint();
      const answer = store.submit(command, Date.UTC(2026, 0, 1) + submitted, applyConfirm);
      applyNs += process.hrtime.bigint() - before;
      answer.then(() => {
        latenciesMs.push(performance.now() - started);
        answered++;
        submitOne();
      }, (error: unknown) => {
        throw error;
      });
    };
    stopAt = performance.now() + seconds * 1000;
    recording = true;
    for (let i = 0; i < inFlight; i++) submitOne();
  });
  const startedAt = performance.now();
  await done;
  const elapsedS = (performance.now() - startedAt) / 1000;
  recording = false;
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  latenciesMs.sort((a, b) => a - b);
  const commitMs = commits.map((c) => c.ms).sort((a, b) => a - b);
  const batchSizes = commits.map((c) => c.commands).sort((a, b) => a - b);
  return {
    durability,
    inFlight,
    commandsPerS: Math.round(answered / elapsedS),
    batches: commits.length,
    batchCommandsMedian: percentile(batchSizes, 0.5),
    commitMsMedian: round(percentile(commitMs, 0.5)),
    commitMsP99: round(percentile(commitMs, 0.99)),
    answerMsMedian: round(percentile(latenciesMs, 0.5)),
    answerMsP99: round(percentile(latenciesMs, 0.99)),
    submitUsMean: round(Number(applyNs / BigInt(Math.max(1, submitted))) / 1000),
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

console.log(JSON.stringify({ machine: cpus()[0]?.model, cores: cpus().length, node: process.version, seconds, accounts: accountsCount }));
for (const durability of ["sync", "none"] as const) {
  for (const inFlight of [1, 64, 512]) console.log(JSON.stringify(await run(durability, inFlight)));
}
