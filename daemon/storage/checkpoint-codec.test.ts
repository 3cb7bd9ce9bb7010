// The checkpoint buffer carries every journal entry and write exactly, in
// order (a key written twice comes twice, the later last), including
// deletes, empty values and keys beyond ASCII.
import { describe, expect, it } from "vitest";
import { decodeCheckpoint, encodeCheckpoint, type CheckpointBatch } from "./checkpoint-codec.js";

describe("checkpoint codec", () => {
  it("decodes what was encoded, item for item", () => {
    const batches: CheckpointBatch[] = [
      {
        journalSeqs: [41],
        journalBytes: [Buffer.from("first entry")],
        touchedTables: ["accounts", "idempotency"],
        touchedKeys: ["demo/2775000000000019", "demo/t1/op-ä€𝄞"],
        touchedBytes: [Buffer.from([1, 2, 3]), null],
      },
      {
        journalSeqs: [42],
        journalBytes: [Buffer.alloc(0)],
        touchedTables: ["meta", "checks", "accounts"],
        touchedKeys: ["k", "x".repeat(511), "demo/2775000000000019"],
        touchedBytes: [Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from([4])],
      },
    ];
    const encoded = encodeCheckpoint(batches, 42);
    expect(encoded.byteOffset).toBe(0); // transferable: starts its own ArrayBuffer
    const seen: unknown[] = [];
    decodeCheckpoint(Buffer.from(encoded.buffer, 0, encoded.length), {
      journal: (seq, bytes) => seen.push(["journal", seq, Buffer.from(bytes)]),
      put: (table, key, bytes) => seen.push(["put", table, key, Buffer.from(bytes)]),
      remove: (table, key) => seen.push(["remove", table, key]),
      lastSeq: (seq) => seen.push(["lastSeq", seq]),
    });
    expect(seen).toEqual([
      ["journal", 41, Buffer.from("first entry")],
      ["journal", 42, Buffer.alloc(0)],
      ["put", "accounts", "demo/2775000000000019", Buffer.from([1, 2, 3])],
      ["remove", "idempotency", "demo/t1/op-ä€𝄞"],
      ["put", "meta", "k", Buffer.alloc(0)],
      ["put", "checks", "x".repeat(511), Buffer.alloc(70_000, 7)],
      // Written by both batches: both in order, the later one last.
      ["put", "accounts", "demo/2775000000000019", Buffer.from([4])],
      ["lastSeq", 42],
    ]);
  });
});
