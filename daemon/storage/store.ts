// The store: durable state for the single-writer daemon (LMDB + overlay +
// group commit + journal).
//
// Contract:
// - `submit(command, now, apply)` runs `apply` synchronously on a CommandTx.
//   Its writes become visible to every later command at once (overlay). Its
//   journal entry is appended to the write-ahead log (wal.ts) together with
//   those of every command of its batch, in one write; the promise resolves
//   with apply's result only once that write is durable. A command that wrote
//   nothing resolves once every batch pending when it ran is durable (it may
//   have read their effects). Promises resolve in submission order.
// - Checkpoints copy durable batches into LMDB, many at a time, in one LMDB
//   transaction with their journal entries and `lastSeq` (every
//   `checkpointIntervalMs`, or sooner once `checkpointCommands` wait). Until
//   then their writes stay in the overlay, so reads see them. `open` applies
//   the log's entries past LMDB's lastSeq again with the `replay` engine (a
//   crash between append and checkpoint), checkpoints them and deletes the
//   log. `checkpoint()` forces one (backups, reports, close).
// - When the store is overloaded (StoreOverloadedError), closing
//   (StoreClosedError) or failed (StoreFailedError), `submit` applies nothing
//   and returns a rejected promise: callers handle every store outcome in one
//   place (the service maps them to UNAVAILABLE) and a synchronous throw can
//   never escape a request handler under load. If `apply` throws, its writes
//   are discarded and the error is thrown synchronously, as is: it is an
//   engine bug and must not be mistaken for a store condition.
// - A batch holds at most `batchCommandsMax` commands; the next command
//   starts a new batch queued behind it. So one commit's completion answers a
//   bounded number of requests in one event-loop turn, however far behind the
//   disk is (without it, overload became a convoy: 1,600-command commits
//   whose answers and follow-up requests held the event loop for 0.4 s).
// - Batches are appended strictly one after another: batch N+1 is handed to
//   the log only after batch N is durable. So if N fails, nothing that read
//   N's effects can reach disk; the store then rejects every pending request
//   and refuses further work (isHealthy() === false), because the overlay now
//   disagrees with disk. A failed checkpoint fails the store the same way;
//   what the log already holds stays acknowledged (the next open replays it).
// - Durability ('sync'): a batch counts as durable when its log append
//   returned through an O_DSYNC descriptor; a checkpoint is a plain LMDB
//   commit (data pages fdatasync()ed, then the meta page written with
//   O_DSYNC). durability.test.ts checks the order before every answer.
//   'none': nothing is flushed; writes survive a process crash (the OS page
//   cache has them) but not an OS crash or power loss.
// - Seqs: every command that wrote gets the next seq (1, 2, ...), assigned
//   when applied. `lastSeq` counts applied commands, `durableSeq` durable
//   ones, `checkpointedSeq` the ones LMDB holds.
// - One Store per LMDB path per process: lmdb-js shares one environment per
//   path inside a process, which would make two stores silently share flags
//   and break single-writer ordering; opening a path twice is an assertion.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import { tables, type ReadTx, type Table, type Tx } from "../engine/tx.js";
import { assert, assertSafeInteger } from "../assert.js";
import { CommitBatch } from "./commit-batch.js";
import { CommandTx, ReadOnlyTx, type LocalWrite, type StateReader } from "./command-tx.js";
import { decodeValue, encodeValue } from "./encoding.js";
import { StoreClosedError, StoreFailedError, StoreOverloadedError } from "./errors.js";
import { decodeJournalEntry, encodeJournalEntry, type JournalEntry } from "./journal.js";
import {
  batchCommandsMaxDefault,
  checkpointBacklogMax,
  checkpointCommandsDefault,
  checkpointIntervalMsDefault,
  journalPageMax,
  pendingCommandsCeiling,
  scanLimitMax,
} from "./limits.js";
import { layoutSizes, openLayout, readOrInitSystem, systemKeyLastSeq, type Durability, type LmdbLayout, type TableDb } from "./lmdb-layout.js";
import { compareKeys } from "./keys.js";
import { visitMerged, type OverlayTable } from "./overlay.js";
import { codecOf, decodeStored, type RecordCodec } from "./record-codecs.js";
import { encodeCheckpoint } from "./checkpoint-codec.js";
import { CheckpointThread } from "./checkpoint-thread.js";
import { applyJournal } from "./replay.js";
import { frameRecord, hasWalSegments, readWal, walRecordHeaderBytes, WriteAheadLog, type WalRecord } from "./wal.js";
import { claimWalDir, releaseWalDir } from "./wal-dir.js";

export { StoreClosedError, StoreError, StoreFailedError, StoreOverloadedError, type StoreErrorCode } from "./errors.js";
export type { Durability } from "./lmdb-layout.js";
export type { JournalEntry } from "./journal.js";

export interface CommitInfo {
  /** Commands (journal entries) in the batch. */
  readonly commands: number;
  /** Distinct keys written (puts and deletes) by the batch. */
  readonly writes: number;
  /** From handing the batch to the write-ahead log until it was durable. */
  readonly ms: number;
}

export interface CheckpointInfo {
  /** Commands the checkpoint copied into LMDB. */
  readonly commands: number;
  /** Keys it wrote, counted once per batch that wrote them. */
  readonly writes: number;
  /** From handing it to LMDB until the LMDB commit was durable. */
  readonly ms: number;
}

export interface StoreOptions {
  readonly path: string;
  readonly durability: Durability;
  /**
   * Initial LMDB map size. lmdb-js grows the map on demand when the data
   * outgrows it (its patched LMDB remaps instead of failing with MDB_MAP_FULL),
   * so this is the address space reserved up front, not a hard cap; running
   * out of disk surfaces as a failed commit.
   */
  readonly mapSizeBytes: number;
  /** Commands that may await durability at once; beyond it `submit` rejects with StoreOverloadedError. */
  readonly pendingCommandsMax: number;
  /** Commands per LMDB transaction (group commit); default `batchCommandsMaxDefault` (limits.ts). */
  readonly batchCommandsMax?: number;
  /** Called after each batch is durable (metrics). Must not throw. */
  readonly onCommit?: (info: CommitInfo) => void;
  /** Called after each checkpoint is durable in LMDB (metrics). Must not throw. */
  readonly onCheckpoint?: (info: CheckpointInfo) => void;
  /**
   * The engine that applied the journaled commands. Required to open a store
   * whose write-ahead log holds commands LMDB does not (after a crash):
   * `open` applies them again with it, in order, with their recorded time.
   */
  readonly replay?: Apply<unknown>;
  /** Longest a durable batch waits for its checkpoint; default `checkpointIntervalMsDefault` (limits.ts). */
  readonly checkpointIntervalMs?: number;
  /** Durable commands that start a checkpoint before the interval is up; default `checkpointCommandsDefault` (limits.ts). */
  readonly checkpointCommands?: number;
  /**
   * Directory of the write-ahead log; default `path` (the LMDB directory).
   * Another device keeps log appends from queueing behind checkpoint
   * flushes. It must belong to this store alone (wal-dir.ts enforces it).
   */
  readonly walDir?: string;
}

export interface Epoch {
  readonly epoch: number;
  /** The first seq written in this epoch. */
  readonly startSeq: number;
}

/** System key of the epoch history (not part of the state digest, not journaled). */
const systemKeyEpochs = "epochs";

export interface StoreStats {
  readonly pendingCommands: number;
  readonly lastSeq: number;
  readonly durableSeq: number;
  readonly lastCommitMs: number;
  /** Seq of the last command LMDB holds (the rest is in the write-ahead log and the overlay). */
  readonly checkpointedSeq: number;
  readonly lastCheckpointMs: number;
  /** Current LMDB map size (may have grown past the configured size). */
  readonly mapSizeBytes: number;
  /** Pages in use × page size: the part of the data file holding data. */
  readonly usedBytes: number;
  readonly overlayEntries: number;
}

export type Apply<R> = (tx: Tx, command: unknown, now: number) => R;

/** One live entry: [key, value], like Map entries. */
export type ScanEntry<T> = readonly [key: string, value: T];

// See the contract: one Store per path per process.
const openPaths = new Set<string>();
/** Write-ahead log directories of the stores open in this process. */
const openWalDirs = new Set<string>();

interface TableState {
  readonly db: TableDb;
  readonly overlay: OverlayTable;
  /** The table's fixed-schema record codec, if it has one. */
  readonly codec: RecordCodec | undefined;
  /** Decoded values of a configuration table, shared by every reader; null for other tables. */
  readonly decoded: Map<string, unknown> | null;
}

/**
 * Configuration tables: read by nearly every POS request (the terminal at
 * hello; merchant, store and rules on every operation), written only by admin
 * commands, and small (one record per merchant, store, terminal). Their
 * decoded values are cached and shared, deep-frozen so a reader that tried to
 * change one would throw instead of corrupting the cache. Any write to a key
 * drops its cached value. Bounded by the size of the configuration itself;
 * misses are not cached, so unknown keys cannot grow it.
 */
const decodedCacheTables: ReadonlySet<Table> = new Set<Table>(["merchants", "stores", "terminals", "rules", "offers"]);

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (!ArrayBuffer.isView(value)) for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  return Store.open(options);
}

export class Store implements StateReader {
  private readonly tableStates: Map<Table, TableState>;
  /** The batch accumulating commands; not yet handed to LMDB. */
  private current: CommitBatch | null = null;
  /** Full batches waiting for the one in flight, oldest first; only while `current` is open after them. */
  private readonly sealed: CommitBatch[] = [];
  private readonly batchCommandsMax: number;
  /** The batch the write-ahead log is appending; at most one. */
  private inFlight: CommitBatch | null = null;
  /** Durable batches not yet in LMDB, oldest first. */
  private readonly durableBatches: CommitBatch[] = [];
  /** The batches of the checkpoint LMDB is committing, if one is. */
  private checkpointing: CommitBatch[] | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
  /** Commands in durableBatches and checkpointing: what the overlay holds beyond LMDB. */
  private uncheckpointedCommands = 0;
  private checkpointWaiters: { seq: number; resolve: () => void; reject: (reason: unknown) => void }[] = [];
  private readonly checkpointIntervalMs: number;
  private readonly checkpointCommands: number;
  private nextBatchId = 1;
  private pendingCount = 0;
  private assignedSeq: number;
  private committedSeq: number;
  private checkpointedSeq: number;
  private lastCommitMs = 0;
  private lastCheckpointMs = 0;
  /** While open() applies the log's records again: they are durable already, so batches skip the append. */
  private recovering = false;
  private recovered = { commands: 0, discardedTailBytes: 0 };
  private applying = false;
  private closing = false;
  private closed = false;
  private closePromise: Promise<void> | null = null;
  private failure: StoreFailedError | null = null;
  private idleResolves: (() => void)[] = [];
  private idleRejects: ((reason: unknown) => void)[] = [];
  // Created once: scheduling a commit allocates nothing per command.
  private readonly commitCurrentCallback = (): void => this.commitCurrent();
  private readonly checkpointCallback = (): void => {
    this.checkpointTimer = null;
    this.startCheckpoint();
  };

  private constructor(
    private readonly path: string,
    private readonly walDir: string,
    private readonly options: StoreOptions,
    private readonly layout: LmdbLayout,
    private readonly wal: WriteAheadLog,
    private readonly checkpointThread: CheckpointThread,
    lastSeq: number,
  ) {
    this.tableStates = new Map();
    for (const [table, db] of layout.tableDbs) {
      this.tableStates.set(table, { db, overlay: new Map(), codec: codecOf(table), decoded: decodedCacheTables.has(table) ? new Map() : null });
    }
    this.assignedSeq = lastSeq;
    this.committedSeq = lastSeq;
    this.checkpointedSeq = lastSeq;
    this.batchCommandsMax = options.batchCommandsMax ?? batchCommandsMaxDefault;
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? checkpointIntervalMsDefault;
    this.checkpointCommands = options.checkpointCommands ?? checkpointCommandsDefault;
  }

  static async open(options: StoreOptions): Promise<Store> {
    assert(options.durability === "sync" || options.durability === "none", `unknown durability ${String(options.durability)}`);
    assertSafeInteger(options.mapSizeBytes, "mapSizeBytes");
    assert(options.mapSizeBytes >= 1024 * 1024, "mapSizeBytes must be at least 1 MiB");
    assertSafeInteger(options.pendingCommandsMax, "pendingCommandsMax");
    assert(
      options.pendingCommandsMax >= 1 && options.pendingCommandsMax <= pendingCommandsCeiling,
      `pendingCommandsMax must be in 1..${pendingCommandsCeiling}`,
    );
    if (options.batchCommandsMax !== undefined) {
      assertSafeInteger(options.batchCommandsMax, "batchCommandsMax");
      assert(options.batchCommandsMax >= 1, "batchCommandsMax must be at least 1");
    }
    for (const name of ["checkpointIntervalMs", "checkpointCommands"] as const) {
      const value = options[name];
      if (value !== undefined) {
        assertSafeInteger(value, name);
        assert(value >= 1, `${name} must be at least 1`);
      }
    }
    const path = resolvePath(options.path);
    const walDir = resolvePath(options.walDir ?? options.path);
    assert(!openPaths.has(path), `store ${path} is already open in this process`);
    assert(!openWalDirs.has(walDir), `write-ahead log directory ${walDir} is already in use in this process`);

    openPaths.add(path);
    openWalDirs.add(walDir);
    try {
      const layout = await openLayout(path, options.durability, options.mapSizeBytes);
      try {
        const lastSeq = await readOrInitSystem(layout);
        mkdirSync(walDir, { recursive: true });
        claimWalDir(path, walDir, hasWalSegments(walDir));
        const log = readWal(walDir);
        const wal = new WriteAheadLog(walDir, options.durability, log.segments);
        const thread = await CheckpointThread.start(path, options.durability, options.mapSizeBytes);
        const store = new Store(path, walDir, options, layout, wal, thread, lastSeq);
        try {
          await store.recover(log.records.filter((record) => record.seq > lastSeq), log.discardedTailBytes);
        } catch (error) {
          wal.close();
          await thread.close();
          throw error;
        }
        return store;
      } catch (error) {
        // Not swallowed: rethrown once the environment is closed again.
        await layout.root.close();
        throw error;
      }
    } catch (error) {
      openPaths.delete(path);
      openWalDirs.delete(walDir);
      throw error;
    }
  }

  /** Seq of the last command applied (durable or not). */
  get lastSeq(): number {
    return this.assignedSeq;
  }

  /** Seq of the last command known durable. */
  get durableSeq(): number {
    return this.committedSeq;
  }

  /**
   * What `open` found in the write-ahead log: commands it applied again (a
   * crash came before their checkpoint) and the bytes of a torn last record
   * it ignored (a write the crash cut short, never acknowledged).
   */
  get recovery(): { readonly commands: number; readonly discardedTailBytes: number } {
    return this.recovered;
  }

  get pendingCommandsMax(): number {
    return this.options.pendingCommandsMax;
  }

  /** Commands (and read-only waiters) submitted and not yet durable: what a new command would wait behind. */
  get pendingCommands(): number {
    return this.pendingCount;
  }

  isHealthy(): boolean {
    return this.failure === null && !this.closing;
  }

  read<R>(fn: (tx: ReadTx) => R): R {
    this.assertReadable();
    const tx = new ReadOnlyTx(this);
    try {
      return fn(tx);
    } finally {
      tx.finish();
    }
  }

  submit<R>(command: unknown, now: number, apply: Apply<R>): Promise<R> {
    assert(!this.applying, "submit called from inside apply");
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new StoreClosedError());
    if (this.pendingCount >= this.options.pendingCommandsMax) {
      return Promise.reject(new StoreOverloadedError(this.pendingCount, this.options.pendingCommandsMax));
    }
    if (this.uncheckpointedCommands >= checkpointBacklogMax) {
      // LMDB is far behind the log: the overlay would grow without bound.
      return Promise.reject(new StoreOverloadedError(this.uncheckpointedCommands, checkpointBacklogMax));
    }
    assertSafeInteger(now, "now");

    const tx = new CommandTx(this);
    let result: R;
    this.applying = true;
    try {
      result = apply(tx, command, now);
    } finally {
      this.applying = false;
      tx.finish();
    }
    assert(!isThenable(result), "apply returned a promise: the engine must be synchronous");

    const writes = tx.writes;
    if (writes === null) {
      const newest = this.current ?? this.sealed[this.sealed.length - 1] ?? this.inFlight;
      if (newest === null) return Promise.resolve(result);
      this.pendingCount++;
      return newest.addWaiter(result) as Promise<R>;
    }

    // Encode the journal entry before touching shared state: if the command
    // cannot be encoded, this throws and nothing of the command remains.
    const seq = this.assignedSeq + 1;
    const journalBytes = encodeJournalEntry(seq, now, command);
    let batch = this.current ?? this.openBatch();
    if (batch.commandCount >= this.batchCommandsMax) {
      this.sealed.push(batch);
      this.current = null;
      batch = this.openBatch();
    }
    this.stage(writes, batch);
    batch.journalSeqs.push(seq);
    batch.journalBytes.push(journalBytes);
    this.assignedSeq = seq;
    this.pendingCount++;
    return batch.addWaiter(result) as Promise<R>;
  }

  /**
   * Resolves once LMDB holds every command durable when it was called (and
   * every command pending then, once durable); rejects with the failure if
   * the store failed first.
   */
  async checkpoint(): Promise<void> {
    await this.idle();
    const seq = this.committedSeq;
    if (this.checkpointedSeq >= seq) return;
    if (this.failure !== null) throw this.failure;
    const done = new Promise<void>((resolve, reject) => this.checkpointWaiters.push({ seq, resolve, reject }));
    this.startCheckpoint();
    return done;
  }

  /** Resolves when nothing is pending; rejects with the failure if the store failed. */
  idle(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.current === null && this.inFlight === null && this.sealed.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.idleResolves.push(resolve);
      this.idleRejects.push(reject);
    });
  }

  /**
   * Live entries of `table` whose key starts with `prefix`, in key order,
   * durable state and overlay merged; at most `limit`. Page with `startAfter`
   * (the last key of the previous page).
   */
  scan<T>(table: Table, prefix: string, limit: number, startAfter?: string): ScanEntry<T>[] {
    this.assertReadable();
    assert(typeof prefix === "string", "scan prefix must be a string");
    assert(Number.isSafeInteger(limit) && limit >= 1 && limit <= scanLimitMax, `scan limit must be in 1..${scanLimitMax}`);
    const state = this.tableState(table);
    const entries: ScanEntry<T>[] = [];
    visitMerged(state.db, state.overlay, { prefix, startAfter }, (key, bytes) => {
      entries.push([key, decodeStored<T>(state.codec, bytes)]);
      return entries.length < limit;
    });
    return entries;
  }

  /**
   * Keys of `table` starting with `prefix`, in key order, durable state and
   * overlay merged, at most `limit`, after `startAfter` and before `before`
   * when given. Values are neither read nor decoded.
   */
  scanKeys(table: Table, prefix: string, limit: number, startAfter?: string, before?: string): string[] {
    this.assertReadable();
    assert(typeof prefix === "string", "scan prefix must be a string");
    assert(Number.isSafeInteger(limit) && limit >= 1 && limit <= scanLimitMax, `scan limit must be in 1..${scanLimitMax}`);
    const state = this.tableState(table);
    const keys: string[] = [];
    visitMerged(state.db, state.overlay, { prefix, startAfter, keysOnly: true }, (key) => {
      if (before !== undefined && compareKeys(key, before) >= 0) return false;
      keys.push(key);
      return keys.length < limit;
    });
    return keys;
  }

  /**
   * sha256 (hex) over every table in `tables` order, keys in order, each
   * entry as u32 length + table name, u32 length + key UTF-8 bytes, u32
   * length + value bytes. Journal and system records are not included: two
   * stores with equal state have equal digests whatever their history.
   * Reads durable state and overlay together, so it may run while commits
   * are pending (see overlay.ts). O(state): for admin and tests, not the POS path.
   */
  digest(): string {
    this.assertReadable();
    const hash = createHash("sha256");
    const length = Buffer.alloc(4);
    const updateWithLength = (bytes: Uint8Array): void => {
      length.writeUInt32BE(bytes.length, 0);
      hash.update(length);
      hash.update(bytes);
    };
    for (const table of tables) {
      const state = this.tableState(table);
      const name = Buffer.from(table, "utf8");
      visitMerged(state.db, state.overlay, { prefix: "", startAfter: undefined }, (key, bytes) => {
        updateWithLength(name);
        updateWithLength(Buffer.from(key, "utf8"));
        updateWithLength(bytes);
        return true;
      });
    }
    return hash.digest("hex");
  }

  /**
   * Durable journal entries from `fromSeq` on, at most `limit`, in seq order.
   * Entries of commands not yet durable are never returned (a replica must not
   * see what the primary may still lose).
   */
  journalEntries(fromSeq: number, limit: number): JournalEntry[] {
    this.assertReadable();
    assert(Number.isSafeInteger(fromSeq) && fromSeq >= 1, "fromSeq must be an integer >= 1");
    assert(Number.isSafeInteger(limit) && limit >= 1 && limit <= journalPageMax, `limit must be in 1..${journalPageMax}`);
    const entries: JournalEntry[] = [];
    if (fromSeq > this.committedSeq) return entries;
    let expected = fromSeq;
    // LMDB holds what was checkpointed; the batches in memory hold the rest.
    if (fromSeq <= this.checkpointedSeq) {
      for (const { key, value } of this.layout.journal.getRange({ start: fromSeq, end: this.checkpointedSeq + 1, limit, snapshot: true })) {
        assert(key === expected, `journal gap: expected seq ${expected}, found ${key}`);
        entries.push(decodeJournalEntry(key, value));
        expected++;
      }
      if (entries.length === limit || expected <= this.checkpointedSeq) return entries;
    }
    for (const batch of [...(this.checkpointing ?? []), ...this.durableBatches]) {
      const first = batch.journalSeqs[0]!;
      const last = batch.journalSeqs[batch.journalSeqs.length - 1]!;
      if (last < expected) continue;
      for (let seq = Math.max(first, expected); seq <= last && entries.length < limit; seq++) {
        assert(seq === expected, `journal gap: expected seq ${expected}, found ${seq}`);
        entries.push(decodeJournalEntry(seq, batch.journalBytes[seq - first]!));
        expected++;
      }
      if (entries.length === limit) break;
    }
    return entries;
  }

  /**
   * Writes a consistent, compacted copy of the durable state into `dir` while
   * the store keeps serving: LMDB copies from one read transaction, so the
   * copy holds every command durable when it started (at least `seq`) and
   * nothing half-committed. `dir` must not exist or be empty; it becomes a
   * data directory's `lmdb` folder (start a daemon on its parent to restore).
   */
  async backup(dir: string): Promise<{ seq: number; bytes: number }> {
    this.assertReadable();
    const target = resolvePath(dir);
    assert(!openPaths.has(target), "cannot back up into an open store");
    if (existsSync(target) && readdirSync(target).length > 0) throw new Error(`backup target ${dir} is not empty`);
    mkdirSync(target, { recursive: true });
    // The copy is of LMDB: first make it hold everything durable.
    await this.checkpoint();
    const seq = this.checkpointedSeq;
    await this.layout.root.backup(target, true);
    return { seq, bytes: statSync(join(target, "data.mdb")).size };
  }

  /** First seq still in the journal (older entries were truncated); lastSeq + 1 when it is empty. */
  journalFirstSeq(): number {
    this.assertReadable();
    for (const key of this.layout.journal.getKeys({ limit: 1, snapshot: true })) return key;
    // LMDB's journal is empty: the entries since the last checkpoint (in memory) come next.
    return this.checkpointedSeq + 1;
  }

  /**
   * Deletes durable journal entries below `beforeSeq`, at most `limit` per
   * call (retention: a replica that needs older entries bootstraps from a
   * snapshot instead). The state is untouched. Resolves with how many were
   * deleted.
   */
  async truncateJournal(beforeSeq: number, limit = 10_000): Promise<number> {
    this.assertReadable();
    const end = Math.min(beforeSeq, this.checkpointedSeq + 1);
    const keys = [...this.layout.journal.getKeys({ end, limit, snapshot: true })];
    if (keys.length === 0) return 0;
    await this.layout.root.batch(() => {
      for (const key of keys) void this.layout.journal.remove(key);
    });
    return keys.length;
  }

  /**
   * The replication epochs this store has lived through, oldest first: epoch
   * 1 starts at seq 1; each promotion of a replica starts the next epoch at
   * the seq after the last one it had. A node whose entries run past the
   * start of an epoch it never saw has diverged (see daemon/replication/).
   */
  epochs(): Epoch[] {
    this.assertReadable();
    const bytes = this.layout.system.getBinary(systemKeyEpochs);
    return bytes === undefined ? [{ epoch: 1, startSeq: 1 }] : decodeValue<Epoch[]>(bytes);
  }

  /** Starts the next epoch after everything pending is durable (a promotion). */
  async beginEpoch(): Promise<Epoch> {
    await this.idle();
    const epochs = this.epochs();
    const next: Epoch = { epoch: epochs[epochs.length - 1]!.epoch + 1, startSeq: this.committedSeq + 1 };
    await this.layout.root.batch(() => {
      void this.layout.system.put(systemKeyEpochs, encodeValue([...epochs, next]));
    });
    return next;
  }

  stats(): StoreStats {
    const sizes = this.closed ? undefined : layoutSizes(this.layout);
    let overlayEntries = 0;
    for (const state of this.tableStates.values()) overlayEntries += state.overlay.size;
    return {
      pendingCommands: this.pendingCount,
      lastSeq: this.assignedSeq,
      durableSeq: this.committedSeq,
      lastCommitMs: this.lastCommitMs,
      checkpointedSeq: this.checkpointedSeq,
      lastCheckpointMs: this.lastCheckpointMs,
      mapSizeBytes: sizes?.mapSizeBytes ?? this.options.mapSizeBytes,
      usedBytes: sizes?.usedBytes ?? 0,
      overlayEntries,
    };
  }

  /**
   * Stops accepting submits, waits until everything pending is durable and
   * closes LMDB. Rejects (after closing LMDB) with StoreFailedError if the
   * store failed: then some pending work was not durable.
   */
  close(): Promise<void> {
    if (this.closePromise === null) this.closePromise = this.closeOnce();
    return this.closePromise;
  }

  // --- StateReader (used by the Tx objects) ---

  readValue<T>(table: Table, key: string): T | undefined {
    const state = this.tableState(table);
    if (state.decoded !== null) {
      const cached = state.decoded.get(key);
      if (cached !== undefined) return cached as T;
      const value = this.readUncached<T>(state, key);
      if (value !== undefined) state.decoded.set(key, deepFreeze(value));
      return value;
    }
    return this.readUncached<T>(state, key);
  }

  private readUncached<T>(state: TableState, key: string): T | undefined {
    const entry = state.overlay.get(key);
    if (entry !== undefined) return entry.bytes === null ? undefined : decodeStored<T>(state.codec, entry.bytes);
    // getBinaryFast returns a buffer the next read overwrites; decoding
    // copies everything out of it before we return.
    const bytes = state.db.getBinaryFast(key);
    return bytes === undefined ? undefined : decodeStored<T>(state.codec, bytes);
  }

  assertTable(table: Table): void {
    assert(this.tableStates.has(table), `unknown table ${String(table)}`);
  }

  // --- group commit ---

  private openBatch(): CommitBatch {
    const batch = new CommitBatch(this.nextBatchId++);
    this.current = batch;
    // Commit at the end of this event-loop turn (setImmediate runs after the
    // poll phase), so every request that arrived in this turn shares the
    // transaction. If a batch is in flight, its completion starts this one.
    if (this.inFlight === null) setImmediate(this.commitCurrentCallback);
    return batch;
  }

  private stage(writes: Map<string, LocalWrite>, batch: CommitBatch): void {
    for (const write of writes.values()) {
      const state = this.tableState(write.table);
      state.decoded?.delete(write.key);
      const overlay = state.overlay;
      const entry = overlay.get(write.key);
      if (entry !== undefined && entry.batchId === batch.id) {
        // Written earlier in this batch: listed once, with the newest bytes.
        entry.bytes = write.bytes;
        batch.touchedBytes[entry.index] = write.bytes;
        continue;
      }
      const index = batch.touchedKeys.length;
      batch.touchedTables.push(write.table);
      batch.touchedKeys.push(write.key);
      batch.touchedBytes.push(write.bytes);
      if (entry === undefined) {
        overlay.set(write.key, { bytes: write.bytes, batchId: batch.id, index });
      } else {
        // Written by an older batch (in flight or queued): the entry moves to
        // this batch, so the older one's completion does not remove it; the
        // older batch still commits its own bytes (touchedBytes).
        entry.bytes = write.bytes;
        entry.batchId = batch.id;
        entry.index = index;
      }
    }
  }

  /** Hands the oldest waiting batch (sealed first, then current) to the write-ahead log, unless one is in flight. */
  private commitCurrent(): void {
    if (this.inFlight !== null || this.failure !== null) return;
    let batch = this.sealed.shift();
    if (batch === undefined) {
      if (this.current === null) return;
      batch = this.current;
      this.current = null;
    }
    this.inFlight = batch;
    batch.committedAtMs = performance.now();
    const seqs = batch.journalSeqs;
    if (this.recovering) {
      // Replayed from the log: durable already.
      void Promise.resolve().then(() => this.onBatchDurable(batch));
      return;
    }
    let bytes = 0;
    for (const entry of batch.journalBytes) bytes += walRecordHeaderBytes + entry.length;
    const framed = Buffer.allocUnsafe(bytes);
    let offset = 0;
    for (const entry of batch.journalBytes) offset = frameRecord(framed, offset, entry);
    this.wal.append(framed, seqs[0]!, seqs[seqs.length - 1]!).then(
      () => this.onBatchDurable(batch),
      (error: unknown) => this.onBatchFailed(batch, error),
    );
  }

  private onBatchDurable(batch: CommitBatch): void {
    assert(this.inFlight === batch, "a batch completed that was not in flight");
    const ms = performance.now() - batch.committedAtMs;
    this.inFlight = null;
    this.committedSeq = batch.journalSeqs[batch.journalSeqs.length - 1]!;
    // Packed now, batch by batch, so a checkpoint is only a hand-over: the
    // packing cost is spread over the commits instead of one block per
    // checkpoint.
    batch.checkpointBytes = encodeCheckpoint([batch], this.committedSeq);
    this.durableBatches.push(batch);
    this.uncheckpointedCommands += batch.commandCount;
    this.lastCommitMs = ms;
    // Group commit: what accumulated during this append goes to disk now,
    // before we spend time answering. (After a failed checkpoint nothing new
    // is appended, but this batch is in the log: it is answered.)
    if (this.failure === null && (this.sealed.length > 0 || this.current !== null)) this.commitCurrent();
    this.pendingCount -= batch.waiterCount;
    batch.resolveAll();
    this.options.onCommit?.({ commands: batch.commandCount, writes: batch.touchedKeys.length, ms });
    this.scheduleCheckpoint();
    if (this.current === null && this.inFlight === null && this.sealed.length === 0) this.settleIdle(this.failure);
  }

  private onBatchFailed(batch: CommitBatch, error: unknown): void {
    assert(this.inFlight === batch, "a batch failed that was not in flight");
    // Refuse new work immediately; the waiters are rejected below.
    this.failure ??= new StoreFailedError(`write-ahead log append of batch ${batch.id} failed`, { cause: error });
    this.rejectEverything(batch, error);
  }

  // --- checkpoints: durable batches into LMDB ---

  private scheduleCheckpoint(): void {
    if (this.checkpointing !== null || this.failure !== null || this.durableBatches.length === 0) return;
    if (this.uncheckpointedCommands >= this.checkpointCommands || this.checkpointWaiters.length > 0) {
      this.startCheckpoint();
      return;
    }
    if (this.checkpointTimer === null) {
      this.checkpointTimer = setTimeout(this.checkpointCallback, this.checkpointIntervalMs);
      // A pending checkpoint must not keep the process alive: close() runs the last one.
      this.checkpointTimer.unref();
    }
  }

  private startCheckpoint(): void {
    if (this.checkpointing !== null || this.failure !== null || this.durableBatches.length === 0) return;
    if (this.checkpointTimer !== null) {
      clearTimeout(this.checkpointTimer);
      this.checkpointTimer = null;
    }
    const batches = this.durableBatches.splice(0);
    this.checkpointing = batches;
    const startedMs = performance.now();
    const chunks: Buffer[] = [];
    for (const batch of batches) {
      assert(batch.checkpointBytes !== null, "a durable batch was not packed");
      chunks.push(batch.checkpointBytes);
      batch.checkpointBytes = null;
    }
    this.checkpointThread.write(chunks).then(
      () => {
        // Our reads must see what the other thread committed before the
        // overlay lets go of it.
        this.layout.root.resetReadTxn();
        this.onCheckpointed(batches, performance.now() - startedMs);
      },
      (error: unknown) => this.onCheckpointFailed(error),
    );
  }

  private onCheckpointed(batches: readonly CommitBatch[], ms: number): void {
    assert(this.checkpointing === batches, "a checkpoint completed that was not in flight");
    const lastBatch = batches[batches.length - 1]!;
    this.checkpointedSeq = lastBatch.journalSeqs[lastBatch.journalSeqs.length - 1]!;
    let commands = 0;
    let writes = 0;
    for (const batch of batches) {
      commands += batch.commandCount;
      writes += batch.touchedKeys.length;
      for (let i = 0; i < batch.touchedKeys.length; i++) {
        const overlay = this.tableState(batch.touchedTables[i]!).overlay;
        const key = batch.touchedKeys[i]!;
        const entry = overlay.get(key);
        // LMDB has the entry's newest bytes only if no later batch wrote the key.
        if (entry !== undefined && entry.batchId <= lastBatch.id) overlay.delete(key);
      }
    }
    this.uncheckpointedCommands -= commands;
    this.checkpointing = null;
    this.lastCheckpointMs = ms;
    this.options.onCheckpoint?.({ commands, writes, ms });
    try {
      this.wal.deleteSegmentsThrough(this.checkpointedSeq);
    } catch (error) {
      // We cannot delete files in our own directory (permissions changed, a
      // read-only file system): the next append would likely fail too.
      this.onCheckpointFailed(error);
      return;
    }
    const waiters = this.checkpointWaiters;
    this.checkpointWaiters = [];
    for (const waiter of waiters) {
      if (waiter.seq <= this.checkpointedSeq) waiter.resolve();
      else this.checkpointWaiters.push(waiter);
    }
    this.scheduleCheckpoint();
  }

  // What the log holds stays acknowledged (the next open replays it); what
  // it does not hold yet is refused, and so is everything new.
  private onCheckpointFailed(cause: unknown): void {
    const failure = new StoreFailedError(`checkpoint into LMDB failed: ${describe(cause)}`, { cause });
    this.failure ??= failure;
    this.checkpointing = null;
    if (this.checkpointTimer !== null) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = null;
    const notAppended = [...this.sealed, ...(this.current === null ? [] : [this.current])];
    this.current = null;
    this.sealed.length = 0;
    for (const batch of notAppended) {
      this.pendingCount -= batch.waiterCount;
      batch.rejectAll(this.failure);
    }
    for (const waiter of this.checkpointWaiters.splice(0)) waiter.reject(this.failure);
    if (this.inFlight === null) this.settleIdle(this.failure);
  }

  private rejectEverything(batch: CommitBatch, cause: unknown): void {
    const failure = new StoreFailedError(
      `commit of seq ${batch.journalSeqs[0]}..${batch.journalSeqs[batch.journalSeqs.length - 1]} failed: ${describe(cause)}`,
      { cause },
    );
    this.failure = failure;
    const later = [...this.sealed, ...(this.current === null ? [] : [this.current])];
    this.inFlight = null;
    this.current = null;
    this.sealed.length = 0;
    this.pendingCount = 0;
    batch.rejectAll(failure);
    for (const b of later) b.rejectAll(failure);
    for (const waiter of this.checkpointWaiters.splice(0)) waiter.reject(failure);
    this.settleIdle(failure);
  }

  private settleIdle(failure: StoreFailedError | null): void {
    const resolves = this.idleResolves;
    const rejects = this.idleRejects;
    this.idleResolves = [];
    this.idleRejects = [];
    if (failure === null) for (const resolve of resolves) resolve();
    else for (const reject of rejects) reject(failure);
  }

  private async closeOnce(): Promise<void> {
    this.closing = true;
    let failure: unknown = null;
    try {
      // LMDB gets everything durable, so a clean restart replays nothing.
      await this.checkpoint();
    } catch (error) {
      // Not swallowed: rethrown once LMDB is closed (closing must not leak the environment).
      failure = error;
    }
    this.closed = true;
    if (this.checkpointTimer !== null) clearTimeout(this.checkpointTimer);
    this.wal.close();
    // LMDB holds everything the log does: a clean stop leaves no log behind,
    // and the next start may take its log from another directory.
    if (failure === null) {
      this.wal.deleteSegmentsThrough(this.checkpointedSeq);
      if (!hasWalSegments(this.walDir)) releaseWalDir(this.path, this.walDir);
    }
    await this.checkpointThread.close();
    await this.layout.root.close();
    openPaths.delete(this.path);
    openWalDirs.delete(this.walDir);
    if (failure !== null) throw failure;
  }

  /**
   * Applies again, in order, the log's records past LMDB's lastSeq (a crash
   * came between their append and their checkpoint), puts them in LMDB and
   * deletes the log's old segments.
   */
  private async recover(records: readonly WalRecord[], discardedTailBytes: number): Promise<void> {
    this.recovered = { commands: 0, discardedTailBytes };
    if (records.length > 0) {
      const apply = this.options.replay;
      assert(
        apply !== undefined,
        `the write-ahead log holds ${records.length} commands past the stored state (seq ${records[0]!.seq}..${records[records.length - 1]!.seq}): open the store with the engine (replay) to apply them`,
      );
      this.recovering = true;
      try {
        // The same loop as a journal replay: contiguous seqs continuing
        // LMDB's, every command writing again, bounded pending work.
        await applyJournal(records, this, apply);
        await this.checkpoint();
        this.recovered = { commands: records.length, discardedTailBytes };
      } finally {
        this.recovering = false;
      }
    }
    this.wal.deleteFound();
  }

  private assertReadable(): void {
    assert(!this.applying, "store read from inside apply: use the Tx");
    if (this.closed) throw new StoreClosedError();
    if (this.failure !== null) throw this.failure;
  }

  private tableState(table: Table): TableState {
    const state = this.tableStates.get(table);
    assert(state !== undefined, `unknown table ${String(table)}`);
    return state;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as { then?: unknown }).then === "function";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
