// Proof of the durability promise at the syscall level: in 'sync' mode, a
// command is answered only after its data reached the disk.
//
// The crash test (SIGKILL) cannot show this: a killed process's writes still
// reach the disk through the OS page cache, fsync or not. Only power loss
// tells the difference, so instead we trace the child's syscalls (strace) and
// check the order LMDB's commit promises and we rely on (see store.ts):
//   data pages pwrite()/writev() → fdatasync() → meta page pwrite() via an O_DSYNC fd
//   → and only then the answer (the "ack" line written to stdout).
// The same check must fail for 'none' durability (no fdatasync), which shows
// the check can tell the two apart.
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
function traceChild(durability: "sync" | "none", commands: number): { calls: Syscall[]; dsyncFds: Set<number> } {
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
  const dsyncFds = new Set<number>();
  // e.g. 1700000000.123456 fdatasync(19</tmp/x/data.mdb>) = 0 <0.000300>
  const pattern = /^(\d+\.\d+) (\w+)\((?:AT_FDCWD<[^>]*>, )?(\d+)?.*= (-?\d+)(?:<[^>]*>)? <(\d+\.\d+)>$/;
  for (const file of readdirSync(traceDir)) {
    for (const line of readFileSync(join(traceDir, file), "utf8").split("\n")) {
      const match = pattern.exec(line);
      if (match === null) continue;
      const [, start, name, fd, ret, duration] = match;
      if (name === "openat") {
        if (line.includes("data.mdb") && line.includes("O_DSYNC")) dsyncFds.add(Number(ret));
        continue;
      }
      calls.push({ startS: Number(start), endS: Number(start) + Number(duration), name: name!, fd: Number(fd), line });
    }
  }
  calls.sort((a, b) => a.startS - b.startS);
  return { calls, dsyncFds };
}

/** For every ack, the violations of "data written, then fdatasync, then meta via O_DSYNC, then ack". */
function orderViolations(calls: readonly Syscall[], dsyncFds: ReadonlySet<number>): string[] {
  const onData = (call: Syscall): boolean => call.line.includes("data.mdb>");
  const isWrite = (call: Syscall): boolean => call.name.startsWith("pwrite") || call.name === "writev";
  const acks = calls.filter((call) => call.name === "write" && call.fd === 1 && call.line.includes('"ack '));
  const violations: string[] = [];
  let previousAckS = 0;
  for (const ack of acks) {
    // Commands are sequential: this command's commit happened after the previous answer.
    const during = calls.filter((call) => call.startS > previousAckS && call.endS <= ack.startS && onData(call));
    const dataWrites = during.filter((call) => isWrite(call) && !dsyncFds.has(call.fd));
    const lastDataWriteS = Math.max(...dataWrites.map((call) => call.endS));
    const sync = during.find((call) => (call.name === "fdatasync" || call.name === "fsync") && call.startS >= lastDataWriteS);
    const meta = sync && during.find((call) => isWrite(call) && dsyncFds.has(call.fd) && call.startS >= sync.endS);
    if (dataWrites.length === 0) violations.push(`${ack.line}: no data page written before it`);
    else if (sync === undefined) violations.push(`${ack.line}: data pages not fdatasync'ed before it`);
    else if (meta === undefined) violations.push(`${ack.line}: meta page not written durably (O_DSYNC) after the fdatasync`);
    previousAckS = ack.endS;
  }
  expect(acks.length).toBeGreaterThan(0);
  return violations;
}

describe("durability", () => {
  it("sync mode answers only after the commit's data was fdatasync'ed and its meta page written with O_DSYNC", () => {
    requireStrace();
    const { calls, dsyncFds } = traceChild("sync", 5);
    expect(dsyncFds.size).toBeGreaterThan(0);
    expect(orderViolations(calls, dsyncFds)).toEqual([]);
  });

  it("the same check fails for 'none' durability, so it can tell the modes apart", () => {
    requireStrace();
    const { calls, dsyncFds } = traceChild("none", 5);
    const violations = orderViolations(calls, dsyncFds);
    expect(violations).toHaveLength(5);
    for (const violation of violations) expect(violation).toContain("not fdatasync'ed");
  });
});
