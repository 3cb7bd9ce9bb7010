// The physical floor of a durable commit on this disk: one 4 KiB overwrite
// plus fdatasync, timed together (benchmarks/support/measure.ts
// measureFsyncFloor). A group commit in 'sync' durability cannot answer
// faster than this; the e2e benchmark measures it too, before each run, on
// the daemon's data directory.
//
// Run: npm run build && node dist/benchmarks/fsync.bench.js [--dir DIR] [--iterations 200] [--rounds 3]
// DIR defaults to the system temp directory (where --spawn puts its data).
// Prints one JSON line: median over rounds of each round's median, p90, max.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureFsyncFloor, median } from "./support/measure.js";

const { values } = parseArgs({ options: { dir: { type: "string" }, iterations: { type: "string", default: "200" }, rounds: { type: "string", default: "3" } } });
const iterations = Number(values.iterations);
const rounds = Number(values.rounds);
const dir = mkdtempSync(join(values.dir ?? tmpdir(), "loyalty-fsync-"));
try {
  const results = Array.from({ length: rounds }, () => measureFsyncFloor(dir, iterations));
  console.log(JSON.stringify({
    bench: "fsync.floor", iterations, rounds,
    medianUs: Math.round(median(results.map((r) => r.medianUs))), p90Us: Math.round(median(results.map((r) => r.p90Us))),
    maxUs: Math.round(Math.max(...results.map((r) => r.maxUs))),
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
