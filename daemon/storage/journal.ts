// Journal entries: the logical record of every command that changed state.
//
// Contract:
// - One entry per command that wrote something, keyed by `seq` in the
//   `journal` db, written in the same LMDB transaction as the command's writes.
// - `seq` starts at 1 and increases by exactly 1; `at` is the `now` the command
//   was applied with. Re-applying the commands in seq order with their `at`
//   through the same (deterministic) engine reproduces the state exactly: this
//   is what replicas and `replayJournal` rely on.
// - Entries are msgpack maps { seq, at, command } in the storage encoding, so
//   an entry's bytes are as deterministic as the command.
import { assert, assertSafeInteger } from "../assert.js";
import { decodeRecord, encodeRecord } from "./encoding.js";

export interface JournalEntry {
  readonly seq: number;
  readonly at: number;
  readonly command: unknown;
}

export function encodeJournalEntry(seq: number, at: number, command: unknown): Buffer {
  assertSafeInteger(seq, "journal seq");
  assert(seq >= 1, `journal seq must be >= 1, got ${seq}`);
  assertSafeInteger(at, "journal at (now)");
  assert(command !== undefined, "journal command must not be undefined");
  return encodeRecord({ seq, at, command });
}

/** Decodes the entry stored under `seq` and checks it names the same seq. */
export function decodeJournalEntry(seq: number, bytes: Uint8Array): JournalEntry {
  const entry = decodeRecord(bytes) as Partial<JournalEntry> | null;
  assert(typeof entry === "object" && entry !== null, `journal entry ${seq} is not a map`);
  assert(entry.seq === seq, `journal entry stored under seq ${seq} says seq ${String(entry.seq)}`);
  assert(typeof entry.at === "number" && Number.isSafeInteger(entry.at), `journal entry ${seq} has no valid 'at'`);
  assert(entry.command !== undefined, `journal entry ${seq} has no command`);
  return { seq, at: entry.at, command: entry.command };
}
