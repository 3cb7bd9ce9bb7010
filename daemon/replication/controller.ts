// One daemon's replication role and its rules (SPEC O3):
//
// - primary: takes writes; streams its journal to replicas; in semi-sync
//   mode answers a write only after a replica acknowledged it (or, past the
//   timeout, answers UNAVAILABLE — the change is durable here and a retry
//   with the same operation_id gets the original answer once a replica has
//   it — or, with --semi-sync-on-timeout answer, answers anyway and counts a
//   degraded write). A replica that reports a newer epoch fences this
//   primary: it refuses writes from then on (it was superseded by a
//   promotion) until an operator restarts it as a replica.
// - replica: follows a primary, serves reads, refuses writes (UNAVAILABLE,
//   so tills retry or switch); `promote` makes it a primary of the next epoch.
//
// Both roles serve the replication endpoint, so replicas can follow a
// promoted node without a restart, and both keep the journal bounded
// (--journal-retain entries) without dropping what a connected replica has
// not acknowledged.
import type { Logger } from "../observability/logger.js";
import type { ReplicationGate } from "../service.js";
import type { Epoch, Store } from "../storage/store.js";
import { ReplicationServer, type ReplicaInfo } from "./primary.js";
import { ReplicaFollower, type ReplicaStatus } from "./replica.js";

export type ReplicationMode = "async" | "semi-sync";
export type SemiSyncOnTimeout = "unavailable" | "answer";

export interface ReplicationSettings {
  mode: ReplicationMode;
  semiSyncTimeoutMs: number;
  semiSyncOnTimeout: SemiSyncOnTimeout;
  /** Journal entries kept at least (older ones go once no connected replica needs them). */
  journalRetain: number;
  host: string;
  port: number;
  /** host:port of the primary to follow; empty for a primary. */
  replicaOf: string;
  token: string;
}

export interface ReplicationStatus {
  role: "primary" | "replica";
  mode: ReplicationMode;
  epoch: number;
  epochs: Epoch[];
  fenced: string | null;
  lastSeq: number;
  journalFirstSeq: number;
  replicationPort: number;
  replicas: ReplicaInfo[];
  following: ReplicaStatus | null;
  semiSyncTimeouts: number;
}

export interface ReplicationEvents {
  /** The replica cannot go on; end the process with this code. */
  onFatal: (error: Error, exitCode: number) => void;
  /** This daemon became a primary (start the scheduler). */
  onPromoted: (epoch: Epoch) => void;
  onSemiSyncTimeout: () => void;
}

const retentionIntervalMs = 10_000;

/** See Replication.notifiableSeq. */
export function notifiableSeq(settings: Pick<ReplicationSettings, "mode" | "semiSyncOnTimeout">, isPrimary: boolean, durableSeq: number, ackedByAll: number): number {
  const strict = isPrimary && settings.mode === "semi-sync" && settings.semiSyncOnTimeout === "unavailable";
  return strict ? Math.min(durableSeq, ackedByAll) : durableSeq;
}

export class Replication implements ReplicationGate {
  private role: "primary" | "replica";
  private fenced: string | null = null;
  private readonly server: ReplicationServer;
  private follower: ReplicaFollower | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private semiSyncTimeouts = 0;
  private promoting: Promise<Epoch> | null = null;
  private started = false;

  constructor(
    private readonly store: Store,
    private readonly settings: ReplicationSettings,
    private readonly logger: Logger,
    private readonly dataDir: string,
    private readonly events: ReplicationEvents,
  ) {
    this.role = settings.replicaOf ? "replica" : "primary";
    this.server = new ReplicationServer({
      store, logger, host: settings.host, port: settings.port,
      onFenced: (message) => {
        if (this.role !== "primary" || this.fenced !== null) return;
        this.fenced = `this primary was superseded by a promotion and refuses writes: ${message}`;
        logger.error({ detail: message }, "FENCED: a replica knows a newer epoch; this primary refuses writes until it is restarted as a replica");
      },
    });
  }

  get isPrimary(): boolean {
    return this.role === "primary";
  }

  get port(): number {
    return this.server.port;
  }

  async start(): Promise<void> {
    await this.server.start();
    this.started = true;
    if (this.role === "replica") {
      this.follower = this.newFollower();
      this.follower.start();
    }
    this.retentionTimer = setInterval(() => { void this.trimJournal(); }, retentionIntervalMs);
    this.retentionTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.server.close();
    await this.follower?.stop();
  }

  /** Call after every durable commit. */
  onCommit(): void {
    this.server.onCommit(this.store.durableSeq);
  }

  writeRefusal(): string | null {
    if (this.role === "replica") return `this daemon is a read-only replica of ${this.settings.replicaOf}; send changes to the primary`;
    return this.fenced;
  }

  afterDurable(seq: number): Promise<boolean> | null {
    // Before start(): the daemon's own start-up writes (demo seed, first admin
    // user) answer nobody, and no replica could have connected yet.
    if (this.settings.mode !== "semi-sync" || this.role !== "primary" || !this.started) return null;
    return this.server.waitForAck(seq, this.settings.semiSyncTimeoutMs).then((acked) => {
      if (acked) return true;
      this.semiSyncTimeouts += 1;
      this.events.onSemiSyncTimeout();
      return this.settings.semiSyncOnTimeout === "answer";
    });
  }

  /** Replica → primary of the next epoch. Idempotent while it runs. */
  promote(): Promise<Epoch> {
    if (this.role === "primary") return Promise.reject(new Error("this daemon is already a primary"));
    this.promoting ??= (async () => {
      await this.follower?.stop();
      this.follower = null;
      const epoch = await this.store.beginEpoch();
      this.role = "primary";
      this.logger.warn({ epoch: epoch.epoch, startSeq: epoch.startSeq }, "promoted to primary");
      this.events.onPromoted(epoch);
      return epoch;
    })().finally(() => { this.promoting = null; });
    return this.promoting;
  }

  status(): ReplicationStatus {
    const epochs = this.store.epochs();
    return {
      role: this.role, mode: this.settings.mode, epoch: epochs[epochs.length - 1]!.epoch, epochs, fenced: this.fenced,
      lastSeq: this.store.lastSeq, journalFirstSeq: this.store.journalFirstSeq(), replicationPort: this.server.port,
      replicas: this.server.replicas(), following: this.follower?.status() ?? null, semiSyncTimeouts: this.semiSyncTimeouts,
    };
  }

  /**
   * The last seq whose effects may be told to customers (notifications): in
   * strict semi-sync mode only what a replica acknowledged, so a customer is
   * never told of a change a failover could still lose; otherwise what is
   * durable here.
   */
  notifiableSeq(): number {
    return notifiableSeq(this.settings, this.role === "primary", this.store.durableSeq, this.server.ackedByAll());
  }

  /** Gauges for /metrics: lag in entries and seconds, connected replicas, acknowledged seq. */
  gauges(): { lagEntries: number; lagSeconds: number; connectedReplicas: number; ackedSeq: number; isPrimary: number; fenced: number } {
    const following = this.follower?.status();
    return {
      lagEntries: following ? following.lagEntries : this.server.connectedReplicas > 0 ? this.store.durableSeq - this.server.ackedByAll() : 0,
      lagSeconds: following ? following.lagSeconds : this.server.lagSeconds(),
      connectedReplicas: this.server.connectedReplicas,
      ackedSeq: following ? following.durableSeq : this.server.ackedByAll(),
      isPrimary: this.role === "primary" ? 1 : 0,
      fenced: this.fenced === null ? 0 : 1,
    };
  }

  /** Drops journal entries beyond the retention that no connected replica still needs. */
  async trimJournal(): Promise<number> {
    const keepFrom = Math.min(this.server.neededFrom(), this.store.durableSeq - this.settings.journalRetain + 1);
    if (keepFrom <= this.store.journalFirstSeq()) return 0;
    try {
      return await this.store.truncateJournal(keepFrom);
    } catch (error) {
      this.logger.warn({ err: error }, "journal retention pass failed; it is retried");
      return 0;
    }
  }

  private newFollower(): ReplicaFollower {
    return new ReplicaFollower({
      store: this.store, url: `ws://${this.settings.replicaOf}/replication`, token: this.settings.token, logger: this.logger,
      dataDir: this.dataDir, onFatal: this.events.onFatal,
    });
  }
}
