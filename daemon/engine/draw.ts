// Prize draws (SPEC E7): winners among eligible cardholders, chosen from a
// recorded seed so anyone can re-run the draw and get the same winners.
//
// The entrants are customer ids (not card numbers: the list is meant to be
// published), sorted. Winner k is picked from the entrants not yet drawn by
// a partial Fisher–Yates shuffle whose k-th index is the first 48 bits of
// HMAC-SHA256(seed, "<drawId>:<k>") modulo the number left (the modulo bias
// is below 2^-28 for any real chain). `drawWinners` is the whole rule; the
// admin channel records the seed, the entrants' count and SHA-256, and the
// winners, and credits the winners' points through the journal.
import { createHash, createHmac } from "node:crypto";

export interface DrawRecord {
  id: string;
  seed: string;
  at: number;
  actor: string;
  entrants: number;
  /** SHA-256 (hex) of the sorted entrant ids joined by "\n". */
  entrantsSha256: string;
  winners: { customerId: string; card: string }[];
  points: number;
  reason: string;
}

export function entrantsDigest(sortedEntrants: readonly string[]): string {
  return createHash("sha256").update(sortedEntrants.join("\n")).digest("hex");
}

/** Indexes into `sortedEntrants` of the winners, in draw order. */
export function drawWinners(seed: string, drawId: string, sortedEntrants: readonly string[], count: number): number[] {
  const order = sortedEntrants.map((_, i) => i);
  const n = Math.min(count, order.length);
  for (let k = 0; k < n; k += 1) {
    const mac = createHmac("sha256", seed).update(`${drawId}:${k}`).digest();
    const r = mac.readUIntBE(0, 6) % (order.length - k);
    const j = k + r;
    [order[k], order[j]] = [order[j]!, order[k]!];
  }
  return order.slice(0, n);
}
