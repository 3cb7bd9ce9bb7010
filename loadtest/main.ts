#!/usr/bin/env node
// loyalty-loadtest: the CLI. Wiring only: flags (cli.ts), the daemon and the
// connections (target.ts), fixed-rate runs (driver.ts) or the saturation
// search (saturation.ts), HTTP load (http-load.ts), output (report.ts).
// Progress goes to stderr, the summary to stdout, the full result to --json.
import { realpathSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { machineInfo, processCpuSeconds, threadCpu, type LatencySummary } from "../benchmarks/support/measure.js";
import { startWakeFloor, type WakeFloor } from "../benchmarks/support/wake-floor.js";
import type { PosClient } from "../protocol/client.js";
import { UsageError, parseCli, usage, type CliConfig } from "./cli.js";
import { runFixedRate, type ProgressSnapshot, type RunResult } from "./driver.js";
import { startHttpLoad, type HttpLoadResult } from "./http-load.js";
import { describeCpu, describeHttp, describeRun, describeSaturation, describeWakeFloor, jsonReplacer, progressLine, type WindowCpu } from "./report.js";
import { saturate, type SaturationResult } from "./saturation.js";
import { realClock } from "./scheduler.js";
import { connectClients, remoteTarget, spawnTarget, type Target } from "./target.js";
import { Workload } from "./workload.js";

export interface RateRun extends RunResult {
  readonly http: HttpLoadResult[] | undefined;
  readonly cpu: WindowCpu | undefined;
  /** This machine's wake-up floor over the window, ms (undefined if the probe could not run). */
  readonly wakeFloorMs: LatencySummary | undefined;
}

/** The wake-up probe's processes start this long before the window, so their start-up is not in it. */
const wakeFloorLeadMs = 500;

function inMs(s: LatencySummary): LatencySummary {
  return { count: s.count, p50: s.p50 / 1000, p90: s.p90 / 1000, p99: s.p99 / 1000, p999: s.p999 / 1000, max: s.max / 1000, mean: s.mean / 1000 };
}

/** CPU counters at one instant of the run: this process (the generator), its main thread, a spawned daemon. */
interface CpuMark {
  readonly at: number;
  readonly generator: NodeJS.CpuUsage;
  readonly generatorMainS: number;
  readonly daemonS: number | undefined;
  /** CLOCK_MONOTONIC µs, the timebase of node --cpu-prof profiles (for cpu-profile-top --from-us/--to-us). */
  readonly monotonicUs: number;
}

function cpuMark(daemonPid: number | undefined): CpuMark {
  return {
    at: performance.now(),
    generator: process.cpuUsage(),
    generatorMainS: threadCpu(process.pid).find((t) => t.tid === process.pid)?.seconds ?? NaN,
    daemonS: daemonPid === undefined ? undefined : processCpuSeconds(daemonPid),
    monotonicUs: Number(process.hrtime.bigint() / 1000n),
  };
}

/**
 * The generator's (and a spawned daemon's) CPU over the measurement window.
 * On a machine it shares with the daemon, every µs the generator spends per
 * check is taken from the daemon, so the run reports it.
 */
function windowCpu(a: CpuMark, b: CpuMark, checksStarted: number): WindowCpu {
  const seconds = (b.at - a.at) / 1000;
  const generatorS = (b.generator.user - a.generator.user + b.generator.system - a.generator.system) / 1e6;
  return {
    seconds,
    generatorPercent: (generatorS / seconds) * 100,
    generatorMainThreadPercent: ((b.generatorMainS - a.generatorMainS) / seconds) * 100,
    generatorUsPerCheck: checksStarted > 0 ? (generatorS * 1e6) / checksStarted : NaN,
    daemonPercent: a.daemonS === undefined || b.daemonS === undefined ? undefined : ((b.daemonS - a.daemonS) / seconds) * 100,
    profileWindowUs: [a.monotonicUs, b.monotonicUs],
  };
}

/** Writes the progress line: in place on a terminal, one plain line per second otherwise. */
function progressWriter(enabled: boolean): { write(p: ProgressSnapshot): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let written = false;
  return {
    write: (p) => {
      if (!enabled) return;
      written = true;
      if (tty) process.stderr.write(`\r${progressLine(p)}\u001b[K`);
      else process.stderr.write(`${progressLine(p)}\n`);
    },
    end: () => {
      if (tty && written) process.stderr.write("\n");
      written = false;
    },
  };
}

/** Waits (bounded) until no request of an earlier run is still open, so the next run starts clean. */
async function quiesce(clients: readonly PosClient[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && clients.some((c) => c.stats().inFlight + c.stats().queued > 0)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function rateRun(config: CliConfig, target: Target, clients: readonly PosClient[], rate: number, runNumber: number): Promise<RateRun> {
  const progress = progressWriter(config.progress);
  const http = config.httpRate > 0 && target.httpUrl !== undefined
    ? startHttpLoad({ baseUrl: target.httpUrl, rate: config.httpRate, seconds: Math.ceil(config.warmup + config.seconds), connectionsPerPath: config.httpConnections })
    : undefined;
  let cpuStart: CpuMark | undefined;
  let cpuEnd: CpuMark | undefined;
  // The machine's floor, measured by two idle child processes over the same window (benchmarks/support/wake-floor.ts).
  let probe: ReturnType<typeof startWakeFloor> | undefined;
  let floor: Promise<WakeFloor | undefined> | undefined;
  const stopProbe = (): Promise<WakeFloor | undefined> => (floor ??= (probe ?? Promise.reject(new Error("no probe"))).then((p) => p.stop()).catch(() => undefined));
  try {
    const result = await runFixedRate({
      rate, seconds: config.seconds, warmupSeconds: config.warmup, clients,
      workload: new Workload(config.workload, target.cards), clock: realClock,
      // Receipt numbers stay unique across runs and invocations against the same daemon.
      runTag: `LT${Date.now().toString(36)}-${runNumber}`,
      drainGraceMs: config.drainGraceMs, onProgress: (p) => progress.write(p), preWindowLeadMs: wakeFloorLeadMs,
      onWindow: (event) => {
        if (event === "pre-window") {
          probe = startWakeFloor();
          // Handled here so a probe that cannot start is no unhandled rejection; stopProbe reports it as undefined.
          probe.catch(() => undefined);
        } else if (event === "window-start") cpuStart = cpuMark(target.pid);
        else {
          cpuEnd = cpuMark(target.pid);
          void stopProbe();
        }
      },
    });
    progress.end();
    const cpu = cpuStart !== undefined && cpuEnd !== undefined ? windowCpu(cpuStart, cpuEnd, result.checksStarted) : undefined;
    const wake = await stopProbe();
    return { ...result, http: http === undefined ? undefined : await http.done, cpu, wakeFloorMs: wake === undefined ? undefined : inMs(wake.roundTripUs) };
  } catch (error) {
    progress.end();
    http?.stop();
    await stopProbe();
    throw error;
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  let config: CliConfig | "help";
  try {
    config = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`loyalty-loadtest: ${error.message}\nrun loyalty-loadtest --help for the flags\n`);
    return 2;
  }
  if (config === "help") {
    process.stdout.write(usage);
    return 0;
  }
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  const openTarget = (): Promise<Target> => (config.spawn
    ? spawnTarget({ durability: config.durability, cards: config.cards, cardPoints: config.cardPoints })
    : Promise.resolve(remoteTarget(config.target!.host, config.target!.port, config.credentials!, config.http)));
  // One daemon and its connections at a time; saturate with --spawn replaces both per step.
  let target = await openTarget();
  let clients: PosClient[] = [];
  const closeAll = async (): Promise<number | null> => {
    await Promise.all(clients.map((c) => c.close({ drain: false })));
    clients = [];
    return target.close();
  };
  // Ctrl-C must not leave a spawned daemon or its temporary data behind.
  const onSignal = (): void => { void closeAll().finally(() => process.exit(130)); };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const connect = async (): Promise<void> => {
    clients = await connectClients(target.posUrl, target.credentials.terminals, config.connections, config.requestTimeoutMs, "loyalty-loadtest");
  };
  try {
    await connect();
    console.log(`# loyalty-loadtest ${config.mode} against ${target.posUrl}${config.spawn ? ` (spawned, durability ${config.durability})` : ""}; ` +
      `${config.connections} connections over ${target.credentials.terminals.length} terminals; ${target.cards.earn.length} cards (${target.cards.redeem.length} with points)`);
    console.log(`# machine: ${machine.nproc} CPUs (${machine.cpuModel}), node ${machine.node}, load average ${machine.loadAverageAtStart}; ${startedAt}`);
    let runs: RateRun[] = [];
    let saturation: SaturationResult<RateRun> | undefined;
    if (config.mode === "run") {
      const result = await rateRun(config, target, clients, config.rate, 1);
      runs = [result];
      console.log(`\n${describeRun(result)}`);
      if (result.cpu) console.log(describeCpu(result.cpu));
      if (result.wakeFloorMs) console.log(describeWakeFloor(result.wakeFloorMs));
      if (result.http) console.log(`\n${describeHttp(result.http)}`);
    } else {
      let runNumber = 0;
      saturation = await saturate<RateRun>({
        startRate: config.startRate, maxRate: config.maxRate, stepRate: config.stepRate, stepFactor: config.stepFactor,
        refine: config.refine,
        criteria: { slo: config.slo, maxErrorRatio: config.maxErrorRatio, minAchievedRatio: config.minAchievedRatio },
        run: async (rate) => {
          runNumber += 1;
          if (config.spawn && !config.reuseDaemon && runNumber > 1) {
            // A fresh daemon per step: what earlier steps wrote (hot cards'
            // grown accounts, a larger database) must not make a later rate fail.
            const code = await closeAll();
            if (code !== 0) throw new Error(`the spawned daemon exited with ${code} after the step at the previous rate`);
            target = await openTarget();
            await connect();
          } else {
            await quiesce(clients, config.requestTimeoutMs + 1_000);
          }
          return rateRun(config, target, clients, rate, runNumber);
        },
        onStep: (step) => console.log(`\n## ${step.rate} checks/s: ${step.verdict.pass ? "pass" : `FAIL (${step.verdict.reasons.join("; ")})`}\n${describeRun(step.outcome)}` +
          (step.outcome.cpu ? `\n${describeCpu(step.outcome.cpu)}` : "") +
          (step.outcome.wakeFloorMs ? `\n${describeWakeFloor(step.outcome.wakeFloorMs)}` : "")),
      });
      runs = saturation.steps.map((s) => s.outcome);
      console.log(`\n## saturation\n${describeSaturation(saturation, config.sloText, config.slo)}`);
    }
    if (config.json !== undefined) {
      const record = {
        tool: "loyalty-loadtest", mode: config.mode, date: startedAt, machine, config: { ...config, target: target.posUrl },
        runs, saturation: saturation === undefined ? undefined : {
          slo: config.sloText, highestPassingRate: saturation.highestPassingRate, firstFailingRate: saturation.firstFailingRate,
          steps: saturation.steps.map((s) => ({ rate: s.rate, pass: s.verdict.pass, reasons: s.verdict.reasons })),
        },
      };
      writeFileSync(config.json, `${JSON.stringify(record, jsonReplacer, 2)}\n`);
    }
    return 0;
  } finally {
    const code = await closeAll();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (code !== 0) process.stderr.write(`loyalty-loadtest: the spawned daemon exited with ${code}\n`);
  }
}

// Run only as the entry point (also through npm's bin symlink), so tests and the benchmarks can import main().
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error: unknown) => {
    process.stderr.write(`loyalty-loadtest: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
