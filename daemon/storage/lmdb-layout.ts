// The LMDB layout: how the store's data sits in one LMDB environment, and
// every environment option, set explicitly.
//
// Contract:
// - One named db per engine Table (keys: strings, see keys.ts; values: bytes
//   from encoding.ts), plus `journal` (key: seq number → journal entry) and
//   `system` ("schemaVersion", "lastSeq"). No other dbs, nothing in the root db.
// - `system.lastSeq` is written in the same transaction as the journal entries
//   up to it, so on open the journal's last key equals it (checked).
// - A new environment gets its schema version (durably) before anything else;
//   an environment with data but no schema version, or another version, is
//   refused rather than guessed at.
// - Durability: 'sync' is plain LMDB (`overlappingSync: false`): the commit
//   writes data pages, fdatasync()s, writes the meta page through an O_DSYNC
//   descriptor and only then returns, and lmdb-js resolves a commit only after
//   that. 'none' sets `noSync` (no flush at all). Why not lmdb-js's Linux
//   default, `overlappingSync`: its docs define a resolved write as committed
//   but not necessarily flushed, and its payoff (flushing batch N while N+1
//   commits) does not exist for a store that keeps one batch in flight.
import { open, type Database, type RootDatabase } from "lmdb";
import { tables, type Table } from "../engine/tx.js";
import { assert, assertSafeInteger } from "../assert.js";
import { decodeValue, encodeValue } from "./encoding.js";

export type Durability = "sync" | "none";

export type TableDb = Database<Buffer, string>;
export type JournalDb = Database<Buffer, number>;

export interface LmdbLayout {
  readonly root: RootDatabase<Buffer, string>;
  readonly tableDbs: ReadonlyMap<Table, TableDb>;
  readonly journal: JournalDb;
  readonly system: TableDb;
}

// 2: the three time indexes (holdExpiry, expiry, idemExpiry) became one "due" table.
// 3: accounts and checks in fixed-schema encodings (record-codecs.ts).
// 4: idempotency answers in the time-ordered "due" table, not in the idempotency records.
export const schemaVersion = 4;
export const systemKeySchemaVersion = "schemaVersion";
export const systemKeyLastSeq = "lastSeq";

// lmdb-js's default, set explicitly: concurrent read transactions of this
// process (the event loop and each report worker thread hold one at a time).
const readersMax = 126;
// Pages hold mostly small records; 4 KiB matches the OS page on Linux x64/arm64.
const pageBytes = 4096;

// lmdb-js's typings omit a few documented options (noReadAhead, safeRestore);
// we set them anyway so every default that matters is explicit.
type EnvOptions = Parameters<typeof open>[0] & { noReadAhead: boolean; safeRestore: boolean };

/** Opens the environment and its dbs (no reads or writes yet). */
export async function openLayout(path: string, durability: Durability, mapSizeBytes: number): Promise<LmdbLayout> {
  const envOptions: EnvOptions = {
    path,
    // A directory, always: lmdb-js would otherwise treat a path containing a
    // "." as a file name.
    noSubdir: false,
    maxDbs: tables.length + 2, // every table + journal + system
    maxReaders: readersMax,
    // The initial map. lmdb-js's patched LMDB grows the map when data outgrows
    // it instead of failing with MDB_MAP_FULL, so this is not a hard cap.
    mapSize: mapSizeBytes,
    pageSize: pageBytes,
    remapChunks: false,
    noSync: durability === "none",
    overlappingSync: false,
    separateFlushed: false,
    noMetaSync: false,
    // Only meaningful with overlappingSync; pinned so the LMDB_RESTORE
    // environment variable cannot change how a store opens.
    safeRestore: false,
    // Write maps let a stray pointer corrupt the file; zeroed pages keep stale
    // process memory out of the data file.
    useWritemap: false,
    noMemInit: false,
    noReadAhead: false,
    readOnly: false,
    // Off: every asynchronous write of ours is inside one explicit `batch()`
    // block per transaction, so lmdb-js's implicit per-event-turn block adds
    // nothing, and it holds a commit promise of its own that nobody can
    // handle: when a large block's commit failed, that promise's rejection
    // was unhandled and ended the process before our waiters were answered
    // (seen with the commit-failure test). lmdb-js then starts the
    // transaction from a setImmediate. (Checkpoints are synchronous
    // transactions in their own thread, checkpoint-worker.ts.)
    eventTurnBatching: false,
    commitDelay: 0,
    strictAsyncOrder: false,
    // Values are pre-encoded by encoding.ts; keys are strings (keys.ts).
    encoding: "binary",
    keyEncoding: "ordered-binary",
    cache: false,
    compression: false,
  };
  const root = open<Buffer, string>(envOptions);
  try {
    const dbOptions = { encoding: "binary", keyEncoding: "ordered-binary", cache: false, compression: false, dupSort: false, useVersions: false } as const;
    const tableDbs = new Map<Table, TableDb>();
    for (const table of tables) tableDbs.set(table, root.openDB<Buffer, string>({ name: table, ...dbOptions }));
    const journal = root.openDB<Buffer, number>({ name: "journal", ...dbOptions });
    const system = root.openDB<Buffer, string>({ name: "system", ...dbOptions });
    return { root, tableDbs, journal, system };
  } catch (error) {
    // Not swallowed: rethrown once the environment is closed again.
    await root.close();
    throw error;
  }
}

/** Returns the durable lastSeq, initialising a new environment first. */
export async function readOrInitSystem(layout: LmdbLayout): Promise<number> {
  const { root, tableDbs, journal, system } = layout;
  const versionBytes = system.getBinary(systemKeySchemaVersion);
  if (versionBytes === undefined) {
    for (const [table, db] of tableDbs) assert(isEmpty(db), `table ${table} has data but the store has no schema version`);
    assert(isEmpty(journal), "journal has entries but the store has no schema version");
    const ok = await root.batch(() => {
      void system.put(systemKeySchemaVersion, encodeValue(schemaVersion));
      void system.put(systemKeyLastSeq, encodeValue(0));
    });
    assert(ok === true, "writing the initial system records failed a condition");
    return 0;
  }
  const version = decodeValue<number>(versionBytes);
  assert(version === schemaVersion, `store schema version ${version}, this build reads ${schemaVersion}`);
  const lastSeqBytes = system.getBinary(systemKeyLastSeq);
  assert(lastSeqBytes !== undefined, "store has a schema version but no lastSeq");
  const lastSeq = decodeValue<number>(lastSeqBytes);
  assertSafeInteger(lastSeq, "stored lastSeq");
  let lastJournalSeq = 0;
  for (const key of journal.getKeys({ reverse: true, limit: 1, snapshot: true })) lastJournalSeq = key;
  assert(lastJournalSeq === lastSeq, `journal ends at seq ${lastJournalSeq} but lastSeq is ${lastSeq}`);
  return lastSeq;
}

/** Page-based size figures for stats (cheap: reads LMDB's env info). */
export function layoutSizes(layout: LmdbLayout): { mapSizeBytes: number; usedBytes: number } {
  const stats = layout.root.getStats() as { pageSize?: number; lastPageNumber?: number; mapSize?: number };
  return {
    mapSizeBytes: stats.mapSize ?? 0,
    usedBytes: ((stats.lastPageNumber ?? 0) + 1) * (stats.pageSize ?? pageBytes),
  };
}

function isEmpty(db: TableDb | JournalDb): boolean {
  for (const _key of db.getKeys({ limit: 1, snapshot: true })) return false;
  return true;
}
