// One checkpoint as a single transferable buffer: what the event loop hands
// to the checkpoint thread (checkpoint-worker.ts), which writes it into LMDB
// in one transaction.
//
// Why a hand-made buffer: the writes are thousands of small Buffers that
// mostly share Node's 8 KiB allocation pool; posting them as they are would
// copy every pool they touch. Packing costs one memcpy per value.
//
// Layout (little-endian):
//   u32 journal entries, then per entry: f64 seq, u32 length, bytes
//   u32 writes, then per write: u8 table index (in `tables`), u16 key length,
//       key (UTF-8), i32 value length (-1 = delete), value bytes (a key may
//       appear more than once: apply in order)
//   f64 lastSeq
import { tables, type Table } from "../engine/tx.js";
import { assert } from "../assert.js";

/** What a checkpoint copies: batches in order, each with its journal entries and writes. */
export interface CheckpointBatch {
  readonly journalSeqs: readonly number[];
  readonly journalBytes: readonly Uint8Array[];
  readonly touchedTables: readonly Table[];
  readonly touchedKeys: readonly string[];
  /** null = delete */
  readonly touchedBytes: readonly (Buffer | null)[];
}

const tableIndex = new Map<Table, number>(tables.map((table, i) => [table, i]));
assert(tables.length < 256, "table indexes must fit a byte");

/**
 * Every journal entry, then every write, batch after batch: a key written by
 * two batches appears twice and the later one wins when applied in order.
 * (Keeping only the newest bytes per key cost more on the event loop than it
 * saved the checkpoint thread.)
 */
export function encodeCheckpoint(batches: readonly CheckpointBatch[], lastSeq: number): Buffer {
  let bound = 4 + 4 + 8;
  let journalCount = 0;
  let writeCount = 0;
  for (const batch of batches) {
    journalCount += batch.journalSeqs.length;
    writeCount += batch.touchedKeys.length;
    for (const bytes of batch.journalBytes) bound += 12 + bytes.length;
    for (let i = 0; i < batch.touchedKeys.length; i++) {
      // A UTF-16 code unit takes at most 3 UTF-8 bytes.
      bound += 7 + batch.touchedKeys[i]!.length * 3 + (batch.touchedBytes[i]?.length ?? 0);
    }
  }
  // Its own ArrayBuffer (not Node's shared pool), so it can be transferred.
  const out = Buffer.allocUnsafeSlow(bound);
  let offset = out.writeUInt32LE(journalCount, 0);
  for (const batch of batches) {
    for (let i = 0; i < batch.journalSeqs.length; i++) {
      const bytes = batch.journalBytes[i]!;
      offset = out.writeDoubleLE(batch.journalSeqs[i]!, offset);
      offset = out.writeUInt32LE(bytes.length, offset);
      out.set(bytes, offset);
      offset += bytes.length;
    }
  }
  offset = out.writeUInt32LE(writeCount, offset);
  for (const batch of batches) {
    for (let i = 0; i < batch.touchedKeys.length; i++) {
      out[offset] = tableIndex.get(batch.touchedTables[i]!)!;
      const keyBytes = out.write(batch.touchedKeys[i]!, offset + 3, "utf8");
      out.writeUInt16LE(keyBytes, offset + 1);
      offset += 3 + keyBytes;
      const bytes = batch.touchedBytes[i]!;
      if (bytes === null) {
        offset = out.writeInt32LE(-1, offset);
      } else {
        offset = out.writeInt32LE(bytes.length, offset);
        out.set(bytes, offset);
        offset += bytes.length;
      }
    }
  }
  offset = out.writeDoubleLE(lastSeq, offset);
  return out.subarray(0, offset);
}

/** Where a decoded checkpoint goes (the worker's LMDB transaction; tests use arrays). */
export interface CheckpointSink {
  journal(seq: number, bytes: Buffer): void;
  put(table: Table, key: string, bytes: Buffer): void;
  remove(table: Table, key: string): void;
  lastSeq(seq: number): void;
}

/** Feeds every item of an encoded checkpoint to `sink`, in encoding order (values are views into `data`). */
export function decodeCheckpoint(data: Buffer, sink: CheckpointSink): void {
  let offset = 0;
  const journalCount = data.readUInt32LE(offset);
  offset += 4;
  for (let i = 0; i < journalCount; i++) {
    const seq = data.readDoubleLE(offset);
    const length = data.readUInt32LE(offset + 8);
    offset += 12;
    sink.journal(seq, data.subarray(offset, offset + length));
    offset += length;
  }
  const writeCount = data.readUInt32LE(offset);
  offset += 4;
  for (let i = 0; i < writeCount; i++) {
    const table = tables[data.readUInt8(offset)];
    assert(table !== undefined, "checkpoint names an unknown table");
    const keyLength = data.readUInt16LE(offset + 1);
    offset += 3;
    const key = data.toString("utf8", offset, offset + keyLength);
    offset += keyLength;
    const valueLength = data.readInt32LE(offset);
    offset += 4;
    if (valueLength < 0) {
      sink.remove(table, key);
    } else {
      sink.put(table, key, data.subarray(offset, offset + valueLength));
      offset += valueLength;
    }
  }
  sink.lastSeq(data.readDoubleLE(offset));
  assert(offset + 8 === data.length, "checkpoint has trailing bytes");
}
