// The storage encoding: deterministic bytes (digests and replica comparison
// depend on them), buffers never reused under LMDB's feet, decoded values
// never sharing memory with what they were decoded from.
import { describe, expect, it } from "vitest";
import { AssertionError } from "../assert.js";
import { decodeValue, encodeValue } from "./encoding.js";
import { decodeJournalEntry, encodeJournalEntry } from "./journal.js";
import { valueBytesMax } from "./limits.js";

describe("encodeValue", () => {
  it("gives bytes that depend only on the value", () => {
    const value = () => ({ card: "4000123412341234", lots: [{ points: 150, expiresDay: 20_100 }], blocked: false, raw: new Uint8Array([1, 2]) });
    const first = encodeValue(value());
    encodeValue({ something: "else", in: ["between"] });
    expect(encodeValue(value()).equals(first)).toBe(true);
  });

  it("keeps its byte format: a msgpackr upgrade that changes it would change every digest", () => {
    expect(encodeValue({ a: 1, b: "x", c: [true, null], d: -2, e: 1.5, f: 2 ** 40 }).toString("hex")).toBe(
      "de0006a16101a162a178a163" + "92c3c0" + "a164fe" + "a165cb3ff8000000000000" + "a166cb4270000000000000",
    );
  });

  it("never rewrites a buffer it returned (LMDB writes it later, from another thread)", () => {
    const encoded = Array.from({ length: 5_000 }, (_, i) => encodeValue({ i, pad: "x".repeat(i % 50) }));
    const copies = encoded.map((bytes) => Buffer.from(bytes));
    for (let i = 0; i < 5_000; i++) encodeValue({ later: i, pad: "y".repeat(i % 70) });
    for (let i = 0; i < encoded.length; i++) expect(encoded[i]!.equals(copies[i]!)).toBe(true);
  });

  it("refuses undefined and oversized values", () => {
    expect(() => encodeValue(undefined)).toThrow(AssertionError);
    expect(() => encodeValue("x".repeat(valueBytesMax))).toThrow(AssertionError);
  });
});

describe("decodeValue", () => {
  it("returns values that share no memory with the input buffer", () => {
    const input = Buffer.from(encodeValue({ raw: new Uint8Array([7, 8, 9]), list: [1] }));
    const decoded = decodeValue<{ raw: Uint8Array; list: number[] }>(input);
    input.fill(0); // what LMDB does to its reused read buffer on the next read
    expect(Array.from(decoded.raw)).toEqual([7, 8, 9]);
    expect(decoded.list).toEqual([1]);
  });

  it("treats bytes that are not exactly one value as corruption", () => {
    const one = encodeValue({ a: 1 });
    expect(() => decodeValue(Buffer.concat([one, encodeValue(2)]))).toThrow(AssertionError);
    expect(() => decodeValue(one.subarray(0, one.length - 1))).toThrow(AssertionError);
    expect(() => decodeValue(Buffer.alloc(0))).toThrow(AssertionError);
  });
});

describe("journal entries", () => {
  it("round-trip and are checked against the seq they are stored under", () => {
    const bytes = encodeJournalEntry(42, 1_700_000_000_000, { t: "pos", op: "confirm" });
    expect(decodeJournalEntry(42, bytes)).toEqual({ seq: 42, at: 1_700_000_000_000, command: { t: "pos", op: "confirm" } });
    expect(() => decodeJournalEntry(43, bytes)).toThrow(AssertionError);
    expect(() => encodeJournalEntry(0, 1, {})).toThrow(AssertionError);
    expect(() => encodeJournalEntry(1, 1.5, {})).toThrow(AssertionError);
    expect(() => encodeJournalEntry(1, 1, undefined)).toThrow(AssertionError);
  });
});
