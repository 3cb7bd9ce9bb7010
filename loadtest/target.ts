// The daemon under load: either one this tool starts (--spawn: the built
// dist/daemon/main.js on a temporary data directory, prepared by the
// benchmarks' daemon-process helper with the demo seed plus extra cards), or
// a running one (--target HOST:PORT with its demo-credentials.json). Also
// the POS connections to it.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PosClient } from "../protocol/client.js";
import { prepareData, startDaemon, type BenchCredentials } from "../benchmarks/support/daemon-process.js";
import type { CardPools } from "./workload.js";

export interface Target {
  readonly posUrl: string;
  /** Base URL of the HTTP endpoints, when known. */
  readonly httpUrl: string | undefined;
  readonly credentials: BenchCredentials;
  readonly cards: CardPools;
  /** PID of a spawned daemon (for CPU accounting), undefined for --target. */
  readonly pid: number | undefined;
  /** Stops a spawned daemon and removes its data; a no-op for --target. Resolves with the daemon's exit code (0 for --target). */
  close(): Promise<number | null>;
}

export interface SpawnTargetOptions {
  readonly durability: "sync" | "none";
  readonly cards: number;
  readonly cardPoints: number;
}

export async function spawnTarget(options: SpawnTargetOptions): Promise<Target> {
  const root = mkdtempSync(join(tmpdir(), "loyalty-loadtest-"));
  const dataDir = join(root, "data");
  try {
    const prepared = await prepareData(dataDir, options.cards, options.cardPoints);
    const daemon = await startDaemon({ dataDir, durability: options.durability, cpuProfileDir: undefined });
    return {
      posUrl: daemon.posUrl, httpUrl: daemon.httpUrl, credentials: prepared.credentials, pid: daemon.pid,
      cards: { earn: prepared.earnCards, redeem: prepared.redeemCards },
      close: async () => {
        const code = await daemon.stop();
        rmSync(root, { recursive: true, force: true });
        return code;
      },
    };
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A running daemon. Cards come from the credentials file: every bonus card
 * earns; the ones with a phone (the demo seed gives those customers an
 * opening balance) are the ones that redeem.
 */
export function remoteTarget(host: string, port: number, credentialsFile: string, http: { host: string; port: number } | undefined): Target {
  const credentials = JSON.parse(readFileSync(credentialsFile, "utf8")) as BenchCredentials;
  if (!Array.isArray(credentials.terminals) || credentials.terminals.length === 0 || !Array.isArray(credentials.cards)) {
    throw new Error(`${credentialsFile} has no terminals or cards: is it a demo-credentials.json?`);
  }
  const bonus = credentials.cards.filter((c) => c.kind === "bonus");
  return {
    posUrl: `ws://${host}:${port}/pos`,
    httpUrl: http === undefined ? undefined : `http://${http.host}:${http.port}`,
    credentials, pid: undefined,
    cards: { earn: bonus.map((c) => c.cardNumber), redeem: bonus.filter((c) => c.phone !== undefined).map((c) => c.cardNumber) },
    close: () => Promise.resolve(0),
  };
}

/**
 * Opens `count` connections spread round-robin over the terminals, each with
 * its own cashier id. Reconnecting is off: a dropped connection must show up
 * as errors in the result, not be papered over.
 */
export async function connectClients(
  posUrl: string, terminals: BenchCredentials["terminals"], count: number, requestTimeoutMs: number, clientName: string,
): Promise<PosClient[]> {
  const clients = Array.from({ length: count }, (_, i) => {
    const terminal = terminals[i % terminals.length]!;
    return new PosClient({
      url: posUrl, terminalId: terminal.terminalId, secret: terminal.secret, cashierId: `load-cashier-${i + 1}`,
      // The daemon's per-connection limit; the client takes the smaller of the two.
      inFlightMax: 256, reconnect: false, keepAliveMs: 0, clientName, requestTimeoutMs,
    });
  });
  try {
    await Promise.all(clients.map((c) => c.connect()));
  } catch (error) {
    await Promise.all(clients.map((c) => c.close({ drain: false })));
    throw error;
  }
  return clients;
}
