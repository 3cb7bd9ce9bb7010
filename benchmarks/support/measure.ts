// Measurement helpers shared by the benchmarks: latency samples with exact
// percentiles, CPU time of processes and threads from /proc, the fsync floor
// of a directory, and the machine description every result must carry.
//
// Samples are kept in a preallocated Float64Array and sorted once at the end:
// a benchmark records at most rate × seconds of them, so exact percentiles
// cost a few MiB and one sort, and need no histogram library.
import { closeSync, fdatasyncSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

/** Percentiles every latency table reports. */
export const reportedQuantiles = [0.5, 0.9, 0.99, 0.999] as const;

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** A bounded recorder of latencies (any unit; the benchmarks use microseconds). */
export class Samples {
  private readonly values: Float64Array;
  private length = 0;
  /** Samples that did not fit; reported so a too-small bound is never silent. */
  dropped = 0;

  constructor(readonly capacity: number) {
    this.values = new Float64Array(capacity);
  }

  record(value: number): void {
    if (this.length < this.capacity) this.values[this.length++] = value;
    else this.dropped += 1;
  }

  get count(): number {
    return this.length;
  }

  summary(): LatencySummary {
    const n = this.length;
    if (n === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
    const sorted = this.values.slice(0, n).sort();
    let sum = 0;
    for (let i = 0; i < n; i += 1) sum += sorted[i]!;
    // Nearest-rank percentile: the smallest sample with at least q·n samples at or below it.
    const at = (q: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
    return { count: n, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted[n - 1]!, mean: sum / n };
  }
}

/** Median of numbers (the middle one, or the mean of the two middle ones); NaN entries are ignored, Infinity counts. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

// ---------------------------------------------------------------------------
// CPU time from /proc (Linux). Ticks are USER_HZ, 100 on every Linux we run on.
// ---------------------------------------------------------------------------

const clockTicksPerSecond = 100;

export interface ThreadCpu {
  readonly tid: number;
  readonly name: string;
  /** user + system CPU seconds since the thread started. */
  readonly seconds: number;
}

/** Parses utime + stime of a /proc/.../stat line; the name (comm) may hold spaces and parentheses. */
function parseStat(text: string): { name: string; seconds: number } {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const rest = text.slice(close + 2).split(" ");
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const ticks = Number(rest[11]) + Number(rest[12]);
  return { name: text.slice(open + 1, close), seconds: ticks / clockTicksPerSecond };
}

/** CPU seconds of a whole process (all its threads, not its children). */
export function processCpuSeconds(pid: number): number {
  return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8")).seconds;
}

/** CPU seconds of every thread of a process; the thread whose tid is the pid is the main (event-loop) thread. */
export function threadCpu(pid: number): ThreadCpu[] {
  const threads: ThreadCpu[] = [];
  for (const entry of readdirSync(`/proc/${pid}/task`)) {
    try {
      const { name, seconds } = parseStat(readFileSync(`/proc/${pid}/task/${entry}/stat`, "utf8"));
      threads.push({ tid: Number(entry), name, seconds });
    } catch {
      // The thread exited between readdir and read: it no longer uses CPU, nothing to count.
    }
  }
  return threads;
}

/** Busy and total CPU seconds of the whole machine (all cores) from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / clockTicksPerSecond, total: (busy + idle + iowait) / clockTicksPerSecond };
}

/** CPU% (100 = one core) of each thread between two snapshots, busiest first; threads that used < 0.5% are summed as "other". */
export function threadCpuPercent(before: readonly ThreadCpu[], after: readonly ThreadCpu[], seconds: number, mainTid: number): { name: string; percent: number }[] {
  const start = new Map(before.map((t) => [t.tid, t.seconds]));
  const rows: { name: string; percent: number }[] = [];
  let other = 0;
  for (const t of after) {
    const percent = ((t.seconds - (start.get(t.tid) ?? 0)) / seconds) * 100;
    const name = t.tid === mainTid ? `${t.name} (main/event loop)` : t.name;
    if (percent >= 0.5) rows.push({ name, percent });
    else other += percent;
  }
  rows.sort((a, b) => b.percent - a.percent);
  if (other > 0) rows.push({ name: "other threads", percent: other });
  return rows;
}

// ---------------------------------------------------------------------------
// fsync floor
// ---------------------------------------------------------------------------

export interface FsyncFloor {
  readonly iterations: number;
  readonly medianUs: number;
  readonly p90Us: number;
  readonly maxUs: number;
}

/**
 * The cheapest durable write this disk offers: one 4 KiB write at offset 0 of
 * a file in `dir`, then fdatasync, timed together, `iterations` times. A
 * durable LMDB commit cannot be faster than this (it does at least one
 * fdatasync of the data pages plus a synchronous meta-page write).
 */
export function measureFsyncFloor(dir: string, iterations = 200): FsyncFloor {
  const path = join(dir, "fsync-floor.tmp");
  const page = Buffer.alloc(4096, 0x5a);
  const fd = openSync(path, "w");
  const samples = new Samples(iterations);
  try {
    // The first write allocates the block; time only overwrites, like LMDB's page updates.
    writeSync(fd, page, 0, page.length, 0);
    fdatasyncSync(fd);
    for (let i = 0; i < iterations; i += 1) {
      page[0] = i & 0xff;
      const start = performance.now();
      writeSync(fd, page, 0, page.length, 0);
      fdatasyncSync(fd);
      samples.record((performance.now() - start) * 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  const s = samples.summary();
  return { iterations, medianUs: s.p50, p90Us: s.p90, maxUs: s.max };
}

// ---------------------------------------------------------------------------
// Machine
// ---------------------------------------------------------------------------

export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly loadAverageAtStart: string;
}

export function machineInfo(): MachineInfo {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? "unknown";
  return {
    nproc: cpus().length,
    cpuModel: model.trim(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverageAtStart: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
  };
}
