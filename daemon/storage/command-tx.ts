// The Tx implementations handed to the engine.
//
// Contract:
// - `CommandTx` buffers one command's writes (already encoded) and its `get`
//   sees them first, then the store's overlay, then LMDB (via StateReader).
//   Nothing outside the Tx changes until the store stages the buffered writes
//   after `apply` returned, so a command that throws leaves no trace.
// - `ReadOnlyTx` is for `store.read`: a write through it is a bug.
// - Both refuse use after their command/read finished: an engine that kept a
//   Tx around would otherwise read or write outside any command.
// - Values are encoded at `put` (a later mutation of the object by the engine
//   cannot change what is stored) and decoded at every `get` (the engine never
//   holds a reference into stored state), with the table's record codec
//   (record-codecs.ts) where it has one.
import type { ReadTx, Table, Tx } from "../engine/tx.js";
import { assert } from "../assert.js";
import { codecOf, decodeStored, encodeStored } from "./record-codecs.js";
import { assertKey } from "./keys.js";
import { writesPerCommandMax } from "./limits.js";

/** What a Tx reads through once its own writes do not answer: overlay, then LMDB. */
export interface StateReader {
  readValue<T>(table: Table, key: string): T | undefined;
  scan<T>(table: Table, prefix: string, limit: number): ReadonlyArray<readonly [string, T]>;
  scanKeys(table: Table, prefix: string, limit: number, startAfter?: string, before?: string): readonly string[];
  assertTable(table: Table): void;
}

/** One buffered write; `bytes === null` is a delete. */
export interface LocalWrite {
  readonly table: Table;
  readonly key: string;
  bytes: Buffer | null;
}

export class CommandTx implements Tx {
  private active = true;
  /** Keyed by table + NUL + key (table names contain no NUL, so this is unambiguous). Null until the first write: read-only commands allocate nothing. */
  writes: Map<string, LocalWrite> | null = null;

  constructor(private readonly state: StateReader) {}

  get<T>(table: Table, key: string): T | undefined {
    assert(this.active, "Tx used after its command finished");
    assertKey(key);
    if (this.writes !== null) {
      const local = this.writes.get(table + "\u0000" + key);
      if (local !== undefined) return local.bytes === null ? undefined : decodeStored<T>(codecOf(table), local.bytes);
    }
    return this.state.readValue<T>(table, key);
  }

  put(table: Table, key: string, value: unknown): void {
    assert(this.active, "Tx used after its command finished");
    this.record(table, key, encodeStored(codecOf(table), value));
  }

  del(table: Table, key: string): void {
    assert(this.active, "Tx used after its command finished");
    this.record(table, key, null);
  }

  finish(): void {
    this.active = false;
  }

  private record(table: Table, key: string, bytes: Buffer | null): void {
    this.state.assertTable(table);
    assertKey(key);
    if (this.writes === null) this.writes = new Map();
    const id = table + "\u0000" + key;
    const existing = this.writes.get(id);
    if (existing !== undefined) {
      existing.bytes = bytes;
      return;
    }
    assert(this.writes.size < writesPerCommandMax, `command writes more than ${writesPerCommandMax} keys`);
    this.writes.set(id, { table, key, bytes });
  }
}

export class ReadOnlyTx implements ReadTx {
  private active = true;

  constructor(private readonly state: StateReader) {}

  get<T>(table: Table, key: string): T | undefined {
    assert(this.active, "Tx used after its read finished");
    assertKey(key);
    return this.state.readValue<T>(table, key);
  }

  scan<T>(table: Table, prefix: string, limit: number): ReadonlyArray<readonly [string, T]> {
    assert(this.active, "Tx used after its read finished");
    return this.state.scan<T>(table, prefix, limit);
  }

  scanKeys(table: Table, prefix: string, limit: number, before?: string): readonly string[] {
    assert(this.active, "Tx used after its read finished");
    return this.state.scanKeys(table, prefix, limit, undefined, before);
  }

  put(table: Table, key: string): void {
    assert(false, `write inside store.read(): put ${table}/${key}`);
  }

  del(table: Table, key: string): void {
    assert(false, `write inside store.read(): del ${table}/${key}`);
  }

  finish(): void {
    this.active = false;
  }
}
