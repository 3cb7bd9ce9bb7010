// The checkpoint buffer carries every journal entry and write exactly, in
// order, including deletes, empty values and keys beyond ASCII.
import { describe, expect, it } from "vitest";
import { decodeCheckpoint, encodeCheckpoint, type CheckpointContent } from "./checkpoint-codec.js";

describe("checkpoint codec", () => {
  it("decodes what was encoded, item for item", () => {
    const content: CheckpointContent = {
      journal: [
        { seq: 41, bytes: Buffer.from("first entry") },
        { seq: 42, bytes: Buffer.alloc(0) },
      ],
      writes: [
        { table: "accounts", key: "demo/2775000000000019", bytes: Buffer.from([1, 2, 3]) },
        { table: "idempotency", key: "demo/t1/op-ä€𝄞", bytes: null },
        { table: "meta", key: "k", bytes: Buffer.alloc(0) },
        { table: "checks", key: "x".repeat(511), bytes: Buffer.alloc(70_000, 7) },
      ],
      lastSeq: 42,
    };
    const encoded = encodeCheckpoint(content);
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
      ["lastSeq", 42],
    ]);
  });
});
