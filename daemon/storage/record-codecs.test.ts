// The fixed-schema record codecs: lossless over random records, deterministic,
// smaller than the generic encoding, and strict about what they do not know.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../assert.js";
import type { Account, CheckRecord } from "../engine/model.js";
import { decodeValue, encodeValue } from "./encoding.js";
import { codecOf, decodeStored, encodeStored } from "./record-codecs.js";

const text = fc.string({ maxLength: 24 });
const int = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });
const time = fc.integer({ min: 0, max: 2 ** 45 });

const account: fc.Arbitrary<Account> = fc.record({
  lots: fc.array(fc.record({ id: text, pts: int, act: time, exp: time }), { maxLength: 6 }),
  holds: fc.array(fc.record({ check: text, pts: int, exp: time }), { maxLength: 3 }),
  debt: int,
  bal: int,
  tier: text,
  spend: fc.array(fc.tuple(fc.nat(), int, int), { maxLength: 13 }),
  lastPurchaseAt: time,
  welcomeGranted: fc.boolean(),
  seq: fc.nat(),
});

const check: fc.Arbitrary<CheckRecord> = fc.record({
  id: text,
  state: fc.constantFrom("calculated", "confirmed", "cancelled", "refunded"),
  store: text,
  terminal: text,
  cashier: text,
  card: text,
  op: text,
  createdAt: time,
  expiresAt: time,
  confirmedAt: time,
  receipt: text,
  lines: fc.array(fc.record({
    sku: text, grp: text, qty: int, price: int, amt: int, disc: int, rpts: int, rmin: int, apts: int, promos: fc.array(text, { maxLength: 3 }), rq: int,
  }), { maxLength: 6 }),
  total: int,
  discount: int,
  redeem: int,
  redeemMinor: int,
  accrue: int,
  promos: fc.array(fc.record({ id: text, name: text, reason: text, discount: int, points: int }), { maxLength: 3 }),
  receiptLines: fc.array(text, { maxLength: 4 }),
  gift: fc.array(fc.record({ card: text, amt: int, ret: int }), { maxLength: 2 }),
  consumed: fc.array(fc.record({ id: text, pts: int, act: time, exp: time }), { maxLength: 3 }),
  refundedMinor: int,
  refunds: fc.nat(),
  offline: fc.boolean(),
});

const cases = [["accounts", account], ["checks", check]] as const;

describe.each(cases)("the %s record codec", (table, arbitrary) => {
  const codec = codecOf(table);

  it("round-trips every record exactly, field order included", () => {
    fc.assert(fc.property(arbitrary as fc.Arbitrary<object>, (record) => {
      const decoded = decodeStored<object>(codec, encodeStored(codec, record));
      expect(decoded).toEqual(record);
      // The same field order as the model, so a re-encoding gives the same bytes.
      expect(JSON.stringify(decoded)).toBe(JSON.stringify(record));
    }), { numRuns: 300 });
  });

  it("gives bytes that depend only on the record, and fewer than the generic encoding", () => {
    fc.assert(fc.property(arbitrary as fc.Arbitrary<object>, (record) => {
      const bytes = encodeStored(codec, record);
      expect(encodeStored(codec, structuredClone(record)).equals(bytes)).toBe(true);
      expect(bytes.length).toBeLessThan(encodeValue(record).length);
    }), { numRuns: 100 });
  });

  it("refuses a record with a field it does not know, and a stored record of another kind", () => {
    const record = fc.sample(arbitrary as fc.Arbitrary<object>, { numRuns: 1, seed: 7 })[0]!;
    expect(() => encodeStored(codec, { ...record, extra: 1 })).toThrow(AssertionError);
    const other = cases.find(([t]) => t !== table)!;
    const foreign = encodeStored(codecOf(other[0]), fc.sample(other[1] as fc.Arbitrary<object>, { numRuns: 1, seed: 7 })[0]!);
    expect(() => decodeStored(codec, foreign)).toThrow(AssertionError);
    expect(() => decodeStored(codec, encodeValue([codec!.tag, "too", "short"]))).toThrow(AssertionError);
  });

  it("stores plain values (not records) in the generic encoding, and refuses arrays", () => {
    for (const value of [5, "x", true, null]) {
      const bytes = encodeStored(codec, value);
      expect(bytes.equals(encodeValue(value))).toBe(true);
      expect(decodeStored(codec, bytes)).toBe(value);
    }
    expect(() => encodeStored(codec, [1, 2])).toThrow(AssertionError);
  });
});

describe("tables without a record codec", () => {
  it("use the generic encoding unchanged", () => {
    expect(codecOf("activity")).toBeUndefined();
    const value = { a: 1, list: [1, 2] };
    expect(encodeStored(undefined, value).equals(encodeValue(value))).toBe(true);
    expect(decodeStored(undefined, encodeValue(value))).toEqual(decodeValue(encodeValue(value)));
  });
});
