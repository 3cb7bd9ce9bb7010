// Proof of the durability promise at the syscall level: in 'sync' mode, a
// command is answered only after its data reached the disk.
//
// The crash test (SIGKILL) cannot show this: a killed process's writes still
// reach the disk through the OS page cache, fsync or not. Only power loss
// tells the difference, so instead we trace the child's syscalls (strace) and
// check the order the store promises (see store.ts and wal.ts):
//   the command's write-ahead log record written through an O_DSYNC fd
//   → and only then the answer (the "ack" line written to stdout);
//   and every checkpoint into LMDB: data pages written → fdatasync() → meta
//   page written via an O_DSYNC fd (LMDB's own commit order).
// The same check must fail for 'none' durability (no O_DSYNC, no
// fdatasync), which shows the check can tell the two apart.
//
// Requires strace (and ptrace permission); .ci/run installs it. Where it is
// missing the test fails and says so: it never passes without checking.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertChildBuilt, crashChildEntry } from "./test-support/crash-child-process.js";

const straceWorks = spawnSync("strace", ["-f", "-o", "/dev/null", "true"]).status === 0;
function requireStrace(): void {
  if (!straceWorks) throw new Error("strace is missing or cannot trace here: run .ci/run, or apt-get install -y strace");
}
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
beforeAll(() => assertChildBuilt());

interface Syscall {
  readonly startS: number;
  readonly endS: number;
  readonly name: string;
  readonly fd: number;
  readonly line: string;
}

/** Runs the child under strace (one output file per thread) and returns its syscalls in start order. */
function traceChild(durability: "sync" | "none", commands: number): { calls: Syscall[]; fds: OpenedFds } {
  const workDir = mkdtempSync(join(tmpdir(), "loyalty-durability-"));
  dirs.push(workDir);
  const dataDir = join(workDir, "data");
  const traceDir = join(workDir, "trace");
  spawnSync("mkdir", [traceDir]);
  const result = spawnSync(
    "strace",
    ["-f", "-ff", "-ttt", "-T", "-y", "-e", "trace=openat,pwrite64,pwritev,write,writev,fdatasync,fsync", "-o", join(traceDir, "t"),
      process.execPath, crashChildEntry, "sequential", dataDir, String(commands), durability],
    { encoding: "utf8" },
  );
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout.trim().split("\n")).toEqual(Array.from({ length: commands }, (_, i) => `ack s${i}`));

  const calls: Syscall[] = [];
  const fds: OpenedFds = { lmdbDsync: new Set(), walDsync: new Set(), walPlain: new Set() };
  // e.g. 1700000000.123456 fdatasync(19</tmp/x/data.mdb>) = 0 <0.000300>
  const pattern = /^(\d+\.\d+) (\w+)\((?:AT_FDCWD<[^>]*>, )?(\d+)?.*= (-?\d+)(?:<[^>]*>)? <(\d+\.\d+)>$/;
  for (const file of readdirSync(traceDir)) {
    for (const line of readFileSync(join(traceDir, file), "utf8").split("\n")) {
      const match = pattern.exec(line);
      if (match === null) continue;
      const [, start, name, fd, ret, duration] = match;
      if (name === "openat") {
        const dsync = line.includes("O_DSYNC");
        if (line.includes("data.mdb") && dsync) fds.lmdbDsync.add(Number(ret));
        if (/wal-\d+\.log/.test(line)) (dsync ? fds.walDsync : fds.walPlain).add(Number(ret));
        continue;
      }
      calls.push({ startS: Number(start), endS: Number(start) + Number(duration), name: name!, fd: Number(fd), line });
    }
  }
  calls.sort((a, b) => a.startS - b.startS);
  return { calls, fds };
}

interface OpenedFds {
  readonly lmdbDsync: Set<number>;
  readonly walDsync: Set<number>;
  readonly walPlain: Set<number>;
}

const isWrite = (call: Syscall): boolean => call.name.startsWith("pwrite") || call.name === "writev" || call.name === "write";

/** For every ack, the violations of "its log record written through an O_DSYNC descriptor, then the ack". */
function answerViolations(calls: readonly Syscall[], fds: OpenedFds): string[] {
  const onWal = (call: Syscall): boolean => /wal-\d+\.log>/.test(call.line);
  const acks = calls.filter((call) => call.name === "write" && call.fd === 1 && call.line.includes('"ack '));
  const violations: string[] = [];
  let previousAckS = 0;
  for (const ack of acks) {
    // Commands are sequential: this command's append happened after the previous answer.
    const appends = calls.filter((call) => call.startS > previousAckS && call.endS <= ack.startS && onWal(call) && isWrite(call));
    if (appends.length === 0) violations.push(`${ack.line}: no log record written before it`);
    else if (!appends.some((call) => fds.walDsync.has(call.fd))) violations.push(`${ack.line}: its log record was not written through an O_DSYNC descriptor`);
    previousAckS = ack.endS;
  }
  expect(acks.length).toBeGreaterThan(0);
  return violations;
}

/** For every LMDB meta page write (a commit), the violations of "data written, then fdatasync, then meta via O_DSYNC". */
function checkpointViolations(calls: readonly Syscall[], fds: OpenedFds): { commits: number; violations: string[] } {
  const onData = (call: Syscall): boolean => call.line.includes("data.mdb>");
  const metas = calls.filter((call) => onData(call) && isWrite(call) && fds.lmdbDsync.has(call.fd));
  const violations: string[] = [];
  let previousMetaS = 0;
  for (const meta of metas) {
    const during = calls.filter((call) => call.startS > previousMetaS && call.endS <= meta.startS && onData(call));
    const dataWrites = during.filter((call) => isWrite(call) && !fds.lmdbDsync.has(call.fd));
    const lastDataWriteS = Math.max(...dataWrites.map((call) => call.endS));
    const sync = during.find((call) => (call.name === "fdatasync" || call.name === "fsync") && call.startS >= lastDataWriteS);
    if (dataWrites.length > 0 && sync === undefined) violations.push(`${meta.line}: data pages not fdatasync'ed before it`);
    previousMetaS = meta.endS;
  }
  return { commits: metas.length, violations };
}

describe("durability", () => {
  it("sync mode answers only after the command's log record was written with O_DSYNC, and checkpoints commit in LMDB's order", () => {
    requireStrace();
    const { calls, fds } = traceChild("sync", 5);
    expect(fds.walDsync.size).toBeGreaterThan(0);
    expect(answerViolations(calls, fds)).toEqual([]);
    // The store closes at the end, so at least that checkpoint committed.
    const checkpoints = checkpointViolations(calls, fds);
    expect(checkpoints.commits).toBeGreaterThan(0);
    expect(checkpoints.violations).toEqual([]);
  });

  it("the same check fails for 'none' durability, so it can tell the modes apart", () => {
    requireStrace();
    const { calls, fds } = traceChild("none", 5);
    expect(fds.walPlain.size).toBeGreaterThan(0);
    const violations = answerViolations(calls, fds);
    expect(violations).toHaveLength(5);
    for (const violation of violations) expect(violation).toContain("not written through an O_DSYNC descriptor");
    // And LMDB does not flush either: no meta page through O_DSYNC.
    expect(checkpointViolations(calls, fds).commits).toBe(0);
  });
});
