// Every Prometheus metric of the daemon, declared here and nowhere else, on a
// registry of its own (never prom-client's global one, so two daemons in one
// test process do not share counters). Code observes through the typed fields
// of `Metrics`, never by looking a metric up by name.
//
// Label values come from closed sets only (operation names of the protocol's
// oneof, ErrorCode names, a fixed list of reasons), so the number of series is
// bounded whatever clients send.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { ErrorCode } from "../../protocol/codec.js";

/** Why a frame was refused before it reached an operation. */
export type FrameRejectReason = "text" | "too_big" | "malformed" | "unknown_operation" | "bad_request_id";
/** Why an answer was not delivered. */
export type AnswerDropReason = "closed" | "backpressure";

export interface Metrics {
  readonly registry: Registry;
  /** Answered POS requests by operation (oneof case, or `malformed`/`unknown`) and code (`ok` or the ErrorCode name). */
  readonly posRequests: Counter<"operation" | "code">;
  /** Frame receipt to answer sent, seconds. */
  readonly posRequestDuration: Histogram<"operation">;
  readonly posConnectionsOpen: Gauge;
  readonly posFramesRejected: Counter<"reason">;
  /** Answers computed but not sent: the connection closed first, or its backpressure limit dropped them. */
  readonly posAnswersDropped: Counter<"reason">;
  /** Upgrades refused with 503: at connectionsMax, or shutting down. */
  readonly posUpgradesRefused: Counter<"reason">;
  /** Fed by the storage layer: commands per group commit. */
  readonly commitBatchCommands: Histogram;
  /** Fed by the storage layer: one group commit (the write-ahead log append, O_DSYNC), seconds. */
  readonly commitDuration: Histogram;
  /** Fed by the storage layer: one checkpoint of durable commands into LMDB, seconds. */
  readonly checkpointDuration: Histogram;
  /** Fed by the storage layer: commands per checkpoint. */
  readonly checkpointCommands: Histogram;
  /** Fed by the storage layer: durable commands not yet in LMDB (the overlay holds them). */
  readonly uncheckpointedCommands: Gauge;
  /** Fed by the storage layer: sequence number of the last journal entry. */
  readonly journalLastSeq: Gauge;
  /** Fed by the storage layer: bytes used in the LMDB map. */
  readonly lmdbUsedBytes: Gauge;
  /** Fed by the storage layer: commands waiting for the next group commit. */
  readonly storePendingCommands: Gauge;
  /** Admin channel calls refused for a wrong or missing credential. */
  readonly adminRefused: Counter;
  /** 1 on a primary, 0 on a replica. */
  readonly replicationIsPrimary: Gauge;
  /** 1 when this primary was superseded by a promotion and refuses writes. */
  readonly replicationFenced: Gauge;
  /** Replicas streaming from this daemon. */
  readonly replicationConnectedReplicas: Gauge;
  /** Primary: entries not yet acknowledged by every connected replica. Replica: entries the primary has that this one has not applied. */
  readonly replicationLagEntries: Gauge;
  /** Primary: age of the oldest unacknowledged commit. Replica: age of the last applied entry while behind. */
  readonly replicationLagSeconds: Gauge;
  /** Primary: seq acknowledged by every connected replica. Replica: seq durable here. */
  readonly replicationAckedSeq: Gauge;
  /** Semi-sync writes not acknowledged by a replica in time. */
  readonly replicationSemiSyncTimeouts: Counter;
  /** Customer notifications in the outbox, not yet delivered (all merchants). */
  readonly notifyBacklog: Gauge;
  /** Age of the oldest undelivered notification, seconds (0 when none). */
  readonly notifyOldestPendingSeconds: Gauge;
  /** Delivery attempts by result: delivered, retry (will be tried again), dead (gave up). */
  readonly notifyDeliveries: Counter<"result">;
  /** Notifications given up on and kept as dead letters (all merchants). */
  readonly notifyDeadLetters: Gauge;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, GC) prefixed `loyalty_`. On by default. */
  readonly processMetrics?: boolean;
}

/** Sub-millisecond resolution where the target is (p99 < 1 ms), up to 100 ms. */
export const posLatencyBucketsSeconds = [0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
const commitDurationBucketsSeconds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const commitBatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "loyalty_" });
  return {
    registry,
    posRequests: new Counter({ name: "loyalty_pos_requests_total", help: "POS requests answered, by operation and result code", labelNames: ["operation", "code"], registers }),
    posRequestDuration: new Histogram({ name: "loyalty_pos_request_duration_seconds", help: "POS request latency from frame receipt to answer sent", labelNames: ["operation"], buckets: posLatencyBucketsSeconds, registers }),
    posConnectionsOpen: new Gauge({ name: "loyalty_pos_connections_open", help: "Open POS WebSocket connections", registers }),
    posFramesRejected: new Counter({ name: "loyalty_pos_frames_rejected_total", help: "POS frames refused before reaching an operation, by reason", labelNames: ["reason"], registers }),
    posAnswersDropped: new Counter({ name: "loyalty_pos_answers_dropped_total", help: "POS answers not delivered, by reason", labelNames: ["reason"], registers }),
    posUpgradesRefused: new Counter({ name: "loyalty_pos_upgrades_refused_total", help: "POS WebSocket upgrades refused with 503, by reason", labelNames: ["reason"], registers }),
    commitBatchCommands: new Histogram({ name: "loyalty_commit_batch_commands", help: "Commands per group commit", buckets: commitBatchBuckets, registers }),
    commitDuration: new Histogram({ name: "loyalty_commit_duration_seconds", help: "Duration of one group commit: the write-ahead log append through O_DSYNC", buckets: commitDurationBucketsSeconds, registers }),
    checkpointDuration: new Histogram({ name: "loyalty_checkpoint_duration_seconds", help: "Duration of one checkpoint of durable commands into LMDB, including its fsyncs", buckets: commitDurationBucketsSeconds, registers }),
    checkpointCommands: new Histogram({ name: "loyalty_checkpoint_commands", help: "Commands per checkpoint into LMDB", buckets: commitBatchBuckets, registers }),
    uncheckpointedCommands: new Gauge({ name: "loyalty_store_uncheckpointed_commands", help: "Durable commands not yet checkpointed into LMDB (held in memory and in the write-ahead log)", registers }),
    journalLastSeq: new Gauge({ name: "loyalty_journal_last_seq", help: "Sequence number of the last journal entry", registers }),
    lmdbUsedBytes: new Gauge({ name: "loyalty_lmdb_used_bytes", help: "Bytes used in the LMDB map", registers }),
    storePendingCommands: new Gauge({ name: "loyalty_store_pending_commands", help: "Commands waiting for the next group commit", registers }),
    adminRefused: new Counter({ name: "loyalty_admin_refused_total", help: "Admin channel calls refused for a wrong or missing credential", registers }),
    replicationIsPrimary: new Gauge({ name: "loyalty_replication_is_primary", help: "1 on a primary, 0 on a replica", registers }),
    replicationFenced: new Gauge({ name: "loyalty_replication_fenced", help: "1 when this primary was superseded by a promotion and refuses writes", registers }),
    replicationConnectedReplicas: new Gauge({ name: "loyalty_replication_connected_replicas", help: "Replicas streaming from this daemon", registers }),
    replicationLagEntries: new Gauge({ name: "loyalty_replication_lag_entries", help: "Journal entries a replica is behind (primary: least acknowledged replica)", registers }),
    replicationLagSeconds: new Gauge({ name: "loyalty_replication_lag_seconds", help: "Replication lag in seconds (primary: oldest unacknowledged commit)", registers }),
    replicationAckedSeq: new Gauge({ name: "loyalty_replication_acked_seq", help: "Last journal seq acknowledged by every replica (on a replica: durable here)", registers }),
    replicationSemiSyncTimeouts: new Counter({ name: "loyalty_replication_semisync_timeouts_total", help: "Semi-sync writes no replica acknowledged in time", registers }),
    notifyBacklog: new Gauge({ name: "loyalty_notify_backlog", help: "Customer notifications waiting in the outbox", registers }),
    notifyOldestPendingSeconds: new Gauge({ name: "loyalty_notify_oldest_pending_seconds", help: "Age of the oldest undelivered customer notification", registers }),
    notifyDeliveries: new Counter({ name: "loyalty_notify_deliveries_total", help: "Notification delivery attempts by result (delivered, retry, dead)", labelNames: ["result"], registers }),
    notifyDeadLetters: new Gauge({ name: "loyalty_notify_dead_letters", help: "Customer notifications given up on (dead letters kept in the outbox)", registers }),
  };
}

/**
 * The `code` label for an ErrorCode: `ok` for success (0 is UNSPECIFIED on the
 * wire, and the service reports success as 0), the enum name without its
 * prefix otherwise, e.g. `NOT_FOUND`. Precomputed: no string work per request.
 */
const codeLabels: ReadonlyMap<number, string> = new Map(
  Object.entries(ErrorCode)
    .filter((entry): entry is [string, number] => typeof entry[1] === "number")
    .map(([name, value]) => [value, value === ErrorCode.ERROR_CODE_UNSPECIFIED ? "ok" : name.replace(/^ERROR_CODE_/, "")]),
);

export function codeLabel(code: number): string {
  // A code this build does not know stays one bounded label.
  return codeLabels.get(code) ?? "UNRECOGNIZED";
}
