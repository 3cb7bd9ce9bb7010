// Card number check digits (luhnValid): every card reference of every check
// is validated by it before any lookup.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { withCheckDigit } from "../seed.js";
import { luhnValid } from "./common.js";

/** The definition: 8-19 ASCII digits whose Luhn sum is a multiple of 10. */
function luhnReference(number: string): boolean {
  if (!/^\d{8,19}$/.test(number)) return false;
  let sum = 0;
  for (let i = 0; i < number.length; i += 1) {
    let d = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
}

describe("luhnValid", () => {
  it("accepts numbers with their check digit and refuses a changed digit, bad lengths and non-digits", () => {
    const card = withCheckDigit("277500000000000");
    expect(luhnValid(card)).toBe(true);
    expect(luhnValid(card.slice(0, -1) + String((Number(card.slice(-1)) + 1) % 10))).toBe(false);
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid(withCheckDigit("1234567"))).toBe(true); // 8 digits
    expect(luhnValid(withCheckDigit("123456"))).toBe(false); // 7 digits
    expect(luhnValid(withCheckDigit("123456789012345678"))).toBe(true); // 19 digits
    expect(luhnValid(withCheckDigit("1234567890123456789"))).toBe(false); // 20 digits
    for (const bad of ["", "0000 0000", "00000000\n", "+0000000000", "0000000/", "0000000:", "٠٠٠٠٠٠٠٠", "００００００００"]) expect(luhnValid(bad)).toBe(false);
  });

  it("agrees with the definition on arbitrary strings of digits and near-digits", () => {
    const chars = fc.constantFrom(..."0123456789/: +-a\u0660\uff10");
    fc.assert(fc.property(fc.array(chars, { maxLength: 22 }).map((cs) => cs.join("")), (s) => luhnValid(s) === luhnReference(s)), { numRuns: 5_000 });
    fc.assert(fc.property(fc.stringMatching(/^\d{6,21}$/), (s) => luhnValid(s) === luhnReference(s)), { numRuns: 5_000 });
  });
});
