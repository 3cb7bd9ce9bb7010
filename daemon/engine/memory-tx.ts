// An in-memory Tx for engine tests, simulations and benchmarks without I/O.
// Values are deep-frozen on write, so an engine function that mutates what it
// read throws at once instead of corrupting state silently.
import type { ReadTx, Table } from "./tx.js";

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value) && !ArrayBuffer.isView(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

export class MemoryTx implements ReadTx {
  private readonly tables = new Map<Table, Map<string, unknown>>();
  /** Benchmarks turn freezing off to measure the engine, not the guard. */
  constructor(private readonly freeze = true) {}

  private table(table: Table): Map<string, unknown> {
    let t = this.tables.get(table);
    if (!t) {
      t = new Map();
      this.tables.set(table, t);
    }
    return t;
  }
  get<T>(table: Table, key: string): T | undefined {
    return this.tables.get(table)?.get(key) as T | undefined;
  }
  put(table: Table, key: string, value: unknown): void {
    this.table(table).set(key, this.freeze ? deepFreeze(value) : value);
  }
  del(table: Table, key: string): void {
    this.tables.get(table)?.delete(key);
  }
  /** Entries of one table whose key starts with `prefix`, in key order (all of them without a limit). */
  scan<T>(table: Table, prefix = "", limit = Number.MAX_SAFE_INTEGER): [string, T][] {
    return ([...(this.tables.get(table) ?? new Map<string, unknown>()).entries()] as [string, T][]).filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, limit);
  }
  scanKeys(table: Table, prefix: string, limit: number, before?: string): string[] {
    return this.scan(table, prefix).map(([k]) => k).filter((k) => before === undefined || k < before).slice(0, limit);
  }
  /** Every entry as [table, key, value], sorted: for comparing two states. */
  entries(): [string, string, unknown][] {
    const out: [string, string, unknown][] = [];
    for (const [table, rows] of this.tables) for (const [k, v] of rows) out.push([table, k, v]);
    return out.sort((a, b) => (a[0] + "\u0000" + a[1] < b[0] + "\u0000" + b[1] ? -1 : 1));
  }
}
