// The write-ahead log: where a command becomes durable.
//
// Why: an LMDB commit dirties a handful of random B-tree pages per command
// and flushes twice (data pages, then the meta page), ≈1–3 ms per commit on
// the benchmark disk. Appending the commands' journal entries to a file
// through an O_DSYNC descriptor is one sequential write and one flush,
// ≈0.2–0.3 ms. So the store answers after the append, and copies the state to
// LMDB later, many commands per LMDB transaction (a checkpoint, store.ts);
// after a crash, the entries past LMDB's lastSeq are applied again.
//
// Contract:
// - Records are journal entries (journal.ts bytes, which carry their seq),
//   each framed as u32 LE payload length | u32 LE CRC-32 of the payload |
//   payload, appended to segment files `wal-<first seq, 16 digits>.log` in the
//   log's directory (the LMDB directory unless the store was given another;
//   wal-dir.ts checks that the two belong together).
// - `append(bytes, firstSeq)` writes whole records with one write() and
//   resolves once it returned: with 'sync' durability the descriptor is
//   O_DSYNC, so the records are on disk; with 'none' they are in the OS page
//   cache (they survive a process crash, not an OS crash). One append at a
//   time (asserted): the store serialises them. A failed or short write is
//   cut off again (ftruncate to the previous size) before the promise
//   rejects, so a record the store reports as failed is never replayed —
//   unless the truncate fails too, which the error says.
// - A new segment's file and its directory entry are made durable before
//   its first record. A segment that reached `segmentBytes` is closed; the
//   next append starts a new one.
// - `readWal(dir)` returns every intact record in seq order. The first
//   damaged record of the newest segment ends the log (a write that was
//   torn by a crash was never acknowledged); damage in an older segment, or
//   a gap in the seqs, is an error: refusing to start beats serving a state
//   with a hole in it.
// - `deleteSegmentsThrough(seq)` removes the closed segments whose records
//   are all ≤ seq, and `deleteFound()` the segments found at open (a
//   checkpoint put their records in LMDB). Losing a delete in a crash is
//   harmless: recovery skips records ≤ LMDB's lastSeq.
import { closeSync, constants, existsSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, unlinkSync, write } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { assert } from "../assert.js";
import { decodeJournalEntry, type JournalEntry } from "./journal.js";
import type { Durability } from "./lmdb-layout.js";

/** Bytes of a record's frame before its payload. */
export const walRecordHeaderBytes = 8;

/**
 * A segment is closed once it reaches this size. Recovery reads whole
 * segments, and only segments a checkpoint covered are deleted, so this bounds
 * the disk the log takes beyond the un-checkpointed tail (checkpoints run
 * every fraction of a second) and the bytes read at start-up.
 */
export const walSegmentBytesDefault = 64 * 1024 * 1024;

const segmentPattern = /^wal-(\d{16})\.log$/;

function segmentName(firstSeq: number): string {
  return `wal-${String(firstSeq).padStart(16, "0")}.log`;
}

/** Appends one framed record for `payload` to `out` at `offset`; returns the next offset. */
export function frameRecord(out: Buffer, offset: number, payload: Uint8Array): number {
  out.writeUInt32LE(payload.length, offset);
  out.writeUInt32LE(crc32(payload), offset + 4);
  out.set(payload, offset + walRecordHeaderBytes);
  return offset + walRecordHeaderBytes + payload.length;
}

export interface WalRecord extends JournalEntry {
  /** The payload: the journal entry's bytes. */
  readonly bytes: Buffer;
}

export interface WalContents {
  readonly records: WalRecord[];
  /** Segment files found, oldest first, with their first seq. */
  readonly segments: { readonly name: string; readonly firstSeq: number }[];
  /** Bytes after the last intact record of the newest segment (a torn tail), 0 if none. */
  readonly discardedTailBytes: number;
}

/** Whether `dir` holds any segment file (damaged or not). */
export function hasWalSegments(dir: string): boolean {
  return listSegments(dir).length > 0;
}

/** The segment files in `dir`, oldest first (none if `dir` does not exist). */
export function listSegments(dir: string): { name: string; firstSeq: number }[] {
  if (!existsSync(dir)) return [];
  const segments: { name: string; firstSeq: number }[] = [];
  for (const name of readdirSync(dir)) {
    const match = segmentPattern.exec(name);
    if (match !== null) segments.push({ name, firstSeq: Number(match[1]) });
  }
  return segments.sort((a, b) => a.firstSeq - b.firstSeq);
}

/** Reads every intact record of the log in `dir` (see the contract). */
export function readWal(dir: string): WalContents {
  const segments = listSegments(dir);
  const records: WalRecord[] = [];
  let discardedTailBytes = 0;
  for (let s = 0; s < segments.length; s++) {
    const { name, firstSeq } = segments[s]!;
    const newest = s === segments.length - 1;
    const data = readFileSync(join(dir, name));
    let offset = 0;
    let expectedSeq = firstSeq;
    while (offset < data.length) {
      const damage = recordDamage(data, offset);
      if (damage !== null) {
        assert(newest, `write-ahead log segment ${name} is damaged at byte ${offset} (${damage}) and is not the newest: refusing to start`);
        discardedTailBytes = data.length - offset;
        break;
      }
      const length = data.readUInt32LE(offset);
      const bytes = data.subarray(offset + walRecordHeaderBytes, offset + walRecordHeaderBytes + length);
      const entry = decodeJournalEntry(expectedSeq, bytes);
      records.push({ ...entry, bytes });
      offset += walRecordHeaderBytes + length;
      expectedSeq++;
    }
    const next = segments[s + 1];
    if (next !== undefined) {
      assert(next.firstSeq === expectedSeq, `write-ahead log segment ${next.name} should start at seq ${expectedSeq}: refusing to start`);
    }
  }
  return { records, segments, discardedTailBytes };
}

/** Why the record at `offset` is not intact, or null if it is. */
function recordDamage(data: Buffer, offset: number): string | null {
  if (data.length - offset < walRecordHeaderBytes) return "truncated header";
  const length = data.readUInt32LE(offset);
  if (length === 0) return "zero length";
  if (data.length - offset - walRecordHeaderBytes < length) return "truncated payload";
  const payload = data.subarray(offset + walRecordHeaderBytes, offset + walRecordHeaderBytes + length);
  if (crc32(payload) !== data.readUInt32LE(offset + 4)) return "checksum mismatch";
  return null;
}

export class WalWriteError extends Error {}

export class WriteAheadLog {
  /** The segment being appended to, if any. */
  private active: { fd: number; name: string; bytes: number; lastSeq: number } | null = null;
  private appending = false;
  private closed = false;
  /** Closed segments with the last seq they hold, oldest first (deleted once a checkpoint covers them). */
  private readonly closedSegments: { name: string; lastSeq: number }[] = [];
  /** Segments found at open; the store deletes them (deleteFound) once LMDB holds their records. */
  private found: string[];

  constructor(
    private readonly dir: string,
    private readonly durability: Durability,
    found: readonly { name: string }[],
    private readonly segmentBytes = walSegmentBytesDefault,
  ) {
    // Found segments are never appended to again: a torn tail stays where it
    // is (after the last intact record) until the segment is deleted.
    this.found = found.map((segment) => segment.name);
  }

  /** Appends records `firstSeq..lastSeq`, framed in `bytes` (see the contract). */
  append(bytes: Buffer, firstSeq: number, lastSeq: number): Promise<void> {
    assert(!this.closed, "append to a closed write-ahead log");
    assert(!this.appending, "write-ahead log appends must not overlap");
    this.appending = true;
    let segment;
    try {
      segment = this.active ?? this.startSegment(firstSeq);
    } catch (error) {
      this.appending = false;
      return Promise.reject(new WalWriteError(`cannot start a write-ahead log segment: ${String(error)}`, { cause: error }));
    }
    const sizeBefore = segment.bytes;
    return new Promise<void>((resolve, reject) => {
      write(segment.fd, bytes, 0, bytes.length, null, (error, written) => {
        this.appending = false;
        if (error === null && written === bytes.length) {
          segment.bytes += written;
          segment.lastSeq = lastSeq;
          if (segment.bytes >= this.segmentBytes) this.closeActive();
          resolve();
          return;
        }
        const cause = error ?? new Error(`short write: ${written} of ${bytes.length} bytes`);
        // Nothing of a failed append may be replayed: cut the file back.
        try {
          ftruncateSync(segment.fd, sizeBefore);
          if (this.durability === "sync") fdatasyncSync(segment.fd);
        } catch (truncateError) {
          reject(new WalWriteError(`write-ahead log append failed (${String(cause)}) and cutting it back failed too (${String(truncateError)}): part of the failed write may be replayed`, { cause }));
          return;
        }
        reject(new WalWriteError(`write-ahead log append failed: ${String(cause)}`, { cause }));
      });
    });
  }

  /** Deletes the closed segments whose records are all ≤ `seq`. */
  deleteSegmentsThrough(seq: number): void {
    while (this.closedSegments.length > 0 && this.closedSegments[0]!.lastSeq <= seq) {
      unlinkSync(join(this.dir, this.closedSegments.shift()!.name));
    }
  }

  /** Deletes the segments found at open (the store made LMDB hold all their records). */
  deleteFound(): void {
    for (const name of this.found) unlinkSync(join(this.dir, name));
    this.found = [];
  }

  close(): void {
    if (this.closed) return;
    this.closeActive();
    this.closed = true;
  }

  private startSegment(firstSeq: number): { fd: number; name: string; bytes: number; lastSeq: number } {
    const name = segmentName(firstSeq);
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND | (this.durability === "sync" ? constants.O_DSYNC : 0);
    const fd = openSync(join(this.dir, name), flags, 0o600);
    if (this.durability === "sync") {
      // The new file's directory entry must survive a power loss too.
      const dirFd = openSync(this.dir, constants.O_RDONLY);
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    }
    this.active = { fd, name, bytes: 0, lastSeq: firstSeq - 1 };
    return this.active;
  }

  private closeActive(): void {
    if (this.active === null) return;
    closeSync(this.active.fd);
    if (this.active.bytes > 0) this.closedSegments.push({ name: this.active.name, lastSeq: this.active.lastSeq });
    else unlinkSync(join(this.dir, this.active.name));
    this.active = null;
  }
}
