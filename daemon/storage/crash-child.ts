// Child-process entry for the storage tests that need a real process: it runs
// the real store (from dist/, after `npm run build`) and reports each durable
// acknowledgement on stdout, so a parent can kill it, starve its disk or trace
// its syscalls and then check what the store promised.
//
// Usage: node dist/daemon/storage/crash-child.js <mode> <dir> [arg]
//   stream <dir> <window> [walDir]
//                             sync durability; keeps <window> commands in
//                             flight forever, printing "ack <id>" for each
//                             answered one. Stops when stdin closes. Never
//                             checkpoints: everything acknowledged is in the
//                             write-ahead log only (in walDir if given).
//   sequential <dir> <count> <sync|none>
//                             one command at a time, "ack <id>" after each,
//                             then closes the store and exits 0.
//   fill <dir> <padBytes> [log|checkpoint]
//                             sync; submits large commands until a write
//                             fails (run it under a file-size limit), then
//                             prints one JSON line per command and a summary.
//                             "log": no checkpoints, so the log append is what
//                             fails; "checkpoint" (default): checkpoints as
//                             usual, so LMDB's file usually fails first.
//
// Contract: a line "ack <id>" is written (synchronously, one write() of a few
// bytes, so never torn) only after submit's promise for <id> resolved.
import { writeSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { Tx } from "../engine/tx.js";
import { assert } from "../assert.js";
import { openStore, type Durability, type Store, type StoreOptions } from "./store.js";

export interface CrashCommand {
  readonly id: string;
  readonly padBytes: number;
}

export interface CrashRecord {
  readonly n: number;
  readonly at: number;
  readonly pad: string;
}

/** The toy engine: counts commands exactly once per id (a retried id writes nothing). */
export function applyCrashCommand(tx: Tx, command: unknown, now: number): { applied: boolean; n: number } {
  const { id, padBytes } = command as CrashCommand;
  const existing = tx.get<CrashRecord>("idempotency", `crash/${id}`);
  if (existing !== undefined) return { applied: false, n: existing.n };
  const n = (tx.get<number>("meta", "crash/total") ?? 0) + 1;
  tx.put("meta", "crash/total", n);
  tx.put("idempotency", `crash/${id}`, { n, at: now, pad: "x".repeat(padBytes) } satisfies CrashRecord);
  return { applied: true, n };
}

const retryWait = new Int32Array(new SharedArrayBuffer(4));
function print(line: string): void {
  // stdout is a pipe the parent may read slowly, and Node makes it
  // non-blocking once a worker thread exists (the store's checkpoint thread):
  // wait out EAGAIN instead of losing or tearing a line.
  const bytes = Buffer.from(line + "\n");
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(1, bytes, written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      Atomics.wait(retryWait, 0, 0, 1);
    }
  }
}

/** Options that keep every command in the write-ahead log until close. */
const noCheckpoints = { checkpointIntervalMs: 3_600_000, checkpointCommands: 1_000_000 } as const;

async function open(dir: string, durability: Durability, extra: Partial<StoreOptions> = {}): Promise<Store> {
  return openStore({ path: dir, durability, mapSizeBytes: 64 * 1024 * 1024, pendingCommandsMax: 10_000, replay: applyCrashCommand, ...extra });
}

async function stream(dir: string, window: number, walDir: string | undefined): Promise<void> {
  const store = await open(dir, "sync", { ...noCheckpoints, ...(walDir === undefined ? {} : { walDir }) });
  let stopped = false;
  process.stdin.on("end", () => {
    stopped = true;
  });
  process.stdin.resume();
  let next = 0;
  // Bounded even if the parent never kills us: a test needs far fewer.
  const commandsMax = 1_000_000;
  const submitOne = (): void => {
    if (stopped || next >= commandsMax) return;
    const id = `c${next++}`;
    store.submit({ id, padBytes: 16 } satisfies CrashCommand, Date.now(), applyCrashCommand).then(
      () => {
        print(`ack ${id}`);
        submitOne();
      },
      (error: unknown) => {
        // A failed commit in this mode is a test failure: report and crash.
        print(`error ${id} ${String(error)}`);
        process.exit(2);
      },
    );
  };
  for (let i = 0; i < window; i++) submitOne();
}

async function sequential(dir: string, count: number, durability: Durability): Promise<void> {
  const store = await open(dir, durability);
  for (let i = 0; i < count; i++) {
    const id = `s${i}`;
    await store.submit({ id, padBytes: 100 } satisfies CrashCommand, i, applyCrashCommand);
    print(`ack ${id}`);
  }
  await store.close();
}

async function fill(dir: string, padBytes: number, failing: "log" | "checkpoint"): Promise<void> {
  // With a file-size limit, the kernel sends SIGXFSZ when LMDB writes past it;
  // handling the signal makes the write fail with EFBIG instead, which is the
  // commit failure we want the store to handle.
  process.on("SIGXFSZ", () => {});
  const store = await open(dir, "sync", failing === "log" ? noCheckpoints : {});
  const window = 8;
  const commandsMax = 100_000;
  const outcomes: Promise<void>[] = [];
  let failed = false;
  let next = 0;
  const submitOne = (): void => {
    if (failed || next >= commandsMax) return;
    const id = `f${next++}`;
    const outcome = store.submit({ id, padBytes } satisfies CrashCommand, next, applyCrashCommand).then(
      () => {
        print(JSON.stringify({ ack: id }));
        submitOne();
      },
      (error: unknown) => {
        failed = true;
        const { code, cause } = error as { code?: string; cause?: unknown };
        print(JSON.stringify({ rejected: id, code, cause: String(cause) }));
      },
    );
    outcomes.push(outcome);
  };
  for (let i = 0; i < window; i++) submitOne();
  // Every outcome handler above either submits a follower or marks the
  // failure; wait until the set of outcomes stops growing.
  for (let waitedFor = -1; waitedFor !== outcomes.length; ) {
    waitedFor = outcomes.length;
    await Promise.all(outcomes);
  }
  assert(failed, `no commit failed after ${next} commands: is the file-size limit set?`);
  const healthy = store.isHealthy();
  const submitAfter = await store.submit({ id: "after", padBytes: 0 } satisfies CrashCommand, 0, applyCrashCommand).then(
    () => "accepted",
    (error: unknown) => (error as { code?: string }).code,
  );
  const closeError = await store.close().then(
    () => null,
    (error: unknown) => (error as { code?: string }).code,
  );
  print(JSON.stringify({ done: true, healthy, submitAfter, closeError }));
}

async function main(argv: readonly string[]): Promise<void> {
  const [mode, dir, arg, durability] = argv;
  assert(dir !== undefined, "usage: crash-child <mode> <dir> [arg]");
  if (mode === "stream") return stream(dir, Number(arg ?? 64), argv[3]);
  if (mode === "sequential") return sequential(dir, Number(arg ?? 5), durability === "none" ? "none" : "sync");
  if (mode === "fill") return fill(dir, Number(arg ?? 4000), durability === "log" ? "log" : "checkpoint");
  assert(false, `unknown mode ${String(mode)}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    print(`fatal ${String(error instanceof Error ? error.stack : error)}`);
    process.exit(1);
  });
}
