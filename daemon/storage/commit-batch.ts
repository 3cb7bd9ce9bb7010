// One group-commit batch: every command applied since the previous batch was
// handed to LMDB, committed together in one LMDB transaction.
//
// Contract:
// - `touchedTables[i]`/`touchedKeys[i]`/`touchedBytes[i]` list each key
//   written by the batch once (the overlay entry's `batchId` and `index`
//   deduplicate) with the newest bytes the batch's own commands wrote for it
//   (null = delete). A later batch writing the same key does not change them:
//   a batch waiting behind the one in flight must commit exactly its own
//   commands' effects, never a later command's.
// - `journalSeqs` are contiguous and increasing; their entries commit in the
//   same transaction as the writes.
// - Waiters are every command whose answer depends on this batch: the writers
//   and the read-only commands that ran while it was pending. They are
//   settled in submission order, exactly once, all at the same time.
import type { Table } from "../engine/tx.js";
import { assert } from "../assert.js";

// Promise resolvers without a closure per command: the executor below is one
// function shared by every `new Promise`, handing the resolvers over through
// these two slots. Safe because the Promise constructor calls the executor
// synchronously, before anything else can run. (Node 20 has no
// Promise.withResolvers.)
let handedResolve: ((value: unknown) => void) | undefined;
let handedReject: ((reason: unknown) => void) | undefined;
function handOverResolvers(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  handedResolve = resolve;
  handedReject = reject;
}

export class CommitBatch {
  readonly touchedTables: Table[] = [];
  readonly touchedKeys: string[] = [];
  readonly touchedBytes: (Buffer | null)[] = [];
  readonly journalSeqs: number[] = [];
  readonly journalBytes: Buffer[] = [];
  private readonly resolves: ((value: unknown) => void)[] = [];
  private readonly rejects: ((reason: unknown) => void)[] = [];
  private readonly results: unknown[] = [];
  private settled = false;
  /** performance.now() when handed to the write-ahead log; 0 while still accumulating. */
  committedAtMs = 0;
  /** Its journal entries and writes packed for the checkpoint thread (checkpoint-codec.ts), once durable. */
  checkpointBytes: Buffer | null = null;

  constructor(readonly id: number) {}

  get waiterCount(): number {
    return this.resolves.length;
  }

  get commandCount(): number {
    return this.journalSeqs.length;
  }

  /** A promise settled with `result` once this batch is durable (or rejected if it fails). */
  addWaiter(result: unknown): Promise<unknown> {
    assert(!this.settled, "waiter added to a settled batch");
    const promise = new Promise<unknown>(handOverResolvers);
    this.resolves.push(handedResolve!);
    this.rejects.push(handedReject!);
    this.results.push(result);
    handedResolve = undefined;
    handedReject = undefined;
    return promise;
  }

  resolveAll(): void {
    assert(!this.settled, "batch settled twice");
    this.settled = true;
    // In order: callers observe answers in the order commands were applied.
    for (let i = 0; i < this.resolves.length; i++) this.resolves[i]!(this.results[i]);
    this.releaseWaiters();
  }

  rejectAll(reason: unknown): void {
    assert(!this.settled, "batch settled twice");
    this.settled = true;
    for (let i = 0; i < this.rejects.length; i++) this.rejects[i]!(reason);
    this.releaseWaiters();
  }

  // Results can be large answers; drop them as soon as they are delivered.
  private releaseWaiters(): void {
    this.resolves.length = 0;
    this.rejects.length = 0;
    this.results.length = 0;
  }
}
