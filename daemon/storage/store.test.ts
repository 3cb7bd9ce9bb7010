// Behaviour of the store that the service and the engine depend on: overlay
// visibility, group commit, answer ordering, all-or-nothing commands,
// overload, close and reopen, scans and reads.
import { readdirSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AssertionError } from "../assert.js";
import type { Tx } from "../engine/tx.js";
import { StoreClosedError, StoreOverloadedError, type CommitInfo } from "./store.js";
import { applyBank, BankBoom, type BankCommand } from "./test-support/counter-bank.js";
import { tempStores } from "./test-support/temp-store.js";
import { WriteAheadLog } from "./wal.js";

const stores = tempStores();
afterEach(() => stores.cleanup());

const set = (key: string, value: number, table: "accounts" | "activity" = "accounts"): BankCommand => ({ k: "set", table, key, value });
const get = (key: string, table: "accounts" | "activity" = "accounts"): BankCommand => ({ k: "get", table, key });
const del = (key: string, table: "accounts" | "activity" = "accounts"): BankCommand => ({ k: "del", table, key });

/** Resolves after the setImmediate callbacks queued so far have run. */
const nextImmediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Holds every write-ahead log append until `release()`: a batch stays in
 * flight for as long as a test needs, whatever the disk's speed.
 */
function holdLogAppends(): { release(): void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const original = WriteAheadLog.prototype.append;
  const spy = vi.spyOn(WriteAheadLog.prototype, "append").mockImplementation(function (this: WriteAheadLog, ...args) {
    return gate.then(() => original.apply(this, args));
  });
  return {
    release() {
      release();
      spy.mockRestore();
    },
  };
}

describe("overlay: effects are visible before they are durable", () => {
  it("a write is seen by the next command while its own commit is still pending", async () => {
    const store = await stores.open(stores.dir());
    let writeAnswered = false;
    const write = store.submit(set("a", 5), 1, applyBank).then((answer) => {
      writeAnswered = true;
      return answer;
    });
    // Same synchronous turn: the batch cannot have been committed yet.
    const seen = store.submit(get("a"), 2, applyBank);
    expect(store.read((tx) => tx.get("accounts", "a"))).toBe(5);
    expect(writeAnswered).toBe(false);
    expect(store.durableSeq).toBe(0);
    expect(store.lastSeq).toBe(1);
    expect(await seen).toBe(5);
    expect(await write).toBe(5);
    expect(store.durableSeq).toBe(1);
    // Durable in the log, not yet in LMDB: the overlay keeps the entry until the checkpoint.
    expect(store.stats().overlayEntries).toBe(1);
    await store.checkpoint();
    expect(store.stats().checkpointedSeq).toBe(1);
    expect(store.stats().overlayEntries).toBe(0);
  });

  it("a delete of a durable key is seen by the next command before it is durable", async () => {
    const store = await stores.open(stores.dir());
    await store.submit(set("a", 5), 1, applyBank);
    const deletion = store.submit(del("a"), 2, applyBank);
    expect(store.durableSeq).toBe(1);
    expect(store.read((tx) => tx.get("accounts", "a"))).toBeUndefined();
    expect(await store.submit(get("a"), 3, applyBank)).toBeNull();
    expect(await deletion).toBe(5);
    expect(store.read((tx) => tx.get("accounts", "a"))).toBeUndefined();
  });

  it("a key rewritten while its first write commits keeps the newest value throughout", async () => {
    const commits: CommitInfo[] = [];
    const store = await stores.open(stores.dir(), { onCommit: (info) => commits.push(info) });
    const held = holdLogAppends();
    const first = store.submit(set("a", 1), 1, applyBank);
    await nextImmediate(); // batch 1 is now handed to the log, and held there
    expect(store.durableSeq).toBe(0);
    const second = store.submit(set("a", 2), 2, applyBank);
    held.release();
    await first;
    // Batch 1 is durable; its entry for "a" must not have dropped batch 2's value.
    expect(store.read((tx) => tx.get("accounts", "a"))).toBe(2);
    await second;
    expect(store.read((tx) => tx.get("accounts", "a"))).toBe(2);
    expect(commits.map((c) => c.commands)).toEqual([1, 1]);
  });
});

describe("group commit", () => {
  it("many submits in one turn share one transaction; answers come in order; seqs are contiguous", async () => {
    const commits: CommitInfo[] = [];
    const store = await stores.open(stores.dir(), { onCommit: (info) => commits.push(info) });
    const answered: number[] = [];
    const promises = Array.from({ length: 200 }, (_, i) =>
      store.submit(set(`k${i % 50}`, i), 1_000 + i, applyBank).then((answer) => {
        answered.push(i);
        return answer;
      }),
    );
    expect(await Promise.all(promises)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(answered).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(commits).toHaveLength(1);
    expect(commits[0]).toMatchObject({ commands: 200, writes: 50 });
    expect(commits[0]!.ms).toBeGreaterThanOrEqual(0);
    const journal = store.journalEntries(1, 1_000);
    expect(journal.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(journal.map((e) => e.at)).toEqual(Array.from({ length: 200 }, (_, i) => 1_000 + i));
    expect(journal[7]!.command).toEqual(set("k7", 7));
    expect(store.lastSeq).toBe(200);
    expect(store.durableSeq).toBe(200);
  });

  it("commands arriving while a batch commits accumulate into the next batch", async () => {
    const commits: CommitInfo[] = [];
    const store = await stores.open(stores.dir(), { onCommit: (info) => commits.push(info) });
    const held = holdLogAppends();
    const first = store.submit(set("a", 1), 1, applyBank);
    await nextImmediate();
    expect(store.durableSeq).toBe(0); // batch 1 is in flight (held)
    const later = [store.submit(set("b", 2), 2, applyBank), store.submit(set("c", 3), 3, applyBank)];
    await nextImmediate();
    const evenLater = store.submit(set("d", 4), 4, applyBank);
    held.release();
    await Promise.all([first, ...later, evenLater]);
    expect(commits.map((c) => c.commands)).toEqual([1, 3]);
  });

  it("a batch holds at most batchCommandsMax commands; the rest queue in order, each batch committing only its own writes", async () => {
    const commits: CommitInfo[] = [];
    const dir = stores.dir();
    let store = await stores.open(dir, { batchCommandsMax: 3, onCommit: (info) => commits.push(info) });
    const answered: number[] = [];
    // "a" is written by every batch: each queued batch must commit its own value, the last one wins.
    const promises = Array.from({ length: 7 }, (_, i) => store.submit(set("a", i), 10 + i, applyBank).then(() => answered.push(i)));
    const read = store.submit(get("a"), 20, applyBank);
    expect(store.pendingCommands).toBe(8);
    expect(store.read((tx) => tx.get("accounts", "a"))).toBe(6);
    expect(await read).toBe(6);
    await Promise.all(promises);
    expect(answered).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(commits.map((c) => c.commands)).toEqual([3, 3, 1]);
    expect(store.pendingCommands).toBe(0);
    await store.checkpoint();
    expect(store.stats().overlayEntries).toBe(0);
    const digest = store.digest();
    await store.close();
    store = await stores.open(dir);
    expect(store.read((tx) => tx.get("accounts", "a"))).toBe(6);
    expect(store.digest()).toBe(digest);
    expect(store.journalEntries(1, 10).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("a command that writes nothing is not answered before the pending writes it may have read are durable", async () => {
    const store = await stores.open(stores.dir());
    const events: string[] = [];
    const write = store.submit(set("a", 1), 1, applyBank).then(() => events.push(`write durable=${store.durableSeq}`));
    const read = store.submit(get("a"), 2, applyBank).then((answer) => {
      events.push(`read durable=${store.durableSeq}`);
      return answer;
    });
    expect(store.stats().pendingCommands).toBe(2);
    expect(await read).toBe(1);
    await write;
    expect(events).toEqual(["write durable=1", "read durable=1"]);
    expect(store.lastSeq).toBe(1); // the read got no seq and no journal entry
    expect(store.journalEntries(1, 10)).toHaveLength(1);
  });

  it("a command that writes nothing answers without a commit when nothing is pending", async () => {
    const onCommit = vi.fn();
    const store = await stores.open(stores.dir(), { onCommit });
    expect(await store.submit(get("nothing"), 1, applyBank)).toBeNull();
    expect(onCommit).not.toHaveBeenCalled();
    expect(store.lastSeq).toBe(0);
  });
});

describe("all or nothing", () => {
  it("apply throwing leaves no trace, and later commands are fine", async () => {
    const store = await stores.open(stores.dir());
    await store.submit(set("a", 1), 1, applyBank);
    await store.submit(set("a", 10, "activity"), 2, applyBank);
    const digest = store.digest();

    const pending = store.submit(set("b", 2), 3, applyBank); // shares the batch with the failed command
    expect(() => store.submit({ k: "boom", key: "a" }, 4, applyBank)).toThrow(BankBoom);
    expect(store.read((tx) => [tx.get("accounts", "a"), tx.get("activity", "a")])).toEqual([1, 10]);
    expect(store.lastSeq).toBe(3);
    await pending;

    expect(store.digest()).not.toBe(digest); // b was added...
    expect(store.scan("accounts", "", 10)).toEqual([["a", 1], ["b", 2]]); // ...and only b
    expect(store.journalEntries(1, 10).map((e) => e.command)).toEqual([set("a", 1), set("a", 10, "activity"), set("b", 2)]);
    expect(await store.submit({ k: "add", key: "a", delta: 5 }, 5, applyBank)).toBe(6);
    expect(store.journalEntries(1, 10).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it("a write the store cannot take (bad key, undefined value) fails the command and leaves no trace", async () => {
    const store = await stores.open(stores.dir());
    const badWrites: ((tx: Tx) => void)[] = [
      (tx) => tx.put("accounts", "", 1),
      (tx) => tx.put("accounts", "\u0001x", 1),
      (tx) => tx.put("accounts", "x".repeat(600), 1),
      (tx) => tx.put("accounts", "\ud800", 1),
      (tx) => tx.put("accounts", "ok", undefined),
      (tx) => tx.put("nope" as "accounts", "ok", 1),
    ];
    for (const bad of badWrites) {
      expect(() =>
        store.submit(null, 1, (tx) => {
          tx.put("accounts", "first", 1);
          bad(tx);
        }),
      ).toThrow(AssertionError);
    }
    expect(store.lastSeq).toBe(0);
    expect(store.stats().overlayEntries).toBe(0);
    expect(store.read((tx) => tx.get("accounts", "first"))).toBeUndefined();
  });

  it("a Tx kept after its command finished cannot be used", async () => {
    const store = await stores.open(stores.dir());
    let kept: Tx | undefined;
    await store.submit(null, 1, (tx) => {
      kept = tx;
      tx.put("accounts", "a", 1);
    });
    expect(() => kept!.get("accounts", "a")).toThrow(AssertionError);
    expect(() => kept!.put("accounts", "a", 2)).toThrow(AssertionError);
  });
});

describe("overload", () => {
  it("beyond pendingCommandsMax, submit rejects with StoreOverloadedError and applies nothing", async () => {
    const store = await stores.open(stores.dir(), { pendingCommandsMax: 3 });
    const apply = vi.fn(applyBank);
    const accepted = [store.submit(set("a", 1), 1, apply), store.submit(get("a"), 2, apply), store.submit(set("b", 2), 3, apply)];
    expect(store.stats().pendingCommands).toBe(3);
    const refused = store.submit(set("c", 3), 4, apply);
    await expect(refused).rejects.toBeInstanceOf(StoreOverloadedError);
    await expect(refused).rejects.toMatchObject({ code: "STORE_OVERLOADED", pendingCommands: 3, pendingCommandsMax: 3 });
    expect(apply).toHaveBeenCalledTimes(3);
    expect(store.read((tx) => tx.get("accounts", "c"))).toBeUndefined();
    expect(store.lastSeq).toBe(2);

    expect(await Promise.all(accepted)).toEqual([1, 1, 2]);
    expect(store.stats().pendingCommands).toBe(0);
    expect(await store.submit(set("c", 3), 5, apply)).toBe(3);
    expect(store.journalEntries(1, 10).map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});

describe("close and reopen", () => {
  it("close waits for pending commands, then refuses work with StoreClosedError", async () => {
    const store = await stores.open(stores.dir());
    const pending = store.submit(set("a", 1), 1, applyBank);
    const closed = store.close();
    await expect(store.submit(set("b", 2), 2, applyBank)).rejects.toBeInstanceOf(StoreClosedError);
    await closed;
    expect(await pending).toBe(1);
    expect(store.durableSeq).toBe(1);
    expect(() => store.read((tx) => tx.get("accounts", "a"))).toThrow(StoreClosedError);
    await expect(store.submit(get("a"), 3, applyBank)).rejects.toMatchObject({ code: "STORE_CLOSED" });
    expect(store.isHealthy()).toBe(false);
    await store.close(); // idempotent
  });

  it("reopening after close gives the same state, lastSeq, journal and digest", async () => {
    const dir = stores.dir();
    const store = await stores.open(dir);
    for (let i = 0; i < 30; i++) void store.submit(set(`k${i % 7}`, i, i % 2 === 0 ? "accounts" : "activity"), i, applyBank);
    void store.submit(del("k3"), 100, applyBank);
    void store.submit({ k: "move", from: "k1", to: "k2", amount: 4 }, 101, applyBank);
    const lastWrite = store.submit({ k: "add", key: "k5", delta: 7 }, 102, applyBank);
    const digest = store.digest(); // with pending commits: overlay + durable
    await lastWrite;
    expect(store.digest()).toBe(digest);
    const accounts = store.scan("accounts", "", 100);
    const journal = store.journalEntries(1, 100);
    expect(readdirSync(dir).filter((name) => name.startsWith("wal-"))).not.toEqual([]);
    await store.close();
    // A clean close leaves LMDB holding everything and no log to apply again.
    expect(readdirSync(dir).filter((name) => name.startsWith("wal-"))).toEqual([]);

    const reopened = await stores.open(dir);
    expect(reopened.recovery).toEqual({ commands: 0, discardedTailBytes: 0 });
    expect(reopened.lastSeq).toBe(33);
    expect(reopened.durableSeq).toBe(33);
    expect(reopened.digest()).toBe(digest);
    expect(reopened.scan("accounts", "", 100)).toEqual(accounts);
    expect(reopened.journalEntries(1, 100)).toEqual(journal);
    expect(await reopened.submit(set("new", 1), 200, applyBank)).toBe(1);
    expect(reopened.lastSeq).toBe(34);
  });

  it("a path can be open only once per process", async () => {
    const dir = stores.dir();
    await stores.open(dir);
    await expect(stores.open(dir)).rejects.toThrow(AssertionError);
  });
});

describe("reads", () => {
  it("a write inside read() is an assertion failure", async () => {
    const store = await stores.open(stores.dir());
    expect(() => store.read((tx) => tx.put("accounts", "a", 1))).toThrow(AssertionError);
    expect(() => store.read((tx) => tx.del("accounts", "a"))).toThrow(AssertionError);
    expect(store.lastSeq).toBe(0);
  });

  // "activity": a table in the generic encoding (accounts and checks have record codecs, see record-codecs.test.ts).
  it("every read returns a fresh copy the caller may change", async () => {
    const store = await stores.open(stores.dir());
    await store.submit(null, 1, (tx) => {
      const lots = { points: 10, tags: ["a"], raw: new Uint8Array([1, 2, 3]) };
      tx.put("activity", "a", lots);
      lots.points = 999; // the engine changing its object after put changes nothing stored
      tx.put("activity", "b", { raw: new Uint8Array([9, 9]) });
    });
    const first = store.read((tx) => tx.get<{ points: number; tags: string[]; raw: Uint8Array }>("activity", "a"))!;
    expect(first.points).toBe(10);
    first.tags.push("mutated");
    first.raw[0] = 42;
    // LMDB reuses one buffer for reads: an earlier result must not change when we read again.
    const other = store.read((tx) => tx.get<{ raw: Uint8Array }>("activity", "b"))!;
    expect(Array.from(first.raw)).toEqual([42, 2, 3]);
    expect(Array.from(other.raw)).toEqual([9, 9]);
    const again = store.read((tx) => tx.get<{ points: number; tags: string[]; raw: Uint8Array }>("activity", "a"))!;
    expect(again.tags).toEqual(["a"]);
    expect(again.raw).toBeInstanceOf(Uint8Array); // a Buffer in Node, which is a Uint8Array
    expect(Array.from(again.raw)).toEqual([1, 2, 3]);
  });

  it("configuration records are decoded once, shared frozen, and replaced by the next write", async () => {
    const store = await stores.open(stores.dir());
    await store.submit(null, 1, (tx) => tx.put("rules", "m1", { versions: [{ rate: 3 }] }));
    const first = store.read((tx) => tx.get<{ versions: { rate: number }[] }>("rules", "m1"))!;
    expect(store.read((tx) => tx.get("rules", "m1"))).toBe(first);
    expect(() => { first.versions[0]!.rate = 99; }).toThrow(TypeError);
    const pending = store.submit(null, 2, (tx) => tx.put("rules", "m1", { versions: [{ rate: 5 }] }));
    // Visible at once, before it is durable, like any write.
    expect(store.read((tx) => tx.get<{ versions: { rate: number }[] }>("rules", "m1"))!.versions[0]!.rate).toBe(5);
    await pending;
    await store.submit(null, 3, (tx) => tx.del("rules", "m1"));
    expect(store.read((tx) => tx.get("rules", "m1"))).toBeUndefined();
  });

  it("journalEntries lists only durable entries", async () => {
    const store = await stores.open(stores.dir());
    await store.submit(set("a", 1), 1, applyBank);
    const pending = store.submit(set("b", 2), 2, applyBank);
    expect(store.journalEntries(1, 10).map((e) => e.seq)).toEqual([1]);
    expect(store.journalEntries(2, 10)).toEqual([]);
    await pending;
    expect(store.journalEntries(2, 10)).toEqual([{ seq: 2, at: 2, command: set("b", 2) }]);
  });
});

describe("scan", () => {
  it("merges durable state and overlay in key order, hides deletes, honours prefix, limit and paging", async () => {
    const store = await stores.open(stores.dir());
    for (const key of ["m/01", "m/03", "m/05", "m/07", "n/01", "l/09"]) await store.submit(set(key, 1), 1, applyBank);
    // Pending: a new key between durable ones, an overwrite, a delete.
    const pending = [
      store.submit(set("m/02", 2), 2, applyBank),
      store.submit(set("m/05", 5), 3, applyBank),
      store.submit(del("m/03"), 4, applyBank),
      store.submit(set("m/99", 9), 5, applyBank),
    ];
    const expected = [["m/01", 1], ["m/02", 2], ["m/05", 5], ["m/07", 1], ["m/99", 9]];
    expect(store.scan("accounts", "m/", 100)).toEqual(expected);
    expect(store.scan("accounts", "m/", 2)).toEqual(expected.slice(0, 2));
    expect(store.scan("accounts", "m/", 2, "m/02")).toEqual(expected.slice(2, 4));
    expect(store.scan("accounts", "m/", 10, "m/07")).toEqual(expected.slice(4));
    expect(store.scan("accounts", "m/", 10, "m/99")).toEqual([]);
    expect(store.scan("accounts", "", 3)).toEqual([["l/09", 1], ["m/01", 1], ["m/02", 2]]);
    expect(store.scan("activity", "", 10)).toEqual([]);
    // Keys only, the same merge, and a bound: nothing at or after `before`.
    const keys = expected.map(([k]) => k);
    expect(store.scanKeys("accounts", "m/", 100)).toEqual(keys);
    expect(store.scanKeys("accounts", "m/", 100, undefined, "m/05")).toEqual(["m/01", "m/02"]);
    expect(store.scanKeys("accounts", "m/", 100, "m/01", "m/99")).toEqual(["m/02", "m/05", "m/07"]);
    expect(store.scanKeys("accounts", "m/", 1, "m/02")).toEqual(["m/05"]);
    expect(store.read((tx) => tx.scanKeys("accounts", "", 5, "m/02"))).toEqual(["l/09", "m/01"]);
    await Promise.all(pending);
    expect(store.scan("accounts", "m/", 100)).toEqual(expected);
    await store.checkpoint(); // all in LMDB now: the same answers without the overlay
    expect(store.stats().overlayEntries).toBe(0);
    expect(store.scanKeys("accounts", "m/", 100)).toEqual(keys);
    expect(store.scanKeys("accounts", "m/", 100, undefined, "m/05")).toEqual(["m/01", "m/02"]);
  });
});
