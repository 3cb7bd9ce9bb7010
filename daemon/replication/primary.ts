// The primary's side of replication (SPEC O3): a WebSocket endpoint on its
// own port that streams durable journal entries to replicas, sends a
// snapshot to a replica that is empty or behind the journal's retention,
// tracks what each replica acknowledged, and lets the service wait for an
// acknowledgement (semi-synchronous mode).
//
// Life of a replica session: hello (admin token of a user, its next seq and
// epoch history) → lineage check (a diverged node or a newer epoch is
// refused; a newer epoch also fences this primary) → snapshot if needed →
// entries from its next seq, pushed after every commit, paced by the
// socket's backpressure → acks.
import { mkdtempSync, openSync, readSync, closeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import uWS from "uWebSockets.js";
import type { WebSocket, us_listen_socket } from "uWebSockets.js";
import { authenticateAdmin } from "../admin/admin-server.js";
import { boundPort, listen } from "../net/server.js";
import type { Logger } from "../observability/logger.js";
import type { Store } from "../storage/store.js";
import {
  checkLineage, decodeMessage, encodeMessage, entriesPerFrameMax, replicationFrameBytesMax, snapshotChunkBytes,
  type PrimaryMessage, type RefusalReason, type ReplicaMessage,
} from "./protocol.js";
import { readSnapshotSeq } from "./snapshot.js";

/** Bytes buffered for one replica before we stop sending until it drains. */
const backpressureBytes = 8 * 1024 * 1024;

interface Session {
  id: number;
  user: string;
  /** Next seq to send. */
  nextSeq: number;
  ackedSeq: number;
  /** Sending a snapshot: entries wait until it is done. */
  snapshotting: boolean;
  streaming: boolean;
  closed: boolean;
  connectedAt: number;
}

interface Waiter {
  seq: number;
  resolve: (acked: boolean) => void;
  timer: NodeJS.Timeout;
}

export interface ReplicaInfo {
  user: string;
  ackedSeq: number;
  sentSeq: number;
  lagEntries: number;
  connectedAt: string;
}

export interface ReplicationServerOptions {
  store: Store;
  logger: Logger;
  host: string;
  port: number;
  /** A replica knows a newer epoch: this primary was superseded and must stop taking writes. */
  onFenced: (message: string) => void;
}

export class ReplicationServer {
  private readonly sessions = new Map<WebSocket<Session>, Session>();
  private waiters: Waiter[] = [];
  private listenSocket: us_listen_socket | null = null;
  private nextId = 1;
  /** When the oldest entry not yet acknowledged by every connected replica was committed (lag in seconds). */
  private readonly commitTimes: { seq: number; at: number }[] = [];
  port = 0;

  constructor(private readonly options: ReplicationServerOptions) {}

  async start(): Promise<void> {
    const app = uWS.App().ws<Session>("/replication", {
      maxPayloadLength: replicationFrameBytesMax,
      maxBackpressure: replicationFrameBytesMax * 2,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      open: (ws) => {
        const session = ws.getUserData();
        Object.assign(session, { id: this.nextId++, user: "", nextSeq: 0, ackedSeq: 0, snapshotting: false, streaming: false, closed: false, connectedAt: Date.now() });
      },
      message: (ws, data, isBinary) => this.onMessage(ws, new Uint8Array(data.slice(0)), isBinary),
      drain: (ws) => this.pump(ws),
      close: (ws) => {
        const session = ws.getUserData();
        session.closed = true;
        if (this.sessions.delete(ws)) this.options.logger.info({ replica: session.user, ackedSeq: session.ackedSeq }, "replica disconnected");
        this.settleWaiters();
      },
    });
    this.listenSocket = await listen(app, this.options.host, this.options.port, "replication");
    this.port = boundPort(this.listenSocket);
  }

  close(): void {
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    for (const ws of [...this.sessions.keys()]) ws.end(1001, "primary shutting down");
    for (const w of this.waiters) { clearTimeout(w.timer); w.resolve(false); }
    this.waiters = [];
  }

  /** Call after every durable commit: pushes the new entries to every streaming replica. */
  onCommit(lastSeq: number): void {
    if (this.sessions.size > 0) {
      this.commitTimes.push({ seq: lastSeq, at: Date.now() });
      if (this.commitTimes.length > 100_000) this.commitTimes.splice(0, 50_000);
    }
    for (const ws of this.sessions.keys()) this.pump(ws);
  }

  get connectedReplicas(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.streaming) n += 1;
    return n;
  }

  /** The highest seq every connected replica has acknowledged (0 when none is connected). */
  ackedByAll(): number {
    let min = Infinity;
    for (const s of this.sessions.values()) if (s.streaming) min = Math.min(min, s.ackedSeq);
    return min === Infinity ? 0 : min;
  }

  /** The lowest seq any connected replica still needs: journal retention keeps it. */
  neededFrom(): number {
    let min = Infinity;
    for (const s of this.sessions.values()) min = Math.min(min, s.ackedSeq + 1);
    return min;
  }

  replicas(): ReplicaInfo[] {
    const last = this.options.store.durableSeq;
    return [...this.sessions.values()].filter((s) => s.streaming).map((s) => ({
      user: s.user, ackedSeq: s.ackedSeq, sentSeq: s.nextSeq - 1, lagEntries: last - s.ackedSeq, connectedAt: new Date(s.connectedAt).toISOString(),
    }));
  }

  /** Seconds since the oldest commit not acknowledged by every connected replica. */
  lagSeconds(now = Date.now()): number {
    const acked = this.ackedByAll();
    while (this.commitTimes.length > 0 && this.commitTimes[0]!.seq <= acked) this.commitTimes.shift();
    const oldest = this.commitTimes[0];
    return oldest && this.connectedReplicas > 0 ? (now - oldest.at) / 1000 : 0;
  }

  /** Resolves true once some replica acknowledged `seq`, false after `timeoutMs` or when no replica is connected. */
  waitForAck(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.bestAck() >= seq) return Promise.resolve(true);
    if (this.connectedReplicas === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        seq, resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private bestAck(): number {
    let best = 0;
    for (const s of this.sessions.values()) if (s.streaming) best = Math.max(best, s.ackedSeq);
    return best;
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const best = this.bestAck();
    const none = this.connectedReplicas === 0;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= best || none) {
        clearTimeout(w.timer);
        w.resolve(w.seq <= best);
      } else {
        keep.push(w);
      }
    }
    this.waiters = keep;
  }

  private send(ws: WebSocket<Session>, message: PrimaryMessage): boolean {
    if (ws.getUserData().closed) return false;
    return ws.send(encodeMessage(message), true) !== 2;
  }

  private refuse(ws: WebSocket<Session>, reason: RefusalReason, message: string): void {
    this.options.logger.warn({ reason, detail: message }, "replica refused");
    this.send(ws, { t: "refused", reason, message });
    ws.end(4000, reason);
  }

  private onMessage(ws: WebSocket<Session>, bytes: Uint8Array, isBinary: boolean): void {
    const session = ws.getUserData();
    const message = isBinary ? (decodeMessage(bytes) as ReplicaMessage | null) : null;
    if (message === null) return this.refuse(ws, "bad-request", "frames are binary msgpack maps");
    if (message.t === "hello") {
      if (session.user) return this.refuse(ws, "bad-request", "hello twice");
      return void this.onHello(ws, message);
    }
    if (message.t === "ack") {
      if (!session.user || !Number.isSafeInteger(message.seq) || message.seq < session.ackedSeq || message.seq >= session.nextSeq) {
        return this.refuse(ws, "bad-request", `ack ${String(message.seq)} outside what was sent`);
      }
      session.ackedSeq = message.seq;
      this.settleWaiters();
      return;
    }
    this.refuse(ws, "bad-request", "unknown message");
  }

  private async onHello(ws: WebSocket<Session>, hello: Extract<ReplicaMessage, { t: "hello" }>): Promise<void> {
    const { store, logger } = this.options;
    const session = ws.getUserData();
    const user = typeof hello.token === "string" ? authenticateAdmin(store, `Bearer ${hello.token}`) : null;
    if (user === null) return this.refuse(ws, "unauthenticated", "wrong replication token (an admin user's token)");
    if (!Number.isSafeInteger(hello.fromSeq) || hello.fromSeq < 1 || !Array.isArray(hello.epochs) || hello.epochs.length === 0) {
      return this.refuse(ws, "bad-request", "hello needs fromSeq >= 1 and epochs");
    }
    session.user = user;
    const ours = store.epochs();
    const lineage = checkLineage(ours, hello.epochs, hello.fromSeq - 1);
    if (!lineage.ok) {
      if (lineage.reason === "stale-primary") this.options.onFenced(lineage.message);
      return this.refuse(ws, lineage.reason, lineage.message);
    }
    if (hello.fromSeq - 1 > store.durableSeq) {
      return this.refuse(ws, "diverged", `the replica has seq ${hello.fromSeq - 1} but this primary only ${store.durableSeq}; rebuild the replica from a snapshot`);
    }
    this.sessions.set(ws, session);
    this.send(ws, { t: "welcome", epoch: ours[ours.length - 1]!.epoch, lastSeq: store.durableSeq });
    // An empty replica starts from a snapshot (a copy of the state, not a
    // replay of the whole history); so does one whose next entry was
    // already truncated from the journal.
    const needsSnapshot = (hello.fromSeq === 1 && store.durableSeq > 0) || hello.fromSeq < store.journalFirstSeq();
    if (needsSnapshot) {
      logger.info({ replica: user, fromSeq: hello.fromSeq, journalFirstSeq: store.journalFirstSeq() }, "replica needs a snapshot");
      await this.sendSnapshot(ws);
      if (session.closed) return;
    } else {
      session.nextSeq = hello.fromSeq;
      session.ackedSeq = hello.fromSeq - 1;
    }
    session.streaming = true;
    logger.info({ replica: user, fromSeq: session.nextSeq, lastSeq: store.durableSeq }, "replica streaming");
    this.pump(ws);
  }

  /** A compacted LMDB copy, streamed in chunks; the replica resumes after the seq it contains. */
  private async sendSnapshot(ws: WebSocket<Session>): Promise<void> {
    const session = ws.getUserData();
    session.snapshotting = true;
    const dir = mkdtempSync(join(tmpdir(), "loyalty-snapshot-"));
    try {
      const copy = await this.options.store.backup(join(dir, "lmdb"));
      // The copy holds at least `copy.seq`; its own system record says exactly which.
      const seq = await readSnapshotSeq(join(dir, "lmdb"));
      if (session.closed) return;
      this.send(ws, { t: "snapshot", bytes: copy.bytes });
      const fd = openSync(join(dir, "lmdb", "data.mdb"), "r");
      try {
        const buffer = Buffer.alloc(snapshotChunkBytes);
        for (;;) {
          const n = readSync(fd, buffer, 0, buffer.length, null);
          if (n === 0) break;
          if (session.closed) return;
          this.send(ws, { t: "chunk", data: buffer.subarray(0, n) });
          while (!session.closed && ws.getBufferedAmount() > backpressureBytes) await new Promise((r) => setImmediate(r));
        }
      } finally {
        closeSync(fd);
      }
      this.send(ws, { t: "snapshot-end", seq });
      session.nextSeq = seq + 1;
      session.ackedSeq = seq;
      this.options.logger.info({ replica: session.user, seq, bytes: copy.bytes }, "snapshot sent");
    } finally {
      session.snapshotting = false;
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Sends durable entries the replica has not got, until caught up or its socket is backed up. */
  private pump(ws: WebSocket<Session>): void {
    const session = ws.getUserData();
    if (!session.streaming || session.snapshotting || session.closed) return;
    const store = this.options.store;
    while (session.nextSeq <= store.durableSeq && ws.getBufferedAmount() < backpressureBytes) {
      const entries = store.journalEntries(session.nextSeq, entriesPerFrameMax);
      if (entries.length === 0) break;
      if (!this.send(ws, { t: "entries", entries: entries.map((e) => ({ seq: e.seq, at: e.at, command: e.command })), lastSeq: store.durableSeq })) break;
      session.nextSeq = entries[entries.length - 1]!.seq + 1;
    }
  }
}
