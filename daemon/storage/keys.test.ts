// Key rules and key order: compareKeys must order exactly like LMDB stores
// keys (UTF-8 bytes), or scans that merge the overlay with LMDB would return
// keys out of order or twice.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { AssertionError } from "../assert.js";
import { assertKey, compareKeys } from "./keys.js";
import { keyBytesMax } from "./limits.js";
import { tempStores } from "./test-support/temp-store.js";

const stores = tempStores();
afterEach(() => stores.cleanup());

const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
const validKey = fc
  .string({ unit: "binary", minLength: 1, maxLength: 12 })
  .filter((key) => key.charCodeAt(0) >= 0x20);

describe("compareKeys", () => {
  it("orders like UTF-8 bytes, including astral and private-use characters", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(byUtf8(a, b)));
      }),
      { numRuns: 2_000 },
    );
    // The case plain `<` gets wrong: U+E000 sorts after U+1F600 in UTF-16 units, before it in UTF-8.
    expect(compareKeys("\uE000", "\u{1F600}")).toBeLessThan(0);
    expect("\uE000" < "\u{1F600}").toBe(false);
  });

  it("agrees with the order LMDB returns, before and after the keys are durable", async () => {
    const keys = fc.sample(fc.uniqueArray(validKey, { minLength: 50, maxLength: 50 }), { numRuns: 1, seed: 7 })[0]!;
    const store = await stores.open(stores.dir());
    const written = store.submit(null, 1, (tx) => {
      for (const key of keys) tx.put("accounts", key, key);
    });
    const sorted = [...keys].sort(compareKeys);
    expect(store.scan("accounts", "", 100).map(([key]) => key)).toEqual(sorted); // overlay only
    await written;
    expect(store.scan("accounts", "", 100).map(([key]) => key)).toEqual(sorted); // LMDB only
    // Half rewritten (overlay) over the durable half: the merge must interleave correctly.
    const rewrite = store.submit(null, 2, (tx) => {
      for (const key of keys.slice(0, 25)) tx.put("accounts", key, `${key}!`);
    });
    expect(store.scan("accounts", "", 100).map(([key]) => key)).toEqual(sorted);
    await rewrite;
  });
});

describe("assertKey", () => {
  it("accepts ids and rejects what LMDB or the key order cannot represent", () => {
    for (const key of ["a", "m1/4000123412341234", "é".repeat(keyBytesMax / 2 - 1), "x".repeat(keyBytesMax), "\u{1F600}"]) {
      expect(() => assertKey(key)).not.toThrow();
    }
    for (const key of ["", "\u0000a", "\u001bx", "a\ud800", "\udc00", "x".repeat(keyBytesMax + 1), "é".repeat(keyBytesMax / 2 + 1)]) {
      expect(() => assertKey(key), JSON.stringify(key)).toThrow(AssertionError);
    }
  });
});
