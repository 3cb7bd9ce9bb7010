// Small helpers shared by the network tests.
import { expect } from "vitest";
import type { Response } from "../../../protocol/codec.js";

/** The single answer of a batch of one. */
export function only(responses: Response[]): Response {
  expect(responses).toHaveLength(1);
  return responses[0]!;
}

/** Lets every pending promise continuation run: ordering, not a timed wait. */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A seeded xorshift32 generator of floats in [0, 1); tests print the seed on failure. */
export function seededRandom(seed: number): () => number {
  let state = seed | 0 || 1;
  return () => {
    state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** A permutation of 0..n-1 drawn from `random` (Fisher–Yates). */
export function shuffled(n: number, random: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
