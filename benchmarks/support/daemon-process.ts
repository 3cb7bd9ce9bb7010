// The daemon under benchmark, as a real child process: data directory
// preparation, start, readiness, /metrics scraping and graceful stop.
//
// Why the benchmark prepares the data directory itself: the demo seed has 10
// bonus cards. At thousands of checks per second those few cards would each
// collect thousands of earn lots within seconds, so every calculate/confirm
// would re-encode an account record that grows without bound — a hot-card
// pathology no real chain has. The benchmark therefore writes the very same
// demo seed the daemon would write (daemon/seed.ts `demoSeed`, through the
// real service and store, as daemon/main.ts does on an empty directory; the
// daemon then sees a non-empty store and skips its own seed) and adds
// `extraCards` bonus cards with an opening balance, like a chain's card base.
// `extraCards: 0` leaves only the seed's cards.
//
// The test-support spawnDaemon is not compiled into dist (tsconfig.build.json
// excludes test-support), so the few lines it takes are repeated here.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createLogger } from "../../daemon/observability/logger.js";
import { demoSeed, withCheckDigit } from "../../daemon/seed.js";
import { LoyaltyService } from "../../daemon/service.js";
import { openStore } from "../../daemon/storage/store.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const daemonEntry = join(repoRoot, "dist", "daemon", "main.js");

/** What the demo seed writes to <data>/demo-credentials.json, plus the benchmark's own cards. */
export interface BenchCredentials {
  merchantId: string;
  terminals: { terminalId: string; storeId: string; secret: string }[];
  cards: { cardNumber: string; kind: "bonus" | "discount" | "gift"; phone?: string }[];
}

export interface PreparedData {
  readonly credentials: BenchCredentials;
  /** Bonus cards the load may use for earning, and the subset with points to spend. */
  readonly earnCards: readonly string[];
  readonly redeemCards: readonly string[];
  readonly prepareMs: number;
}

/** Card numbers of the benchmark's own bonus cards: prefix 2775, distinct from the seed's 2770/2771/2779. */
export function benchCardNumber(index: number): string {
  return withCheckDigit(`2775${String(index).padStart(11, "0")}`);
}

const cardsPerIssue = 1_000;
const adjustmentsInFlight = 2_000;

/**
 * Seeds `dataDir` (the daemon's --data) with the demo merchant and
 * `extraCards` bonus cards holding `cardPoints` active points each. Uses
 * durability 'none': this is set-up, not the measurement, and the store is
 * closed (pages in the OS cache) before the daemon opens it.
 */
export async function prepareData(dataDir: string, extraCards: number, cardPoints: number): Promise<PreparedData> {
  const started = performance.now();
  mkdirSync(dataDir, { recursive: true });
  const store = await openStore({ path: join(dataDir, "lmdb"), durability: "none", mapSizeBytes: 4096 * 1024 * 1024, pendingCommandsMax: 50_000 });
  const service = new LoyaltyService({ store, clock: () => Date.now(), logger: createLogger({ level: "warn" }) });
  const admin = async (action: Parameters<LoyaltyService["admin"]>[0], actor: string): Promise<void> => {
    const result = await service.admin(action, actor);
    if (!result.ok) throw new Error(`benchmark set-up failed at ${action.a}: ${result.message}`);
  };
  const seed = demoSeed(Date.now());
  for (const action of seed.actions) await admin(action, "seed");
  writeFileSync(join(dataDir, "demo-credentials.json"), `${JSON.stringify(seed.credentials, null, 2)}\n`, { mode: 0o600 });

  const extra = Array.from({ length: extraCards }, (_, i) => benchCardNumber(i));
  for (let i = 0; i < extra.length; i += cardsPerIssue) {
    await admin({ a: "cards.issue", merchantId: seed.credentials.merchantId, cards: extra.slice(i, i + cardsPerIssue).map((number) => ({ number, kind: "bonus" as const })) }, "bench");
  }
  if (cardPoints > 0) {
    for (let i = 0; i < extra.length; i += adjustmentsInFlight) {
      await Promise.all(extra.slice(i, i + adjustmentsInFlight).map((cardNumber) =>
        admin({ a: "points.adjust", merchantId: seed.credentials.merchantId, cardNumber, points: cardPoints, reason: "benchmark opening balance" }, "bench")));
    }
  }
  await store.close();
  // The set-up ran without fsync; flush its pages now, or the daemon's first
  // durable commits would pay for writing all of them back (fdatasync flushes
  // every dirty page of the file, not just the commit's).
  for (const file of readdirSync(join(dataDir, "lmdb"))) {
    const fd = openSync(join(dataDir, "lmdb", file), "r+");
    try { fsyncSync(fd); } finally { closeSync(fd); }
  }

  const seedBonus = seed.credentials.cards.filter((c) => c.kind === "bonus").map((c) => c.cardNumber);
  // The seed gives opening balances to the cards that have a customer (the ones with a phone).
  const seedWithPoints = seed.credentials.cards.filter((c) => c.kind === "bonus" && c.phone !== undefined).map((c) => c.cardNumber);
  return {
    credentials: seed.credentials,
    earnCards: extraCards > 0 ? extra : seedBonus,
    redeemCards: extraCards > 0 && cardPoints > 0 ? extra : seedWithPoints,
    prepareMs: performance.now() - started,
  };
}

export interface RunningDaemon {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly posUrl: string;
  readonly httpUrl: string;
  readonly posPort: number;
  readonly adminUrl: string;
  /** host:port of the replication endpoint, for a replica's --replica-of. */
  readonly replicationAddress: string;
  /** Resolves with the exit code after SIGTERM (graceful: answers in-flight requests, closes LMDB). */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  readonly dataDir: string;
  readonly durability: "sync" | "none";
  /** Directory for a V8 CPU profile of the daemon (written when it exits), or undefined for none. */
  readonly cpuProfileDir: string | undefined;
  readonly readyTimeoutMs?: number;
  /** More daemon flags (replication, modes). */
  readonly extraArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts dist/daemon/main.js and resolves once it logged "ready" with its ports. */
export async function startDaemon(options: StartOptions): Promise<RunningDaemon> {
  const nodeFlags = options.cpuProfileDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir];
  const child = spawn(process.execPath, [
    ...nodeFlags, daemonEntry, "--data", options.dataDir, "--host", "127.0.0.1",
    "--pos-port", "0", "--http-port", "0", "--admin-port", "0", "--replication-port", "0", "--durability", options.durability, ...(options.extraArgs ?? []),
  ], { env: { ...process.env, LOYALTY_LOG_LEVEL: "info", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // The listener stays attached after "ready", so stdout keeps being drained
  // and a chatty daemon never blocks on a full pipe.
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ posPort: number; httpPort: number; adminPort: number; replicationPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon not ready in time; stderr:\n${stderr}`)), options.readyTimeoutMs ?? 30_000);
    lines.on("line", (line) => {
      if (!line.includes('"msg":"ready"')) return;
      const entry = JSON.parse(line) as { posPort?: number; httpPort?: number; adminPort?: number; replicationPort?: number };
      if (entry.posPort && entry.httpPort) {
        clearTimeout(timer);
        resolve({ posPort: entry.posPort, httpPort: entry.httpPort, adminPort: entry.adminPort ?? 0, replicationPort: entry.replicationPort ?? 0 });
      }
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`daemon exited (${code}) before ready; stderr:\n${stderr}`)); });
  });
  return {
    child,
    pid: child.pid!,
    posUrl: `ws://127.0.0.1:${ready.posPort}/pos`,
    httpUrl: `http://127.0.0.1:${ready.httpPort}`,
    posPort: ready.posPort,
    adminUrl: `http://127.0.0.1:${ready.adminPort}`,
    replicationAddress: `127.0.0.1:${ready.replicationPort}`,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

// ---------------------------------------------------------------------------
// /metrics (Prometheus text format)
// ---------------------------------------------------------------------------

/** One sample line: metric name, its labels, its value. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export async function scrapeMetrics(httpUrl: string): Promise<MetricSample[]> {
  const response = await fetch(`${httpUrl}/metrics`);
  const text = await response.text();
  const samples: MetricSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * `after - before` for counters and histogram series (names ending in
 * _total, _bucket, _sum, _count); gauges keep their `after` value. prom-client
 * resets its event-loop-lag percentiles at each scrape, so after a baseline
 * scrape those gauges describe the time since it.
 */
export function diffMetrics(after: readonly MetricSample[], before: readonly MetricSample[]): MetricSample[] {
  const keyOf = (s: MetricSample): string => `${s.name}{${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).sort().join(",")}}`;
  const base = new Map(before.map((s) => [keyOf(s), s.value]));
  return after.map((s) => (/_(total|bucket|sum|count)$/.test(s.name) ? { ...s, value: s.value - (base.get(keyOf(s)) ?? 0) } : s));
}

export function metricValue(samples: readonly MetricSample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  const found = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found?.value ?? NaN;
}

/** Cumulative bucket counts of a histogram (optionally one label set), as [upper bound, count] sorted by bound. */
export function histogramBuckets(samples: readonly MetricSample[], name: string, labels: Readonly<Record<string, string>> = {}): [number, number][] {
  return samples
    .filter((s) => s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .map((s): [number, number] => [s.labels["le"] === "+Inf" ? Infinity : Number(s.labels["le"]), s.value])
    .sort((a, b) => a[0] - b[0]);
}

/** The smallest bucket bound holding at least quantile q of the observations: an upper bound on that percentile. */
export function bucketQuantileBound(buckets: readonly [number, number][], q: number): number {
  const total = buckets[buckets.length - 1]?.[1] ?? 0;
  if (total === 0) return NaN;
  for (const [bound, count] of buckets) if (count >= q * total) return bound;
  return Infinity;
}
