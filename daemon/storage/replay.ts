// Journal replay: re-applies journaled commands, in order, into a store.
//
// Contract:
// - `replayJournal(source, target, apply)` applies every entry's command with
//   the entry's recorded `at` as `now`, through the same deterministic engine
//   `apply`, and returns the target's digest once everything is durable. With
//   an empty target this is the proof that the journal reproduces state: the
//   result must equal the source store's digest.
// - Seqs must be contiguous and continue the target's own (an empty target
//   starts at 1), and every replayed command must write (it did the first
//   time; a command that now writes nothing, or that is assigned another seq,
//   means the engine is not deterministic). Both are assertions.
// - Memory stays bounded: at most `pendingCommandsMax` replayed commands await
//   durability at a time, so replay never trips the target's overload guard.
// - `applyJournal` is the same without the digest: the store's own recovery
//   from its write-ahead log uses it.
import { assert } from "../assert.js";
import type { JournalEntry } from "./journal.js";
import { journalPageMax } from "./limits.js";
import type { Apply, Store } from "./store.js";

export async function replayJournal(
  source: Iterable<JournalEntry> | AsyncIterable<JournalEntry>,
  target: Store,
  apply: Apply<unknown>,
): Promise<string> {
  await applyJournal(source, target, apply);
  return target.digest();
}

/** Applies every entry as `replayJournal` does and resolves once all are durable. */
export async function applyJournal(
  source: Iterable<JournalEntry> | AsyncIterable<JournalEntry>,
  target: Store,
  apply: Apply<unknown>,
): Promise<void> {
  // The first failure of any replayed command (a failed commit rejects them
  // all). Kept, not ignored: replay stops and rethrows it.
  let failure: { error: unknown } | null = null;
  const noteFailure = (error: unknown): void => {
    failure ??= { error };
  };
  let awaitingDurability = 0;
  let expected = target.lastSeq + 1;
  for await (const entry of source) {
    assert(entry.seq === expected, `journal is not contiguous: expected seq ${expected}, got ${entry.seq}`);
    // Waiting first keeps the target under its pending limit (the target is
    // dedicated to the replay, so idle() means our commands are durable).
    if (awaitingDurability >= target.pendingCommandsMax) {
      await target.idle();
      awaitingDurability = 0;
    }
    // A failed target rejects submits without applying them; surface its
    // failure (idle() rejects with it) instead of a confusing seq assertion.
    if (!target.isHealthy()) await target.idle();
    if (failure !== null) throw (failure as { error: unknown }).error;
    target.submit(entry.command, entry.at, apply).then(undefined, noteFailure);
    awaitingDurability++;
    assert(
      target.lastSeq === entry.seq,
      `replayed seq ${entry.seq} was assigned seq ${target.lastSeq}: the command wrote nothing on replay (engine not deterministic?)`,
    );
    expected++;
  }
  await target.idle();
  if (failure !== null) throw (failure as { error: unknown }).error;
}

/** Reads a store's durable journal in pages, from `fromSeq` on. */
export function* iterateJournal(store: Store, fromSeq = 1, pageSize = 1000): Generator<JournalEntry> {
  assert(pageSize >= 1 && pageSize <= journalPageMax, `pageSize must be in 1..${journalPageMax}`);
  let next = fromSeq;
  for (;;) {
    const page = store.journalEntries(next, pageSize);
    if (page.length === 0) return;
    yield* page;
    next = page[page.length - 1]!.seq + 1;
  }
}
