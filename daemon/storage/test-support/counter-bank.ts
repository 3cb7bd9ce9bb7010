// A toy engine for storage tests: a bank of integer counters in two tables,
// with read-modify-write, multi-key, delete, read-only and throwing commands.
// `ModelBank` runs the same commands against a plain Map: the reference the
// store must behave like (same answers, same state, same seq numbering).
import type { Table, Tx } from "../../engine/tx.js";

export type BankTable = Extract<Table, "accounts" | "activity">;

export type BankCommand =
  | { readonly k: "set"; readonly table: BankTable; readonly key: string; readonly value: number }
  | { readonly k: "add"; readonly key: string; readonly delta: number }
  | { readonly k: "del"; readonly table: BankTable; readonly key: string }
  | { readonly k: "get"; readonly table: BankTable; readonly key: string }
  | { readonly k: "move"; readonly from: string; readonly to: string; readonly amount: number }
  | { readonly k: "flip"; readonly key: string }
  | { readonly k: "boom"; readonly key: string };

export class BankBoom extends Error {
  override name = "BankBoom";
}

/** The engine: pure, synchronous, deterministic. Returns an answer for every command. */
export function applyBank(tx: Tx, command: unknown, now: number): unknown {
  const c = command as BankCommand;
  switch (c.k) {
    case "set":
      tx.put(c.table, c.key, c.value);
      return c.value;
    case "add": {
      const value = (tx.get<number>("accounts", c.key) ?? 0) + c.delta;
      tx.put("accounts", c.key, value);
      tx.put("activity", c.key, { at: now, delta: c.delta, value });
      return value;
    }
    case "del": {
      const old = tx.get<unknown>(c.table, c.key) ?? null;
      tx.del(c.table, c.key);
      return old;
    }
    case "get":
      return tx.get<unknown>(c.table, c.key) ?? null;
    case "move": {
      const from = tx.get<number>("accounts", c.from) ?? 0;
      tx.put("accounts", c.from, from - c.amount);
      // Reads its own write when from === to: the result must account for it.
      const to = tx.get<number>("accounts", c.to) ?? 0;
      tx.put("accounts", c.to, to + c.amount);
      return [tx.get<number>("accounts", c.from), tx.get<number>("accounts", c.to)];
    }
    case "flip": {
      // Put then delete in one command: a net delete, and the command must
      // see its own writes in between.
      tx.put("accounts", c.key, -1);
      const seen = tx.get<number>("accounts", c.key);
      tx.del("accounts", c.key);
      return [seen, tx.get<number>("accounts", c.key) ?? null];
    }
    case "boom":
      tx.put("accounts", c.key, 999_999);
      tx.del("activity", c.key);
      throw new BankBoom(`boom on ${c.key}`);
  }
}

/** The same engine over a plain Map, with the same all-or-nothing semantics as the store. */
export class ModelBank {
  readonly state = new Map<string, unknown>();
  lastSeq = 0;

  /** Applies like Store.submit: returns the answer, or rethrows apply's error with nothing changed. */
  apply(command: BankCommand, now: number): unknown {
    const staged = new Map<string, unknown>();
    const deleted = Symbol("deleted");
    const tx: Tx = {
      get: <T>(table: Table, key: string): T | undefined => {
        const id = `${table}/${key}`;
        const value = staged.has(id) ? staged.get(id) : this.state.get(id);
        return value === deleted ? undefined : (structuredClone(value) as T | undefined);
      },
      put: (table, key, value) => {
        staged.set(`${table}/${key}`, structuredClone(value));
      },
      del: (table, key) => {
        staged.set(`${table}/${key}`, deleted);
      },
    };
    const result = applyBank(tx, command, now);
    for (const [id, value] of staged) {
      if (value === deleted) this.state.delete(id);
      else this.state.set(id, value);
    }
    if (staged.size > 0) this.lastSeq++;
    return result;
  }
}

/** Everything in the bank tables as "table/key" → value, from any reader of scans. */
export function bankSnapshot(scan: (table: BankTable) => readonly (readonly [string, unknown])[]): Map<string, unknown> {
  const snapshot = new Map<string, unknown>();
  for (const table of ["accounts", "activity"] as const) {
    for (const [key, value] of scan(table)) snapshot.set(`${table}/${key}`, value);
  }
  return snapshot;
}
