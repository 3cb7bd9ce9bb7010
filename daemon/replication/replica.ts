// The replica's side of replication (SPEC O3): follow a primary, apply its
// durable journal entries through the same engine entry point
// (`store.submit(command, at, applyCommand)`), so the replica's state and
// journal are identical, and acknowledge each entry once it is durable here.
//
// - Resume: the hello names the next seq wanted (lastSeq + 1, counting
//   entries applied but not yet durable: they will be, or the store fails
//   and the process restarts from its durable state).
// - Exactly once: an entry with a seq already applied is skipped; a gap is a
//   protocol error (reconnect and resume); an entry that does not produce
//   the same seq here means the states differ: fatal, never papered over.
// - Snapshots: an empty replica starts from one (bootstrapReplica, before
//   the store opens). A replica that fell behind the primary's journal
//   retention receives one while running: it is written next to the data
//   (lmdb.incoming) and the process exits so the supervisor restarts it on
//   the snapshot (installIncomingSnapshot at start).
// - Reconnects with capped exponential backoff; refusals (diverged, wrong
//   token) are fatal: an operator must look.
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync, type WriteStream } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import WebSocket from "ws";
import { applyCommand } from "../engine/apply.js";
import type { Tx } from "../engine/tx.js";
import type { Logger } from "../observability/logger.js";
import type { Epoch, Store } from "../storage/store.js";
import { discardWalOf } from "../storage/wal-dir.js";
import { decodeMessage, encodeMessage, replicationFrameBytesMax, type PrimaryMessage, type WireEntry } from "./protocol.js";

const incomingDir = "lmdb.incoming";
/** The primary's journal holds engine commands: the replica applies them exactly as the primary did. */
const applyJournaled = applyCommand as (tx: Tx, command: unknown, now: number) => unknown;
const readyMarker = "READY";
const backoffMinMs = 100;
const backoffMaxMs = 5_000;

export class ReplicationRefusedError extends Error {
  override name = "ReplicationRefusedError";
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

export interface ReplicaStatus {
  connected: boolean;
  primary: string;
  appliedSeq: number;
  durableSeq: number;
  primaryLastSeq: number;
  lagEntries: number;
  /** Age of the newest applied entry's time relative to now, when behind; 0 when caught up. */
  lagSeconds: number;
  lastError: string;
}

export interface FollowerOptions {
  store: Store;
  /** ws://host:port/replication */
  url: string;
  token: string;
  logger: Logger;
  /** The replica cannot go on (refused, diverged, a snapshot to install): log, then end the process. */
  onFatal: (error: Error, exitCode: number) => void;
  dataDir: string;
}

/** Exit code after a runtime snapshot was received: restart me and I will install it. */
export const exitCodeRestartForSnapshot = 75;

export class ReplicaFollower {
  private ws: WebSocket | null = null;
  private stopped = false;
  private backoffMs = backoffMinMs;
  private timer: NodeJS.Timeout | null = null;
  private primaryLastSeq = 0;
  private lastAt = 0;
  private lastError = "";
  private connected = false;
  private snapshot: { stream: WriteStream; dir: string } | null = null;

  constructor(private readonly options: FollowerOptions) {}

  start(): void {
    this.connect();
  }

  /** Stops following (promotion, shutdown); resolves once applied entries are durable. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000, "replica stopping");
    this.ws = null;
    await this.options.store.idle().catch(() => undefined);
  }

  status(now = Date.now()): ReplicaStatus {
    const store = this.options.store;
    const behind = Math.max(0, this.primaryLastSeq - store.lastSeq);
    return {
      connected: this.connected, primary: this.options.url, appliedSeq: store.lastSeq, durableSeq: store.durableSeq,
      primaryLastSeq: this.primaryLastSeq, lagEntries: behind, lagSeconds: behind > 0 && this.lastAt > 0 ? Math.max(0, (now - this.lastAt) / 1000) : 0,
      lastError: this.lastError,
    };
  }

  private connect(): void {
    if (this.stopped) return;
    const store = this.options.store;
    const ws = new WebSocket(this.options.url, { maxPayload: replicationFrameBytesMax, perMessageDeflate: false });
    this.ws = ws;
    ws.binaryType = "nodebuffer";
    ws.on("open", () => {
      ws.send(encodeMessage({ t: "hello", token: this.options.token, fromSeq: store.lastSeq + 1, epochs: store.epochs() }));
    });
    ws.on("message", (data: Buffer) => {
      try {
        this.onMessage(ws, data);
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)), 1);
      }
    });
    ws.on("error", (error) => { this.lastError = error.message; });
    ws.on("close", () => {
      this.connected = false;
      if (this.ws === ws) this.ws = null;
      this.snapshot?.stream.destroy();
      this.snapshot = null;
      if (this.stopped) return;
      this.timer = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(backoffMaxMs, this.backoffMs * 2);
    });
  }

  private onMessage(ws: WebSocket, data: Buffer): void {
    const message = decodeMessage(data) as PrimaryMessage | null;
    if (message === null) throw new Error("the primary sent a frame that is not a replication message");
    switch (message.t) {
      case "welcome":
        this.connected = true;
        this.backoffMs = backoffMinMs;
        this.lastError = "";
        this.primaryLastSeq = message.lastSeq;
        this.options.logger.info({ primary: this.options.url, epoch: message.epoch, primaryLastSeq: message.lastSeq, fromSeq: this.options.store.lastSeq + 1 }, "following the primary");
        return;
      case "refused":
        this.fail(new ReplicationRefusedError(message.reason, `the primary refused this replica (${message.reason}): ${message.message}`), 1);
        return;
      case "snapshot": {
        // Running with data and the primary no longer has our next entry.
        const dir = join(this.options.dataDir, incomingDir);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        this.snapshot = { stream: createWriteStream(join(dir, "data.mdb")), dir };
        this.options.logger.warn({ bytes: message.bytes }, "this replica fell behind the primary's journal retention; receiving a snapshot");
        return;
      }
      case "chunk":
        if (!this.snapshot) throw new Error("snapshot chunk outside a snapshot");
        this.snapshot.stream.write(message.data);
        return;
      case "snapshot-end": {
        const snap = this.snapshot;
        if (!snap) throw new Error("snapshot end outside a snapshot");
        this.snapshot = null;
        snap.stream.end(() => {
          writeFileSync(join(snap.dir, readyMarker), `${message.seq}\n`);
          this.fail(new Error(`a snapshot up to seq ${message.seq} was received; restarting to install it`), exitCodeRestartForSnapshot);
        });
        return;
      }
      case "entries":
        if (Number.isSafeInteger(message.lastSeq) && message.lastSeq > this.primaryLastSeq) this.primaryLastSeq = message.lastSeq;
        this.apply(ws, message.entries);
        return;
    }
  }

  private apply(ws: WebSocket, entries: WireEntry[]): void {
    const store = this.options.store;
    let last: Promise<unknown> | null = null;
    let lastSeq = 0;
    for (const entry of entries) {
      if (entry.seq <= store.lastSeq) continue; // already applied (a resend after a reconnect)
      if (entry.seq !== store.lastSeq + 1) throw new Error(`replication gap: expected seq ${store.lastSeq + 1}, got ${entry.seq}`);
      last = store.submit(entry.command, entry.at, applyJournaled);
      if (store.lastSeq !== entry.seq) {
        throw new Error(`entry ${entry.seq} wrote nothing here: the replica's state differs from the primary's`);
      }
      lastSeq = entry.seq;
      this.lastAt = entry.at;
    }
    if (lastSeq > this.primaryLastSeq) this.primaryLastSeq = lastSeq;
    if (last === null) return;
    last.then(
      () => { if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage({ t: "ack", seq: lastSeq })); },
      (error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error)), 1),
    );
  }

  private fail(error: Error, exitCode: number): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ws?.close();
    this.options.onFatal(error, exitCode);
  }
}

/**
 * Before the store opens: if a complete snapshot is waiting in
 * <data>/lmdb.incoming, it replaces <data>/lmdb (the old one is kept as
 * lmdb.replaced-<time> for the operator). A write-ahead log in a directory of
 * its own (`walDir`) held changes to the replaced environment: it is dropped.
 * Returns whether it did.
 */
export function installIncomingSnapshot(dataDir: string, options: { walDir?: string | undefined; now?: number } = {}): boolean {
  const incoming = join(dataDir, incomingDir);
  if (!existsSync(join(incoming, readyMarker))) return false;
  rmSync(join(incoming, readyMarker));
  const current = join(dataDir, "lmdb");
  if (options.walDir !== undefined) discardWalOf(resolvePath(current), resolvePath(options.walDir));
  const now = options.now ?? Date.now();
  if (existsSync(current)) renameSync(current, join(dataDir, `lmdb.replaced-${now}`));
  renameSync(incoming, current);
  return true;
}

/**
 * Bootstraps an empty replica: asks the primary for everything; if it sends
 * a snapshot, writes it to <data>/lmdb.incoming and installs it. Resolves
 * with the snapshot's seq (0 when the primary had nothing to copy).
 */
export function bootstrapReplica(options: { dataDir: string; walDir?: string | undefined; url: string; token: string; epochs: Epoch[]; logger: Logger }): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(options.url, { maxPayload: replicationFrameBytesMax, perMessageDeflate: false });
    ws.binaryType = "nodebuffer";
    const dir = join(options.dataDir, incomingDir);
    let stream: WriteStream | null = null;
    let done = false;
    const finish = (error: Error | null, seq = 0) => {
      if (done) return;
      done = true;
      ws.close(1000, "bootstrap done");
      if (error) reject(error);
      else resolve(seq);
    };
    ws.on("open", () => ws.send(encodeMessage({ t: "hello", token: options.token, fromSeq: 1, epochs: options.epochs })));
    ws.on("error", (error) => finish(new Error(`cannot bootstrap from ${options.url}: ${error.message}`)));
    ws.on("close", () => finish(new Error(`the primary at ${options.url} closed the connection during bootstrap`)));
    ws.on("message", (data: Buffer) => {
      const m = decodeMessage(data) as PrimaryMessage | null;
      if (m === null) return finish(new Error("the primary sent a frame that is not a replication message"));
      if (m.t === "refused") return finish(new ReplicationRefusedError(m.reason, `the primary refused this replica (${m.reason}): ${m.message}`));
      if (m.t === "welcome") {
        if (m.lastSeq === 0) finish(null, 0);
        return;
      }
      if (m.t === "entries") return finish(null, 0); // nothing to copy: the follower streams from seq 1
      if (m.t === "snapshot") {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        stream = createWriteStream(join(dir, "data.mdb"));
        options.logger.info({ bytes: m.bytes, primary: options.url }, "bootstrapping from a snapshot");
        return;
      }
      if (m.t === "chunk") {
        if (!stream) return finish(new Error("snapshot chunk outside a snapshot"));
        stream.write(m.data);
        return;
      }
      if (m.t === "snapshot-end") {
        const s = stream;
        if (!s) return finish(new Error("snapshot end outside a snapshot"));
        s.end(() => {
          writeFileSync(join(dir, readyMarker), `${m.seq}\n`);
          installIncomingSnapshot(options.dataDir, { walDir: options.walDir });
          options.logger.info({ seq: m.seq }, "bootstrapped from a snapshot");
          finish(null, m.seq);
        });
      }
    });
  });
}
