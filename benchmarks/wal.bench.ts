// The write-ahead log's append: the store's durability point (wal.ts), next to
// the disk's floor. Times WriteAheadLog.append of batches of 1, 8 and 64
// POS-sized records (sync: O_DSYNC), one append at a time like the store, and
// again while another thread does what a checkpoint does to the disk (random
// 4 KiB page writes, then fdatasync) — the two share the disk.
//
// Run: npm run build && node dist/benchmarks/wal.bench.js [--appends 1000] [--record-bytes 300]
// Prints the machine, then one JSON line per configuration (latencies in ms).
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { encodeJournalEntry } from "../daemon/storage/journal.js";
import { frameRecord, walRecordHeaderBytes, WriteAheadLog } from "../daemon/storage/wal.js";

const { values } = parseArgs({ options: { appends: { type: "string", default: "1000" }, "record-bytes": { type: "string", default: "300" } } });
const appends = Number(values.appends);
const recordBytes = Number(values["record-bytes"]);

function batch(firstSeq: number, records: number): Buffer {
  const payloads = Array.from({ length: records }, (_, i) => encodeJournalEntry(firstSeq + i, 0, { pad: "x".repeat(recordBytes) }));
  const out = Buffer.allocUnsafe(payloads.reduce((sum, p) => sum + walRecordHeaderBytes + p.length, 0));
  let offset = 0;
  for (const payload of payloads) offset = frameRecord(out, offset, payload);
  return out;
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

async function run(records: number, background: boolean): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-wal-bench-"));
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = background
    ? new Worker(
      `const fs = require("node:fs"); const { workerData } = require("node:worker_threads");
       const fd = fs.openSync(workerData.file, "w+"); fs.ftruncateSync(fd, 256 << 20);
       const page = Buffer.alloc(4096, 1);
       while (Atomics.load(workerData.stop, 0) === 0) {
         for (let i = 0; i < 300; i++) fs.writeSync(fd, page, 0, 4096, Math.floor(Math.random() * 65536) * 4096);
         fs.fdatasyncSync(fd);
       }
       fs.closeSync(fd);`,
      { eval: true, workerData: { file: join(dir, "checkpoint-like.dat"), stop } },
    )
    : null;
  const wal = new WriteAheadLog(dir, "sync", []);
  const ms: number[] = [];
  let seq = 1;
  try {
    for (let i = 0; i < appends; i++) {
      const bytes = batch(seq, records);
      const start = performance.now();
      await wal.append(bytes, seq, seq + records - 1);
      ms.push(performance.now() - start);
      seq += records;
    }
  } finally {
    wal.close();
    Atomics.store(stop, 0, 1);
    if (worker) await new Promise((resolve) => worker.once("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  }
  ms.sort((a, b) => a - b);
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return { bench: `wal.append.${records}-records${background ? ".with-checkpoint-io" : ""}`, records, recordBytes, background, appends, p50: round(percentile(ms, 0.5)), p90: round(percentile(ms, 0.9)), p99: round(percentile(ms, 0.99)) };
}

console.log(JSON.stringify({ machine: cpus()[0]?.model.trim(), cores: cpus().length, node: process.version, date: new Date().toISOString() }));
for (const background of [false, true]) {
  for (const records of [1, 8, 64]) console.log(JSON.stringify(await run(records, background)));
}
