// An in-memory Tx for engine tests, simulations and benchmarks without I/O.
// Values are deep-frozen on write, so an engine function that mutates what it
// read throws at once instead of corrupting state silently.
import type { Table, Tx } from "./tx.js";

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value) && !ArrayBuffer.isView(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

export class MemoryTx implements Tx {
  readonly data = new Map<string, unknown>();
  get<T>(table: Table, key: string): T | undefined {
    return this.data.get(`${table}\u0000${key}`) as T | undefined;
  }
  put(table: Table, key: string, value: unknown): void {
    this.data.set(`${table}\u0000${key}`, deepFreeze(value));
  }
  del(table: Table, key: string): void {
    this.data.delete(`${table}\u0000${key}`);
  }
  /** Entries of one table whose key starts with `prefix`, in key order. */
  scan(table: Table, prefix = ""): [string, unknown][] {
    const head = `${table}\u0000${prefix}`;
    return [...this.data.entries()].filter(([k]) => k.startsWith(head)).map(([k, v]) => [k.slice(table.length + 1), v] as [string, unknown])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
