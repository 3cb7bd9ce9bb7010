// Journal replay (the proof that the journal reproduces state) and the state
// digest it is checked with.
import { afterEach, describe, expect, it } from "vitest";
import { AssertionError } from "../assert.js";
import type { JournalEntry } from "./journal.js";
import { iterateJournal, replayJournal } from "./replay.js";
import type { Store } from "./store.js";
import { applyBank, type BankCommand } from "./test-support/counter-bank.js";
import { tempStores } from "./test-support/temp-store.js";

const stores = tempStores();
afterEach(() => stores.cleanup());

async function storeWith(commands: readonly BankCommand[]): Promise<Store> {
  const store = await stores.open(stores.dir());
  const answers = commands.map((command, i) => store.submit(command, 1_000 + i, applyBank));
  await Promise.all(answers);
  return store;
}

const history: BankCommand[] = [
  { k: "add", key: "a", delta: 5 },
  { k: "set", table: "activity", key: "b", value: 1 },
  { k: "move", from: "a", to: "c", amount: 2 },
  { k: "get", table: "accounts", key: "a" }, // writes nothing: no journal entry
  { k: "del", table: "activity", key: "b" },
  { k: "flip", key: "d" },
  { k: "add", key: "a", delta: -1 },
];

describe("replayJournal", () => {
  it("reproduces the source state in an empty store, with small windows", async () => {
    const source = await storeWith(history);
    const journal = [...iterateJournal(source, 1, 2)];
    expect(journal.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const target = await stores.open(stores.dir(), { pendingCommandsMax: 2 });
    expect(await replayJournal(journal, target, applyBank)).toBe(source.digest());
    expect(target.lastSeq).toBe(6);
    expect(target.journalEntries(1, 10)).toEqual(journal);
  });

  it("accepts an async source (a replica reading a stream)", async () => {
    const source = await storeWith(history);
    async function* stream(): AsyncGenerator<JournalEntry> {
      yield* iterateJournal(source);
    }
    const target = await stores.open(stores.dir());
    expect(await replayJournal(stream(), target, applyBank)).toBe(source.digest());
  });

  it("refuses a journal with a gap, or one that does not start where the target ends", async () => {
    const journal = [...iterateJournal(await storeWith(history))];
    const gap = [journal[0]!, journal[2]!];
    await expect(replayJournal(gap, await stores.open(stores.dir()), applyBank)).rejects.toThrow(AssertionError);
    await expect(replayJournal(journal.slice(1), await stores.open(stores.dir()), applyBank)).rejects.toThrow(AssertionError);
  });

  it("detects an engine that is not deterministic (a journaled command writes nothing on replay)", async () => {
    const journal = [...iterateJournal(await storeWith(history))];
    let calls = 0;
    const flaky = (tx: Parameters<typeof applyBank>[0], command: unknown, now: number): unknown =>
      ++calls === 3 ? null : applyBank(tx, command, now);
    await expect(replayJournal(journal, await stores.open(stores.dir()), flaky)).rejects.toThrow(/wrote nothing on replay/);
  });
});

describe("digest", () => {
  it("depends on the state only, not on the history that produced it", async () => {
    const direct = await storeWith([
      { k: "set", table: "accounts", key: "a", value: 4 },
      { k: "set", table: "activity", key: "a", value: 7 },
    ]);
    const roundabout = await storeWith([
      { k: "set", table: "activity", key: "a", value: 7 },
      { k: "set", table: "accounts", key: "z", value: 1 },
      { k: "set", table: "accounts", key: "a", value: 1 },
      { k: "del", table: "accounts", key: "z" },
      { k: "set", table: "accounts", key: "a", value: 4 },
    ]);
    expect(roundabout.digest()).toBe(direct.digest());
    expect(direct.digest()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("changes with any value, key or table", async () => {
    const base = (await storeWith([{ k: "set", table: "accounts", key: "a", value: 4 }])).digest();
    const variants = await Promise.all([
      storeWith([{ k: "set", table: "accounts", key: "a", value: 5 }]),
      storeWith([{ k: "set", table: "accounts", key: "b", value: 4 }]),
      storeWith([{ k: "set", table: "activity", key: "a", value: 4 }]),
      storeWith([]),
    ]);
    const digests = new Set([base, ...variants.map((store) => store.digest())]);
    expect(digests.size).toBe(5);
  });
});
