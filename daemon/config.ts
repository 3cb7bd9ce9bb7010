// The daemon's configuration: command-line flags, then environment variables,
// then defaults that work out of the box (a fresh checkout runs with none).
//
// Contract: `parseConfig` is pure (argv and env come in, nothing is read from
// the process) and either returns a complete, validated `Config` or throws a
// `ConfigError` that lists every problem at once, each naming the flag and
// the variable. An empty environment variable counts as unset, as compose
// files and Kubernetes manifests produce them freely.
import { parseArgs } from "node:util";
import * as constants from "./constants.js";
import type { ReplicationSettings } from "./replication/controller.js";
import { checkpointIntervalMsDefault } from "./storage/limits.js";

export const durabilityModes = ["sync", "none"] as const;
export type Durability = (typeof durabilityModes)[number];

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

/** Limits the network layer enforces on each POS connection (see daemon/constants.ts for the reasons). */
export interface ConnectionLimits {
  /** Requests in flight per connection; more are answered LIMIT_EXCEEDED. */
  readonly inFlightPerConnectionMax: number;
  /** A connection silent for this long (no frames, no pong) is closed. Whole seconds. */
  readonly idleTimeoutMs: number;
  /** Largest accepted frame; larger ones close the connection with 1009. */
  readonly frameBytesMax: number;
  /** Answer bytes buffered for a slow reader before its connection is closed. */
  readonly backpressureBytesMax: number;
  /** Open POS connections; further upgrades get HTTP 503. */
  readonly connectionsMax: number;
}

export interface Config {
  /** `--help` was given: print configHelp() and exit; the other fields are defaults. */
  readonly help: boolean;
  /** Directory of the LMDB environment and the demo credentials. */
  readonly dataDir: string;
  /** Interface the POS and HTTP ports bind to. 127.0.0.1 by default: exposing the daemon is a decision. */
  readonly host: string;
  /** POS WebSocket port (path /pos). 0 = ephemeral (tests). */
  readonly posPort: number;
  /** HTTP port for /healthz, /readyz, /metrics. 0 = ephemeral. */
  readonly httpPort: number;
  /** Admin channel port (HTTP, POST /v1/<method>). 0 = ephemeral. */
  readonly adminPort: number;
  /** Interface the admin port binds to: loopback unless the operator decides otherwise. */
  readonly adminHost: string;
  /** Give the "admin" user a new token and rewrite <data>/admin-credentials.json. */
  readonly resetAdminToken: boolean;
  readonly replication: ReplicationSettings;
  /** `sync`: a commit is on disk before its answer. `none`: no fsync (tests, benchmarks; a crash loses recent commits). */
  readonly durability: Durability;
  readonly logLevel: LogLevel;
  /** Seed the demo merchant when the data directory is empty. */
  readonly seedDemo: boolean;
  /** Initial LMDB map size in MiB: address space reserved up front; lmdb-js grows the map when data outgrows it. */
  readonly mapSizeMb: number;
  /** Worker threads for reports (piscina); small so reports never starve the POS event loop. */
  readonly reportThreads: number;
  /** Longest a durable change waits before a checkpoint copies it from the write-ahead log into LMDB. */
  readonly checkpointIntervalMs: number;
  /** Directory of the write-ahead log; "" = inside the LMDB directory. */
  readonly walDir: string;
  readonly connection: ConnectionLimits;
  /** How long a graceful shutdown waits for in-flight requests. */
  readonly shutdownGraceMs: number;
}

/** Thrown with every problem found, one per line. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}\nRun with --help for the options.`);
  }
}

type Kind =
  | { readonly type: "string" }
  | { readonly type: "integer"; readonly min: number; readonly max: number; readonly wholeSecondsMs?: true }
  | { readonly type: "enum"; readonly values: readonly string[] }
  | { readonly type: "boolean" };

interface OptionSpec {
  readonly flag: string;
  readonly env: string;
  readonly kind: Kind;
  readonly fallback: string | number | boolean;
  readonly help: string;
}

const portKind: Kind = { type: "integer", min: 0, max: 65_535 };

// The table drives parsing, validation and --help, so they cannot drift.
const options = {
  dataDir: { flag: "data", env: "LOYALTY_DATA_DIR", kind: { type: "string" }, fallback: "./data", help: "data directory (LMDB environment, demo credentials)" },
  host: { flag: "host", env: "LOYALTY_HOST", kind: { type: "string" }, fallback: "127.0.0.1", help: "interface to bind the POS and HTTP ports to (0.0.0.0 for all)" },
  posPort: { flag: "pos-port", env: "LOYALTY_POS_PORT", kind: portKind, fallback: 7700, help: "POS WebSocket port, path /pos (0 = ephemeral)" },
  httpPort: { flag: "http-port", env: "LOYALTY_HTTP_PORT", kind: portKind, fallback: 7780, help: "HTTP port: /healthz, /readyz, /metrics (0 = ephemeral)" },
  adminPort: { flag: "admin-port", env: "LOYALTY_ADMIN_PORT", kind: portKind, fallback: 7701, help: "admin channel port for admin-cli (0 = ephemeral)" },
  adminHost: { flag: "admin-host", env: "LOYALTY_ADMIN_HOST", kind: { type: "string" }, fallback: "127.0.0.1", help: "interface to bind the admin port to (keep it on loopback or a management network)" },
  resetAdminToken: { flag: "reset-admin-token", env: "LOYALTY_RESET_ADMIN_TOKEN", kind: { type: "boolean" }, fallback: false, help: "give the 'admin' user a new token, written to <data>/admin-credentials.json" },
  replicationPort: { flag: "replication-port", env: "LOYALTY_REPLICATION_PORT", kind: portKind, fallback: 7702, help: "replication endpoint replicas connect to (ws, path /replication; 0 = ephemeral)" },
  replicationHost: { flag: "replication-host", env: "LOYALTY_REPLICATION_HOST", kind: { type: "string" }, fallback: "127.0.0.1", help: "interface the replication port binds to (the replica's network)" },
  replicaOf: { flag: "replica-of", env: "LOYALTY_REPLICA_OF", kind: { type: "string" }, fallback: "", help: "run as a read-only replica of the primary at host:port (its replication port)" },
  replicationToken: { flag: "replication-token", env: "LOYALTY_REPLICATION_TOKEN", kind: { type: "string" }, fallback: "", help: "a replica's credential: an admin user's token on the primary (prefer the variable: flags show in ps)" },
  replicationMode: { flag: "replication-mode", env: "LOYALTY_REPLICATION_MODE", kind: { type: "enum", values: ["async", "semi-sync"] }, fallback: "async", help: "async: answer writes when durable here; semi-sync: also wait for a replica's acknowledgement" },
  semiSyncTimeoutMs: { flag: "semi-sync-timeout-ms", env: "LOYALTY_SEMI_SYNC_TIMEOUT_MS", kind: { type: "integer", min: 1, max: 60_000 }, fallback: 1000, help: "semi-sync: how long a write waits for a replica" },
  semiSyncOnTimeout: { flag: "semi-sync-on-timeout", env: "LOYALTY_SEMI_SYNC_ON_TIMEOUT", kind: { type: "enum", values: ["unavailable", "answer"] }, fallback: "unavailable", help: "semi-sync, no acknowledgement in time: answer UNAVAILABLE (no answered write can be lost; also fences a superseded primary) or answer anyway (availability first; counted)" },
  journalRetain: { flag: "journal-retain", env: "LOYALTY_JOURNAL_RETAIN", kind: { type: "integer", min: 1_000, max: 1_000_000_000 }, fallback: 10_000_000, help: "journal entries kept at least; older ones are dropped once no connected replica needs them" },
  durability: { flag: "durability", env: "LOYALTY_DURABILITY", kind: { type: "enum", values: durabilityModes }, fallback: "sync", help: "sync = answer a change once its write-ahead log record is on disk (O_DSYNC); none = no flush (tests, benchmarks)" },
  checkpointIntervalMs: { flag: "checkpoint-interval-ms", env: "LOYALTY_CHECKPOINT_INTERVAL_MS", kind: { type: "integer", min: 1, max: 3_600_000 }, fallback: checkpointIntervalMsDefault, help: "how often durable changes are copied from the write-ahead log into LMDB (longer: more to apply again after a crash, more memory)" },
  walDir: { flag: "wal-dir", env: "LOYALTY_WAL_DIR", kind: { type: "string" }, fallback: "", help: "directory of the write-ahead log, on a device of its own so commits do not queue behind checkpoints (default: inside <data>/lmdb; one per data directory)" },
  logLevel: { flag: "log-level", env: "LOYALTY_LOG_LEVEL", kind: { type: "enum", values: logLevels }, fallback: "info", help: "log level" },
  seedDemo: { flag: "seed-demo", env: "LOYALTY_SEED_DEMO", kind: { type: "boolean" }, fallback: true, help: "seed a demo merchant into an empty data directory (--no-seed-demo to skip)" },
  mapSizeMb: { flag: "map-size-mb", env: "LOYALTY_MAP_SIZE_MB", kind: { type: "integer", min: constants.mapSizeMbMin, max: constants.mapSizeMbMax }, fallback: constants.mapSizeMb, help: "initial LMDB map size in MiB (grows on demand; watch loyalty_lmdb_used_bytes and disk space)" },
  reportThreads: { flag: "report-threads", env: "LOYALTY_REPORT_THREADS", kind: { type: "integer", min: 1, max: constants.reportThreadsMax }, fallback: constants.reportThreads, help: "worker threads that run reports (1 leaves the other core to the POS path on a 2-core box)" },
  inFlightPerConnectionMax: { flag: "in-flight-max", env: "LOYALTY_IN_FLIGHT_MAX", kind: { type: "integer", min: 1, max: 65_536 }, fallback: constants.inFlightPerConnectionMax, help: "requests in flight per connection" },
  idleTimeoutMs: { flag: "idle-timeout-ms", env: "LOYALTY_IDLE_TIMEOUT_MS", kind: { type: "integer", min: constants.idleTimeoutMsMin, max: constants.idleTimeoutMsMax, wholeSecondsMs: true }, fallback: constants.idleTimeoutMs, help: "close a connection silent this long (whole seconds, in ms)" },
  frameBytesMax: { flag: "frame-bytes-max", env: "LOYALTY_FRAME_BYTES_MAX", kind: { type: "integer", min: constants.frameBytesMaxMin, max: constants.frameBytesMaxMax }, fallback: constants.frameBytesMax, help: "largest accepted frame in bytes" },
  backpressureBytesMax: { flag: "backpressure-bytes-max", env: "LOYALTY_BACKPRESSURE_BYTES_MAX", kind: { type: "integer", min: 2 * constants.frameBytesMaxMin, max: 1024 * 1024 * 1024 }, fallback: constants.backpressureBytesMax, help: "answer bytes buffered for a slow reader before closing it" },
  connectionsMax: { flag: "connections-max", env: "LOYALTY_CONNECTIONS_MAX", kind: { type: "integer", min: 1, max: 1_000_000 }, fallback: constants.connectionsMax, help: "open POS connections; more get HTTP 503" },
  shutdownGraceMs: { flag: "shutdown-grace-ms", env: "LOYALTY_SHUTDOWN_GRACE_MS", kind: { type: "integer", min: 0, max: constants.shutdownGraceMsMax }, fallback: constants.shutdownGraceMs, help: "how long shutdown waits for in-flight requests" },
} as const satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof options;
const optionNames = Object.keys(options) as OptionName[];

function parseArgsOptions(): Record<string, { type: "string" | "boolean"; short?: string }> {
  const result: Record<string, { type: "string" | "boolean"; short?: string }> = { help: { type: "boolean", short: "h" } };
  for (const name of optionNames) {
    const spec: OptionSpec = options[name];
    result[spec.flag] = { type: spec.kind.type === "boolean" ? "boolean" : "string" };
    // util.parseArgs gained allowNegative only in Node 20.16; declare the
    // negation explicitly so every supported Node accepts it.
    if (spec.kind.type === "boolean") result[`no-${spec.flag}`] = { type: "boolean" };
  }
  return result;
}

const booleanWords: Readonly<Record<string, boolean>> = { true: true, "1": true, yes: true, on: true, false: false, "0": false, no: false, off: false };

function convert(spec: OptionSpec, raw: string | boolean, source: string, problems: string[]): string | number | boolean | undefined {
  const kind = spec.kind;
  switch (kind.type) {
    case "boolean": {
      if (typeof raw === "boolean") return raw;
      const value = booleanWords[raw.trim().toLowerCase()];
      if (value === undefined) problems.push(`${source}: expected true or false, got ${JSON.stringify(raw)}`);
      return value;
    }
    case "string": {
      const value = String(raw);
      if (value.trim() === "") { problems.push(`${source}: must not be empty`); return undefined; }
      return value;
    }
    case "enum": {
      const value = String(raw);
      if (!kind.values.includes(value)) { problems.push(`${source}: expected one of ${kind.values.join(", ")}, got ${JSON.stringify(value)}`); return undefined; }
      return value;
    }
    case "integer": {
      const text = String(raw).trim();
      // Digits only: Number() would also accept "1e3", "0x10" and " ".
      if (!/^\d{1,16}$/.test(text)) { problems.push(`${source}: expected a non-negative integer, got ${JSON.stringify(raw)}`); return undefined; }
      const value = Number(text);
      if (value < kind.min || value > kind.max) { problems.push(`${source}: must be between ${kind.min} and ${kind.max}, got ${value}`); return undefined; }
      if (kind.wholeSecondsMs && value % 1000 !== 0) { problems.push(`${source}: must be whole seconds (a multiple of 1000), got ${value}`); return undefined; }
      return value;
    }
  }
}

/**
 * Reads the configuration from flags (`argv` without node and the script, as
 * in `process.argv.slice(2)`) and environment variables. Flags win over the
 * environment, the environment over defaults. Throws ConfigError.
 */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Config {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: parseArgsOptions(), strict: true, allowPositionals: false });
  } catch (error) {
    // parseArgs reports unknown flags, missing values and positionals with a
    // readable message; it is the only detail there is to give.
    throw new ConfigError([error instanceof Error ? error.message : String(error)]);
  }
  const flags = parsed.values as Record<string, string | boolean | undefined>;
  const problems: string[] = [];
  const values = {} as Record<OptionName, string | number | boolean>;

  for (const name of optionNames) {
    const spec: OptionSpec = options[name];
    let raw: string | boolean | undefined = flags[spec.flag];
    let source = `--${spec.flag}`;
    if (spec.kind.type === "boolean" && flags[`no-${spec.flag}`] === true) {
      if (raw === true) problems.push(`--${spec.flag} and --no-${spec.flag} contradict each other`);
      raw = false;
    }
    if (raw === undefined) {
      const fromEnv = env[spec.env];
      if (fromEnv !== undefined && fromEnv !== "") { raw = fromEnv; source = spec.env; }
    }
    const value = raw === undefined ? spec.fallback : convert(spec, raw, source, problems);
    if (value !== undefined) values[name] = value;
  }

  const help = flags["help"] === true;
  if (help) return defaultConfig(true);

  if (problems.length === 0) {
    const ports: [string, number][] = [
      ["pos-port", values.posPort as number], ["http-port", values.httpPort as number], ["admin-port", values.adminPort as number],
      ["replication-port", values.replicationPort as number],
    ];
    for (let i = 0; i < ports.length; i += 1) {
      for (let j = i + 1; j < ports.length; j += 1) {
        const [a, portA] = ports[i]!;
        const [b, portB] = ports[j]!;
        if (portA !== 0 && portA === portB) problems.push(`--${a} and --${b} are both ${portA}; each port serves one purpose`);
      }
    }
    if (values.replicaOf !== "" && !/^[^:\s]+:\d{1,5}$/.test(values.replicaOf as string)) problems.push(`--replica-of must be host:port, got ${JSON.stringify(values.replicaOf)}`);
    if (values.replicaOf !== "" && values.replicationToken === "") problems.push("--replica-of needs a token: set LOYALTY_REPLICATION_TOKEN (an admin user's token on the primary)");
    if ((values.backpressureBytesMax as number) < 2 * (values.frameBytesMax as number)) {
      problems.push(`--backpressure-bytes-max (${values.backpressureBytesMax}) must be at least twice --frame-bytes-max (${values.frameBytesMax}) so a large answer fits`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return build(values, false);
}

function build(values: Record<OptionName, string | number | boolean>, help: boolean): Config {
  return {
    help,
    dataDir: values.dataDir as string,
    host: values.host as string,
    posPort: values.posPort as number,
    httpPort: values.httpPort as number,
    adminPort: values.adminPort as number,
    adminHost: values.adminHost as string,
    resetAdminToken: values.resetAdminToken as boolean,
    replication: {
      mode: values.replicationMode as ReplicationSettings["mode"],
      semiSyncTimeoutMs: values.semiSyncTimeoutMs as number,
      semiSyncOnTimeout: values.semiSyncOnTimeout as ReplicationSettings["semiSyncOnTimeout"],
      journalRetain: values.journalRetain as number,
      host: values.replicationHost as string,
      port: values.replicationPort as number,
      replicaOf: values.replicaOf as string,
      token: values.replicationToken as string,
    },
    durability: values.durability as Durability,
    logLevel: values.logLevel as LogLevel,
    seedDemo: values.seedDemo as boolean,
    mapSizeMb: values.mapSizeMb as number,
    reportThreads: values.reportThreads as number,
    checkpointIntervalMs: values.checkpointIntervalMs as number,
    walDir: values.walDir as string,
    connection: {
      inFlightPerConnectionMax: values.inFlightPerConnectionMax as number,
      idleTimeoutMs: values.idleTimeoutMs as number,
      frameBytesMax: values.frameBytesMax as number,
      backpressureBytesMax: values.backpressureBytesMax as number,
      connectionsMax: values.connectionsMax as number,
    },
    shutdownGraceMs: values.shutdownGraceMs as number,
  };
}

/** The configuration with every default (what an empty argv and environment give). */
export function defaultConfig(help = false): Config {
  const values = {} as Record<OptionName, string | number | boolean>;
  for (const name of optionNames) values[name] = options[name].fallback;
  return build(values, help);
}

/** The text printed for --help: every flag with its variable and default. */
export function configHelp(): string {
  const lines = [
    "Usage: loyalty-daemon [options]",
    "",
    "Every option may also be set by its environment variable; a flag wins.",
    "",
  ];
  const rows = optionNames.map((name) => {
    const spec: OptionSpec = options[name];
    const flag = spec.kind.type === "boolean" ? `--[no-]${spec.flag}` : `--${spec.flag} <${spec.kind.type === "enum" ? spec.kind.values.join("|") : spec.kind.type === "integer" ? "n" : "value"}>`;
    return { flag, env: spec.env, text: `${spec.help} (default: ${String(spec.fallback)})` };
  });
  rows.push({ flag: "-h, --help", env: "", text: "print this help and exit" });
  const flagWidth = Math.max(...rows.map((r) => r.flag.length));
  const envWidth = Math.max(...rows.map((r) => r.env.length));
  for (const row of rows) lines.push(`  ${row.flag.padEnd(flagWidth)}  ${row.env.padEnd(envWidth)}  ${row.text}`);
  return `${lines.join("\n")}\n`;
}
