// The daemon's entry point: wiring only. Configuration → logger and metrics →
// store (LMDB) → service (engine) → demo seed on an empty store → network
// servers → signals. Everything with behaviour lives in the modules it wires.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AdminApi } from "./admin/admin-api.js";
import { ReportPool } from "./analytics/report-pool.js";
import { startAdminServer } from "./admin/admin-server.js";
import { ensureAdminCredential } from "./admin/bootstrap.js";
import { ConfigError, configHelp, parseConfig, type Config } from "./config.js";
import { applyCommand, idempotencyRetentionMs } from "./engine/apply.js";
import type { Tx } from "./engine/tx.js";
import { systemClock } from "./net/clock.js";
import { startServer } from "./net/server.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { createMetrics } from "./observability/metrics.js";
import { NotificationDelivery, fetchPost } from "./notify/delivery.js";
import { demoSeed } from "./seed.js";
import { LoyaltyService } from "./service.js";
import { Replication } from "./replication/controller.js";
import { ReplicationRefusedError, bootstrapReplica, installIncomingSnapshot } from "./replication/replica.js";
import { openStore, type CheckpointInfo, type CommitInfo, type Store } from "./storage/store.js";

export const serverVersion = "0.1.0";

/** Commands that may wait for durability at once: bounds memory under overload. */
const pendingCommandsMax = 50_000;
/** Pause between attempts to bootstrap an empty replica. */
const bootstrapRetryMs = 200;

function readConfig(): Config {
  try {
    const config = parseConfig(process.argv.slice(2), process.env);
    if (config.help) {
      process.stdout.write(configHelp());
      process.exit(0);
    }
    return config;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n\n${configHelp()}`);
      process.exit(2);
    }
    throw error;
  }
}

async function seedIfEmpty(config: Config, store: Store, service: LoyaltyService, logger: Logger): Promise<void> {
  if (!config.seedDemo || store.lastSeq > 0) return;
  const seed = demoSeed(Date.now());
  for (const action of seed.actions) {
    const result = await service.admin(action, "seed");
    if (!result.ok) throw new Error(`demo seed failed at ${action.a}: ${result.message}`);
  }
  const file = join(config.dataDir, "demo-credentials.json");
  writeFileSync(file, `${JSON.stringify(seed.credentials, null, 2)}\n`, { mode: 0o600 });
  logger.info({ merchantId: seed.credentials.merchantId, terminals: seed.credentials.terminals.length, credentialsFile: file },
    "seeded the demo merchant; terminal secrets are in the credentials file");
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  mkdirSync(config.dataDir, { recursive: true });
  const isReplica = config.replication.replicaOf !== "";
  let replication: Replication | null = null;
  const storeOptions = {
    path: join(config.dataDir, "lmdb"),
    durability: config.durability,
    mapSizeBytes: config.mapSizeMb * 1024 * 1024,
    pendingCommandsMax,
    checkpointIntervalMs: config.checkpointIntervalMs,
    ...(config.walDir === "" ? {} : { walDir: config.walDir }),
    // After a crash, the write-ahead log's commands past LMDB are applied again by the same engine.
    replay: applyCommand as (tx: Tx, command: unknown, now: number) => unknown,
    onCommit: (info: CommitInfo) => {
      metrics.commitBatchCommands.observe(info.commands);
      metrics.commitDuration.observe(info.ms / 1000);
      replication?.onCommit();
    },
    onCheckpoint: (info: CheckpointInfo) => {
      metrics.checkpointCommands.observe(info.commands);
      metrics.checkpointDuration.observe(info.ms / 1000);
    },
  };
  if (isReplica && installIncomingSnapshot(config.dataDir, { walDir: storeOptions.walDir })) logger.info("installed the snapshot received before the last restart");
  let store = await openStore(storeOptions);
  if (isReplica && store.lastSeq === 0) {
    // An empty replica copies the primary's state instead of replaying its history.
    const epochs = store.epochs();
    await store.close();
    const url = `ws://${config.replication.replicaOf}/replication`;
    // The primary may not be up yet, or the link may drop mid-copy: keep
    // trying; a refusal (wrong token, diverged) is final.
    for (;;) {
      try {
        await bootstrapReplica({ dataDir: config.dataDir, walDir: storeOptions.walDir, url, token: config.replication.token, epochs, logger });
        break;
      } catch (error) {
        if (error instanceof ReplicationRefusedError) throw error;
        logger.warn({ err: error }, "bootstrap from the primary failed; retrying");
        await new Promise((r) => setTimeout(r, bootstrapRetryMs));
      }
    }
    store = await openStore(storeOptions);
  }
  if (store.recovery.commands > 0 || store.recovery.discardedTailBytes > 0) {
    logger.warn({ ...store.recovery, lastSeq: store.lastSeq }, "applied again the write-ahead log's commands that were not yet checkpointed (the last stop was not clean)");
  }
  if (config.durability === "none") logger.warn("durability is 'none': answered changes can be lost in a crash; for experiments only");
  let service: LoyaltyService | null = null;
  let delivery: NotificationDelivery | null = null;
  replication = new Replication(store, config.replication, logger, config.dataDir, {
    onFatal: (error, exitCode) => {
      logger.fatal({ err: error }, "replication cannot go on");
      logger.flush();
      void store.close().finally(() => process.exit(exitCode));
    },
    onPromoted: () => {
      service?.startScheduler();
      delivery?.start();
    },
    onSemiSyncTimeout: () => metrics.replicationSemiSyncTimeouts.inc(),
  });
  service = new LoyaltyService({ store, clock: () => systemClock.nowMs(), logger, replication });
  // Customer notifications (C2) leave from the primary only; a replica starts sending when promoted.
  const openStoreNow = store;
  delivery = new NotificationDelivery({
    source: {
      scan: (table, prefix, limit) => openStoreNow.scan(table, prefix, limit),
      get: (table, key) => openStoreNow.read((tx) => tx.get(table, key)),
      lastSeq: () => openStoreNow.lastSeq,
      // In strict semi-sync mode, only changes a replica has (no customer hears of a change a failover loses).
      durableSeq: () => replication?.notifiableSeq() ?? openStoreNow.durableSeq,
    },
    record: (command) => service!.recordDeliveries(command),
    canDeliver: () => replication?.writeRefusal() === null,
    post: fetchPost, clock: () => systemClock.nowMs(), random: Math.random, logger, metrics, userAgent: `loyalty-daemon/${serverVersion}`,
  });
  const admin = service.admin.bind(service);
  if (!isReplica) {
    await seedIfEmpty(config, store, service, logger);
    await ensureAdminCredential({ store, dataDir: config.dataDir, reset: config.resetAdminToken, now: Date.now(), admin, logger });
    service.startScheduler();
    delivery.start();
  }
  await replication.start();

  const server = await startServer({
    config, service, logger, metrics, clock: systemClock, serverVersion, idempotencyRetentionMs,
  });
  const startedAt = Date.now();
  const reports = new ReportPool({ lmdbPath: join(config.dataDir, "lmdb"), threads: config.reportThreads });
  const adminServer = await startAdminServer({
    api: new AdminApi({
      store, clock: () => systemClock.nowMs(), admin, replication, reports, pauseScheduler: () => service!.pauseScheduler(),
      serverInfo: () => ({
        version: serverVersion, startedAt: new Date(startedAt).toISOString(), uptimeS: Math.round((Date.now() - startedAt) / 1000),
        durability: config.durability, posPort: server.posPort, httpPort: server.httpPort,
      }),
    }),
    store, logger, host: config.adminHost, port: config.adminPort,
    onRefused: () => metrics.adminRefused.inc(),
  });
  const observeStore = (): void => {
    const stats = store.stats();
    const r = replication.gauges();
    metrics.replicationIsPrimary.set(r.isPrimary);
    metrics.replicationFenced.set(r.fenced);
    metrics.replicationConnectedReplicas.set(r.connectedReplicas);
    metrics.replicationLagEntries.set(r.lagEntries);
    metrics.replicationLagSeconds.set(r.lagSeconds);
    metrics.replicationAckedSeq.set(r.ackedSeq);
    metrics.journalLastSeq.set(stats.lastSeq);
    metrics.lmdbUsedBytes.set(stats.usedBytes);
    metrics.storePendingCommands.set(stats.pendingCommands);
    metrics.uncheckpointedCommands.set(stats.lastSeq - stats.checkpointedSeq);
  };
  observeStore();
  const gauges = setInterval(observeStore, 1_000);
  gauges.unref();
  logger.info({ posPort: server.posPort, httpPort: server.httpPort, adminPort: adminServer.port, replicationPort: replication.port, role: replication.isPrimary ? "primary" : "replica", host: config.host, dataDir: config.dataDir, durability: config.durability, version: serverVersion }, "ready");

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing requests in flight");
    service.beginShutdown();
    await delivery.stop();
    adminServer.close();
    await server.drain();
    await replication.stop();
    await reports.close();
    await store.close();
    server.close();
    clearInterval(gauges);
    logger.info("stopped");
    logger.flush();
    process.exit(0);
  };
  process.on("SIGTERM", () => { void shutdown("SIGTERM"); });
  process.on("SIGINT", () => { void shutdown("SIGINT"); });
}

main().catch((error: unknown) => {
  // A failed start or a broken invariant: say why and exit non-zero; the
  // supervisor restarts us on the last durable state.
  process.stderr.write(`fatal: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
