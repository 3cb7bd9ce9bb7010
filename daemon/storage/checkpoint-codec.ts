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
//       key (UTF-8), i32 value length (-1 = delete), value bytes
//   f64 lastSeq
import { tables, type Table } from "../engine/tx.js";
import { assert } from "../assert.js";

export interface CheckpointWrite {
  readonly table: Table;
  readonly key: string;
  /** null = delete */
  readonly bytes: Buffer | null;
}

export interface CheckpointContent {
  readonly journal: readonly { readonly seq: number; readonly bytes: Uint8Array }[];
  readonly writes: readonly CheckpointWrite[];
  readonly lastSeq: number;
}

const tableIndex = new Map<Table, number>(tables.map((table, i) => [table, i]));
assert(tables.length < 256, "table indexes must fit a byte");

export function encodeCheckpoint(content: CheckpointContent): Buffer {
  let bound = 4 + 4 + 8;
  for (const entry of content.journal) bound += 12 + entry.bytes.length;
  // A UTF-16 code unit takes at most 3 UTF-8 bytes.
  for (const write of content.writes) bound += 7 + write.key.length * 3 + (write.bytes?.length ?? 0);
  // Its own ArrayBuffer (not Node's shared pool), so it can be transferred.
  const out = Buffer.allocUnsafeSlow(bound);
  let offset = out.writeUInt32LE(content.journal.length, 0);
  for (const entry of content.journal) {
    offset = out.writeDoubleLE(entry.seq, offset);
    offset = out.writeUInt32LE(entry.bytes.length, offset);
    out.set(entry.bytes, offset);
    offset += entry.bytes.length;
  }
  offset = out.writeUInt32LE(content.writes.length, offset);
  for (const write of content.writes) {
    offset = out.writeUInt8(tableIndex.get(write.table)!, offset);
    const keyBytes = out.write(write.key, offset + 2, "utf8");
    out.writeUInt16LE(keyBytes, offset);
    offset += 2 + keyBytes;
    if (write.bytes === null) {
      offset = out.writeInt32LE(-1, offset);
    } else {
      offset = out.writeInt32LE(write.bytes.length, offset);
      out.set(write.bytes, offset);
      offset += write.bytes.length;
    }
  }
  offset = out.writeDoubleLE(content.lastSeq, offset);
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
