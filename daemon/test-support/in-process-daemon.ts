// The whole daemon in the test process — real LMDB store, service, uWS server
// on 127.0.0.1:0 — with a clock the test moves, so end-to-end tests through
// the POS client can cover time (hold expiry, activation) without sleeping.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../config.js";
import { idempotencyRetentionMs } from "../engine/apply.js";
import { startServer, type RunningServer } from "../net/server.js";
import { createLogger } from "../observability/logger.js";
import { createMetrics } from "../observability/metrics.js";
import { demoSeed, type DemoSeed } from "../seed.js";
import { LoyaltyService } from "../service.js";
import { openStore, type Store } from "../storage/store.js";
import { PosClient } from "../../protocol/client.js";
import { seededBytes } from "../engine/test-support/engine-fixture.js";

export interface InProcessDaemon {
  readonly store: Store;
  readonly service: LoyaltyService;
  readonly server: RunningServer;
  readonly posUrl: string;
  /** The LMDB environment directory (report workers open it too). */
  readonly lmdbPath: string;
  readonly credentials: DemoSeed["credentials"];
  /** The daemon's wall clock; tests move it forward. */
  now: number;
  client(terminal?: number, cashierId?: string): Promise<PosClient>;
  close(): Promise<void>;
}

export async function startInProcessDaemon(startAt = Date.UTC(2026, 10, 23, 9, 0)): Promise<InProcessDaemon> {
  const dataDir = mkdtempSync(join(tmpdir(), "loyalty-e2e-"));
  const store = await openStore({ path: join(dataDir, "lmdb"), durability: "sync", mapSizeBytes: 64 * 1024 * 1024, pendingCommandsMax: 10_000 });
  const logger = createLogger({ level: "silent" });
  const clients: PosClient[] = [];
  const daemon: InProcessDaemon = {
    now: startAt,
  } as InProcessDaemon;
  const service = new LoyaltyService({ store, clock: () => daemon.now, logger });
  const seed = demoSeed(startAt, seededBytes(7));
  for (const action of seed.actions) {
    const result = await service.admin(action, "seed");
    if (!result.ok) throw new Error(result.message);
  }
  const config = parseConfig(["--data", dataDir, "--pos-port", "0", "--http-port", "0", "--admin-port", "0"], {});
  const server = await startServer({
    config, service, logger, metrics: createMetrics({ processMetrics: false }),
    clock: { nowMs: () => daemon.now, monotonicMs: () => performance.now() }, idempotencyRetentionMs,
  });
  Object.assign(daemon, {
    store, service, server, lmdbPath: join(dataDir, "lmdb"), posUrl: `ws://127.0.0.1:${server.posPort}/pos`, credentials: seed.credentials,
    async client(terminal = 0, cashierId = "cashier-1") {
      const t = seed.credentials.terminals[terminal]!;
      const c = new PosClient({ url: daemon.posUrl, terminalId: t.terminalId, secret: t.secret, cashierId, reconnect: false });
      clients.push(c);
      await c.connect();
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      service.beginShutdown();
      await server.drain();
      server.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
  return daemon;
}
