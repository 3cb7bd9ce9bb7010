// Operations per second of a synchronous function: run it for `seconds`,
// `rounds` times, and take the median round. The clock is read once every
// 256 calls so reading it does not dominate sub-microsecond operations.
import { median } from "./measure.js";

export interface Throughput {
  readonly opsPerSecMedian: number;
  readonly opsPerSecRounds: number[];
}

export function throughput(fn: (i: number) => void, seconds: number, rounds: number): Throughput {
  const rates: number[] = [];
  let n = 0;
  for (let r = 0; r < rounds; r += 1) {
    const start = performance.now();
    const end = start + seconds * 1000;
    let count = 0;
    while ((count & 255) !== 0 || performance.now() < end) { fn(n); n += 1; count += 1; }
    rates.push(Math.round(count / ((performance.now() - start) / 1000)));
  }
  return { opsPerSecMedian: Math.round(median(rates)), opsPerSecRounds: rates };
}
