// Command-line flags of loyalty-loadtest: parsing and validation only, so
// every bad flag is tested without starting anything. A bad flag is a
// UsageError (the CLI prints it and exits 2).
import { parseArgs } from "node:util";
import { parseSlo, type SloTerm } from "./saturation.js";
import { validateWorkloadOptions, type WorkloadOptions } from "./workload.js";

export class UsageError extends Error {
  override name = "UsageError";
}

export const usage = `loyalty-loadtest: open-loop POS load against a loyalty daemon (SPEC O5)

usage: loyalty-loadtest run      (--spawn | --target HOST:PORT --credentials FILE) [options]
       loyalty-loadtest saturate (--spawn | --target HOST:PORT --credentials FILE) [options]

  run       one fixed-rate run: --warmup s of load, then --seconds s measured
  saturate  fixed-rate runs at rising rates; reports the highest rate that meets --slo

target
  --spawn                    start dist/daemon/main.js on a temporary data directory (demo seed + --cards)
  --durability sync|none     with --spawn (default sync)
  --cards N                  with --spawn: extra bonus cards preloaded (default 10000; 0 = the seed's 10)
  --card-points N            with --spawn: opening balance of each extra card (default 1000)
  --target HOST:PORT         a running daemon's POS port (ws://HOST:PORT/pos)
  --credentials FILE         its demo-credentials.json (terminals, secrets and cards)
  --http HOST:PORT           its HTTP port, for --http-rate (with --spawn it is known)

load
  --rate N                   checks started per second (run; default 500)
  --seconds N                measured seconds per run (default 10)
  --warmup N                 seconds of load before the measurement (default 2)
  --connections N            POS connections, spread over the terminals (default 16)
  --seed N                   workload seed: same seed, same sequence of checks (default 1)
  --nonmember-share F        checks without a card (default 0.1)
  --redeem-share F           member checks that spend --redeem-points (default 0.2; default points 10)
  --coupon-share F           checks with a coupon code (default 0.05)
  --cancel-share F           calculations cancelled instead of confirmed (default 0.05)
  --refund-share F           confirmed checks refunded right after (default 0.02)
  --basket-min N --basket-max N   lines per basket (default 1..8)
  --zipf-s F                 card popularity skew, 0 = uniform (default 0.99)
  --request-timeout-ms N     per request (default 5000)
  --drain-grace-ms N         after the timetable, how long open checks may finish (default 2000)
  --http-rate N              also drive /healthz and /metrics with autocannon at N requests/s
  --http-connections N       autocannon connections per path (default 4)

saturate
  --slo TERMS                e.g. identify:p99<=1,calculate:p99<=1,confirm:p99<=2 (ms; default that)
  --start-rate N             first rate (default 250)
  --step-rate N | --step-factor F   add N, or multiply by F, per step (default factor 1.5)
  --max-rate N               stop there (default 20000)
  --refine N                 bisections between the last pass and the first failure (default 2)
  --reuse-daemon             with --spawn: one daemon for every step (default: a fresh one per step,
                             so data written at one rate cannot fail the next)
  --max-error-ratio F        errors allowed per check started (default 0.001)
  --min-achieved-ratio F     achieved/offered at least (default 0.95)

output
  --json FILE                write the result (config, machine, every run) as JSON
  --no-progress              no progress line on stderr
  --help                     this text
`;

export interface CliConfig {
  readonly mode: "run" | "saturate";
  readonly spawn: boolean;
  readonly durability: "sync" | "none";
  readonly cards: number;
  readonly cardPoints: number;
  readonly target: { host: string; port: number } | undefined;
  readonly credentials: string | undefined;
  readonly http: { host: string; port: number } | undefined;
  readonly rate: number;
  readonly seconds: number;
  readonly warmup: number;
  readonly connections: number;
  readonly workload: WorkloadOptions;
  readonly requestTimeoutMs: number;
  readonly drainGraceMs: number;
  readonly httpRate: number;
  readonly httpConnections: number;
  readonly slo: readonly SloTerm[];
  readonly sloText: string;
  readonly startRate: number;
  readonly stepRate: number | undefined;
  readonly stepFactor: number | undefined;
  readonly maxRate: number;
  readonly refine: number;
  readonly reuseDaemon: boolean;
  readonly maxErrorRatio: number;
  readonly minAchievedRatio: number;
  readonly json: string | undefined;
  readonly progress: boolean;
}

const stringFlags = [
  "durability", "cards", "card-points", "target", "credentials", "http", "rate", "seconds", "warmup", "connections", "seed",
  "nonmember-share", "redeem-share", "redeem-points", "coupon-share", "cancel-share", "refund-share", "basket-min", "basket-max",
  "zipf-s", "request-timeout-ms", "drain-grace-ms", "http-rate", "http-connections", "slo", "start-rate", "step-rate",
  "step-factor", "max-rate", "refine", "max-error-ratio", "min-achieved-ratio", "json",
] as const;
type StringFlag = (typeof stringFlags)[number];

export const defaultSlo = "identify:p99<=1,calculate:p99<=1,confirm:p99<=2";

/** Parses argv (without node and the script). Returns "help" for --help. */
export function parseCli(argv: readonly string[]): CliConfig | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(stringFlags.map((f) => [f, { type: "string" as const }])),
        spawn: { type: "boolean" }, "reuse-daemon": { type: "boolean" }, "no-progress": { type: "boolean" }, help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    // parseArgs throws TypeError with a code for unknown flags and missing values; its message names the flag.
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as Partial<Record<StringFlag, string>> & { spawn?: boolean; "reuse-daemon"?: boolean; "no-progress"?: boolean; help?: boolean };
  if (values.help) return "help";
  if (parsed.positionals.length !== 1) throw new UsageError(`expected exactly one mode, run or saturate; got ${parsed.positionals.length === 0 ? "none" : parsed.positionals.join(" ")}`);
  const mode = parsed.positionals[0];
  if (mode !== "run" && mode !== "saturate") throw new UsageError(`unknown mode "${mode}": run or saturate`);

  const num = (flag: StringFlag, fallback: number, min: number, max: number, integer = false): number => {
    const text = values[flag];
    if (text === undefined) return fallback;
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new UsageError(`--${flag} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}, got "${text}"`);
    }
    return n;
  };
  const hostPort = (flag: "target" | "http"): { host: string; port: number } | undefined => {
    const text = values[flag];
    if (text === undefined) return undefined;
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65_535) throw new UsageError(`--${flag} must be HOST:PORT, got "${text}"`);
    return { host: match[1]!, port };
  };

  const spawn = values.spawn === true;
  const target = hostPort("target");
  if (spawn === (target !== undefined)) throw new UsageError("give exactly one of --spawn or --target HOST:PORT");
  if (target !== undefined && values.credentials === undefined) throw new UsageError("--target needs --credentials FILE (the daemon's demo-credentials.json)");
  if (spawn && (values.credentials !== undefined || values.http !== undefined)) throw new UsageError("--credentials and --http go with --target; --spawn knows its own");
  const durability = values.durability ?? "sync";
  if (durability !== "sync" && durability !== "none") throw new UsageError(`--durability is sync or none, got "${durability}"`);

  const workload: WorkloadOptions = {
    seed: num("seed", 1, 0, 2 ** 32 - 1, true),
    nonmemberShare: num("nonmember-share", 0.1, 0, 1),
    redeemShare: num("redeem-share", 0.2, 0, 1),
    redeemPoints: num("redeem-points", 10, 1, 1_000_000, true),
    couponShare: num("coupon-share", 0.05, 0, 1),
    cancelShare: num("cancel-share", 0.05, 0, 1),
    refundShare: num("refund-share", 0.02, 0, 1),
    basketMin: num("basket-min", 1, 1, 500, true),
    basketMax: num("basket-max", 8, 1, 500, true),
    zipfS: num("zipf-s", 0.99, 0, 10),
  };
  try {
    validateWorkloadOptions(workload);
  } catch (error) {
    throw new UsageError(`--basket-min/--basket-max: ${(error as Error).message}`);
  }
  const sloText = values.slo ?? defaultSlo;
  let slo: SloTerm[];
  try {
    slo = parseSlo(sloText);
  } catch (error) {
    throw new UsageError(`--slo: ${(error as Error).message}`);
  }
  if (values["step-rate"] !== undefined && values["step-factor"] !== undefined) throw new UsageError("give --step-rate or --step-factor, not both");
  const stepRate = values["step-rate"] === undefined ? undefined : num("step-rate", 0, 1, 1_000_000);
  const stepFactor = stepRate !== undefined ? undefined : num("step-factor", 1.5, 1.01, 100);
  const startRate = num("start-rate", 250, 1, 1_000_000);
  const maxRate = num("max-rate", 20_000, 1, 1_000_000);
  if (mode === "saturate" && maxRate < startRate) throw new UsageError(`--max-rate (${maxRate}) is below --start-rate (${startRate})`);

  const http = hostPort("http");
  const httpRate = num("http-rate", 0, 0, 1_000_000);
  if (httpRate > 0 && target !== undefined && http === undefined) throw new UsageError("--http-rate with --target needs --http HOST:PORT (the daemon's HTTP port)");

  return {
    mode, spawn, durability,
    cards: num("cards", 10_000, 0, 10_000_000, true),
    cardPoints: num("card-points", 1_000, 0, 1_000_000_000, true),
    target, credentials: values.credentials, http,
    rate: num("rate", 500, 1, 1_000_000),
    seconds: num("seconds", 10, 0.1, 86_400),
    warmup: num("warmup", 2, 0, 3_600),
    connections: num("connections", 16, 1, 10_000, true),
    workload,
    requestTimeoutMs: num("request-timeout-ms", 5_000, 1, 600_000, true),
    drainGraceMs: num("drain-grace-ms", 2_000, 0, 600_000, true),
    httpRate,
    httpConnections: num("http-connections", 4, 1, 1_000, true),
    slo, sloText, startRate, stepRate, stepFactor, maxRate,
    refine: num("refine", 2, 0, 20, true),
    reuseDaemon: values["reuse-daemon"] === true,
    maxErrorRatio: num("max-error-ratio", 0.001, 0, 1),
    minAchievedRatio: num("min-achieved-ratio", 0.95, 0, 1),
    json: values.json,
    progress: values["no-progress"] !== true,
  };
}
