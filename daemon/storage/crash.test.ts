// What the store promises across a process crash and a failed commit, tested
// on a real child process: every acknowledged command survives exactly once,
// nothing unacknowledged is claimed, and the journal reproduces the state.
import { beforeAll, afterEach, describe, expect, it } from "vitest";
import { applyCrashCommand, type CrashRecord } from "./crash-child.js";
import { iterateJournal, replayJournal } from "./replay.js";
import type { Store } from "./store.js";
import { assertChildBuilt, crashChildEntry, runChild } from "./test-support/crash-child-process.js";
import { tempStores } from "./test-support/temp-store.js";

const stores = tempStores();
afterEach(() => stores.cleanup());
beforeAll(() => assertChildBuilt());

/** Checks journal contiguity, exactly-once ids and replay; returns the ids in the journal. */
async function checkJournalAndReplay(store: Store): Promise<Set<string>> {
  const journal = [...iterateJournal(store)];
  expect(journal.map((entry) => entry.seq)).toEqual(Array.from({ length: store.lastSeq }, (_, i) => i + 1));
  const ids = journal.map((entry) => (entry.command as { id: string }).id);
  const journalIds = new Set(ids);
  expect(journalIds.size).toBe(ids.length); // no command applied twice
  expect(store.read((tx) => tx.get("meta", "crash/total"))).toBe(store.lastSeq === 0 ? undefined : store.lastSeq);

  const replica = await stores.open(stores.dir(), { durability: "none" });
  expect(await replayJournal(journal, replica, applyCrashCommand)).toBe(store.digest());
  return journalIds;
}

describe("crash", () => {
  it("SIGKILL mid-stream loses no acknowledged command, applies none twice, and the journal replays to the same state", async () => {
    const dir = stores.dir();
    const ackedBeforeKill = 500;
    const run = runChild(process.execPath, [crashChildEntry, "stream", dir, "64"], (_line, self) => {
      if (self.lines.length === ackedBeforeKill) self.child.kill("SIGKILL");
    });
    const exit = await run.finished;
    expect(exit.signal, exit.stderr).toBe("SIGKILL");
    const unexpected = run.lines.filter((line) => !line.startsWith("ack "));
    expect(unexpected).toEqual([]);
    const acked = run.lines.map((line) => line.slice("ack ".length));
    expect(acked.length).toBeGreaterThanOrEqual(ackedBeforeKill);

    const store = await stores.open(dir, { replay: applyCrashCommand });
    // The child never checkpointed: all of it came back from the write-ahead log.
    expect(store.recovery.commands).toBe(store.lastSeq);
    expect(store.lastSeq).toBeGreaterThanOrEqual(acked.length);
    for (const id of acked) {
      expect(store.read((tx) => tx.get<CrashRecord>("idempotency", `crash/${id}`)), `acknowledged ${id} lost`).toBeDefined();
    }
    const journalIds = await checkJournalAndReplay(store);
    for (const id of acked) expect(journalIds.has(id)).toBe(true);
    expect(store.scan("idempotency", "crash/", 10_000)).toHaveLength(store.lastSeq);
  });
});

describe("write failure", () => {
  // A file-size limit makes the write fail (EFBIG) once a file reaches it: a
  // real failed write. "checkpoint": LMDB's data file reaches it first, while
  // a checkpoint commits (acknowledged commands are in the log); "log": the
  // write-ahead log does, during an append (its commands were not).
  // (Log records are small, the padding is in the state: the log reaches a smaller limit sooner.)
  it.each([["checkpoint", 2048], ["log", 256]] as const)("a failed %s write answers no request of its batch as success, fails the store, and keeps everything acknowledged", async (failing, blocks) => {
    const dir = stores.dir();
    const run = runChild("sh", ["-c", `ulimit -f ${blocks} && exec "$0" "$@"`, process.execPath, crashChildEntry, "fill", dir, "4000", failing]);
    const exit = await run.finished;
    expect(exit.code, exit.stderr + run.lines.join("\n")).toBe(0);
    const outcomes = run.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const acked = outcomes.filter((o) => "ack" in o).map((o) => o.ack as string);
    const rejected = outcomes.filter((o) => "rejected" in o);
    expect(acked.length).toBeGreaterThan(10);
    expect(rejected.length).toBeGreaterThan(0);
    for (const outcome of rejected) expect(outcome.code).toBe("STORE_FAILED");
    expect(outcomes.at(-1)).toEqual({ done: true, healthy: false, submitAfter: "STORE_FAILED", closeError: "STORE_FAILED" });

    // Reopened without the limit: exactly the acknowledged commands are there.
    const store = await stores.open(dir, { replay: applyCrashCommand });
    expect(store.lastSeq).toBe(acked.length);
    const journalIds = await checkJournalAndReplay(store);
    expect([...journalIds].sort()).toEqual([...acked].sort());
    for (const outcome of rejected) {
      expect(store.read((tx) => tx.get("idempotency", `crash/${outcome.rejected as string}`))).toBeUndefined();
    }
  });
});
