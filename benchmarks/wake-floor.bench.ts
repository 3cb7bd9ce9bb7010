// The machine's wake-up floor (support/wake-floor.ts): the loopback round
// trip of one small message between two otherwise idle Node processes. A POS
// answer through this machine cannot be faster; its p99 is what the machine,
// not the daemon, spends of a p99 latency budget.
//
// Run: npm run build && node dist/benchmarks/wake-floor.bench.js [--seconds 3] [--rounds 3] [--every-ms 5]
// Prints one JSON line: medians over rounds of each round's p50, p90, p99, and the largest max.
// Run it alone for the quiet floor; the e2e benchmark measures it again during its window.
import { parseArgs } from "node:util";
import { median } from "./support/measure.js";
import { measureWakeFloor } from "./support/wake-floor.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "3" }, rounds: { type: "string", default: "3" }, "every-ms": { type: "string", default: "5" } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const everyMs = Number(values["every-ms"]);
const results = [];
for (let r = 0; r < rounds; r += 1) results.push((await measureWakeFloor(seconds * 1000, everyMs)).roundTripUs);
console.log(JSON.stringify({
  bench: "wake.floor", seconds, rounds, everyMs, roundTrips: results.reduce((n, s) => n + s.count, 0),
  p50Us: Math.round(median(results.map((s) => s.p50))), p90Us: Math.round(median(results.map((s) => s.p90))),
  p99Us: Math.round(median(results.map((s) => s.p99))), maxUs: Math.round(Math.max(...results.map((s) => s.max))),
}));
