// The write-ahead log on its own: what recovery reads back after clean
// appends, torn tails, damage and failed writes, and which segments go.
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeJournalEntry } from "./journal.js";
import { assertChildBuilt, crashChildEntry, runChild } from "./test-support/crash-child-process.js";
import { frameRecord, readWal, walRecordHeaderBytes, WriteAheadLog } from "./wal.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
beforeAll(() => assertChildBuilt());

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-wal.test-"));
  dirs.push(dir);
  return dir;
}

/** Framed records for seqs first..last (command = { n: seq }). */
function framed(first: number, last: number): Buffer {
  const payloads = [];
  for (let seq = first; seq <= last; seq++) payloads.push(encodeJournalEntry(seq, 1_000 + seq, { n: seq }));
  const out = Buffer.alloc(payloads.reduce((sum, p) => sum + walRecordHeaderBytes + p.length, 0));
  let offset = 0;
  for (const payload of payloads) offset = frameRecord(out, offset, payload);
  return out;
}

const seqsOf = (dir: string): number[] => readWal(dir).records.map((record) => record.seq);

describe("write-ahead log", () => {
  it("gives back every appended record in order, with its time and command", async () => {
    const dir = tempDir();
    const wal = new WriteAheadLog(dir, "sync", []);
    await wal.append(framed(1, 3), 1, 3);
    await wal.append(framed(4, 4), 4, 4);
    wal.close();
    const { records, discardedTailBytes } = readWal(dir);
    expect(records.map((r) => [r.seq, r.at, r.command])).toEqual([1, 2, 3, 4].map((n) => [n, 1_000 + n, { n }]));
    expect(discardedTailBytes).toBe(0);
  });

  it("ends the log at a torn or corrupt record of the newest segment (a write a crash cut short was never acknowledged)", async () => {
    const dir = tempDir();
    const wal = new WriteAheadLog(dir, "sync", []);
    await wal.append(framed(1, 2), 1, 2);
    wal.close();
    const [segment] = readdirSync(dir);
    const path = join(dir, segment!);
    const intact = readFileSync(path);
    // Half a record.
    appendFileSync(path, framed(3, 3).subarray(0, 10));
    expect(seqsOf(dir)).toEqual([1, 2]);
    expect(readWal(dir).discardedTailBytes).toBe(10);
    // A whole record with a flipped payload byte.
    const bad = framed(3, 3);
    bad[bad.length - 1]! ^= 0xff;
    writeFileSync(path, Buffer.concat([intact, bad]));
    expect(seqsOf(dir)).toEqual([1, 2]);
  });

  it("refuses damage in an older segment and gaps between segments", async () => {
    const dir = tempDir();
    const wal = new WriteAheadLog(dir, "sync", [], 1); // every append closes its segment
    await wal.append(framed(1, 2), 1, 2);
    await wal.append(framed(3, 3), 3, 3);
    wal.close();
    const [older, newer] = readdirSync(dir).sort();
    expect(seqsOf(dir)).toEqual([1, 2, 3]);
    const olderBytes = readFileSync(join(dir, older!));
    const damaged = Buffer.from(olderBytes);
    damaged[damaged.length - 1]! ^= 0xff;
    writeFileSync(join(dir, older!), damaged);
    expect(() => readWal(dir)).toThrow(/is damaged .* not the newest/);
    writeFileSync(join(dir, older!), olderBytes.subarray(0, olderBytes.length / 2 + 4)); // drops record 2 whole or part
    expect(() => readWal(dir)).toThrow(/refusing to start/);
    rmSync(join(dir, older!));
    rmSync(join(dir, newer!));
  });

  it("deletes only the closed segments a checkpoint covered", async () => {
    const dir = tempDir();
    const wal = new WriteAheadLog(dir, "none", [], 1);
    await wal.append(framed(1, 2), 1, 2); // segment of 1..2
    await wal.append(framed(3, 5), 3, 5); // segment of 3..5
    await wal.append(framed(6, 6), 6, 6); // segment of 6
    expect(readdirSync(dir)).toHaveLength(3);
    wal.deleteSegmentsThrough(4);
    expect(seqsOf(dir)).toEqual([3, 4, 5, 6]);
    wal.deleteSegmentsThrough(5);
    expect(seqsOf(dir)).toEqual([6]);
    wal.close();
  });

  it("cuts a failed append back, so none of its records is replayed", async () => {
    // A 512-byte file-size limit: the second append is written in part (a
    // short write with complete records in it) and must leave nothing.
    const dir = tempDir();
    const script = `
      process.on("SIGXFSZ", () => {});
      const { WriteAheadLog } = await import(${JSON.stringify(join(crashChildEntry, "..", "wal.js"))});
      const { records } = JSON.parse(process.argv[1]);
      const wal = new WriteAheadLog(process.argv[2], "sync", []);
      await wal.append(Buffer.from(records[0], "base64"), 1, 2);
      console.log("first ok");
      await wal.append(Buffer.from(records[1], "base64"), 3, 20).then(() => console.log("second ok"), (e) => console.log("second failed " + e.message));
    `;
    const first = framed(1, 2);
    const second = framed(3, 20);
    expect(first.length).toBeLessThan(300);
    expect(first.length + second.length).toBeGreaterThan(700);
    const run = runChild("sh", ["-c", 'ulimit -f 1 && exec "$0" "$@"', process.execPath, "--input-type=module", "-e", script,
      JSON.stringify({ records: [first.toString("base64"), second.toString("base64")] }), dir]);
    const exit = await run.finished;
    expect(exit.code, exit.stderr).toBe(0);
    expect(run.lines[0]).toBe("first ok");
    expect(run.lines[1]).toMatch(/^second failed write-ahead log append failed: .*short write/);
    expect(seqsOf(dir)).toEqual([1, 2]);
    expect(readWal(dir).discardedTailBytes).toBe(0);
  });
});
