// Integer arithmetic for money and points. Every rounding in the product goes
// through these functions, so the rules are written down once:
//
// - Amounts are integers (minor units or points). Results are integers.
// - Percentages are basis points (10000 = 100%).
// - Rates and shares round DOWN (floor) toward the customer's side being
//   conservative for points earned and for discounts: a point is never given
//   that the program did not promise.
// - When a total must be split across lines (points spent, points earned, a
//   fixed discount), `allocate` uses the largest-remainder method: parts are
//   proportional to weights, sum exactly to the total, and leftover units go to
//   the largest fractional remainders, ties to the earlier line. Same input,
//   same split, on every machine (no floating point).
import { assert, assertSafeInteger } from "../assert.js";

/** floor(a * b / c) for non-negative safe integers, exact even when a*b passes 2^53. */
export function mulDivFloor(a: number, b: number, c: number): number {
  assert(a >= 0 && b >= 0 && c > 0, `mulDivFloor(${a}, ${b}, ${c}) needs a, b >= 0 and c > 0`);
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER) {
    let q = Math.floor(product / c);
    // The float quotient can be off by one near integers; correct it exactly.
    let r = product - q * c;
    while (r < 0) { q -= 1; r += c; }
    while (r >= c) { q += 1; r -= c; }
    return q;
  }
  const q = Number((BigInt(a) * BigInt(b)) / BigInt(c));
  assertSafeInteger(q, "mulDivFloor result");
  return q;
}

/** floor(amount * bp / 10000). */
export function applyBp(amount: number, bp: number): number {
  return mulDivFloor(amount, bp, 10_000);
}

/**
 * Splits `total` into parts proportional to `weights` (largest remainder).
 * With all weights zero the total goes to the first index. Parts sum to total.
 */
export function allocate(total: number, weights: readonly number[]): number[] {
  assertSafeInteger(total, "allocate total");
  assert(total >= 0, "allocate total must be >= 0");
  const parts = weights.map(() => 0);
  if (total === 0 || weights.length === 0) {
    assert(total === 0, "allocate: nothing to allocate a non-zero total to");
    return parts;
  }
  let sum = 0;
  for (const w of weights) {
    assert(Number.isSafeInteger(w) && w >= 0, `allocate weight must be a non-negative integer: ${w}`);
    sum += w;
  }
  if (sum === 0) {
    parts[0] = total;
    return parts;
  }
  const remainders: { index: number; remainder: number }[] = [];
  let given = 0;
  for (let i = 0; i < weights.length; i += 1) {
    const w = weights[i]!;
    const exact = mulDivFloor(total, w, sum);
    parts[i] = exact;
    given += exact;
    // remainder = (total*w) mod sum, compared across lines; computed exactly.
    const rem = w === 0 ? -1 : Number((BigInt(total) * BigInt(w)) % BigInt(sum));
    remainders.push({ index: i, remainder: rem });
  }
  let left = total - given;
  assert(left >= 0 && left <= weights.length, "allocate: remainder out of range");
  remainders.sort((x, y) => y.remainder - x.remainder || x.index - y.index);
  for (let k = 0; left > 0; k += 1) {
    parts[remainders[k]!.index]! += 1;
    left -= 1;
  }
  return parts;
}

/**
 * Like `allocate`, but no part may exceed its cap (e.g. points on a line may
 * not pay for more than the line costs). Capped lines are fixed and the rest
 * re-split among the others. Requires total <= sum(caps).
 */
export function allocateCapped(total: number, weights: readonly number[], caps: readonly number[]): number[] {
  assert(weights.length === caps.length, "allocateCapped: weights and caps differ in length");
  const capSum = caps.reduce((a, b) => a + b, 0);
  assert(total <= capSum, `allocateCapped: total ${total} exceeds caps ${capSum}`);
  const parts = weights.map(() => 0);
  const open = new Set(weights.map((_, i) => i).filter((i) => caps[i]! > 0));
  let left = total;
  while (left > 0) {
    const indexes = [...open];
    const trial = allocate(left, indexes.map((i) => weights[i]!));
    let clipped = false;
    for (let k = 0; k < indexes.length; k += 1) {
      const i = indexes[k]!;
      if (parts[i]! + trial[k]! >= caps[i]!) {
        left -= caps[i]! - parts[i]!;
        parts[i] = caps[i]!;
        open.delete(i);
        clipped = true;
      }
    }
    if (!clipped) {
      for (let k = 0; k < indexes.length; k += 1) parts[indexes[k]!]! += trial[k]!;
      left = 0;
    } else if (open.size > 0 && [...open].every((i) => weights[i] === 0)) {
      // Only zero-weight lines remain: fill them in order up to their caps.
      for (const i of open) {
        const take = Math.min(left, caps[i]! - parts[i]!);
        parts[i]! += take;
        left -= take;
      }
    }
  }
  return parts;
}

/**
 * The part of `original` that corresponds to `doneQty` of `totalQty`, rounded
 * down. Refunds use cumulative shares: the n-th partial refund gives
 * share(done after) - share(done before), so partial refunds add up to exactly
 * the original when everything is returned, and never exceed it.
 */
export function cumulativeShare(original: number, doneQty: number, totalQty: number): number {
  assert(doneQty >= 0 && doneQty <= totalQty && totalQty > 0, "cumulativeShare: bad quantities");
  if (doneQty === totalQty) return original;
  return mulDivFloor(original, doneQty, totalQty);
}
