// Checks through the real service, engine and store, without the network:
// identify → calculate → confirm for K tills in a closed loop (each till sends
// its next step when it has the answer), LMDB with group commit and fsync.
// It separates what the daemon's own code costs per check (event-loop CPU)
// and what a group commit costs (ms, commands per commit) from the generator
// and socket noise of the end-to-end benchmark, so storage and CPU changes
// can be compared with short, quiet runs.
//
// Run: npm run build && node dist/benchmarks/checkout-store.bench.js
//        [--seconds 5] [--warmup 1] [--tills 8,64] [--durability sync|none] [--cards 10000] [--redeem-share 0.2]
// Prints the machine, then one JSON line per --tills value. To count the
// pages LMDB writes per commit, run it under `strace -f -c -e trace=pwrite64,pwritev,fdatasync`.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { decodeRequest, decodeResponse, encodeRequest, type Request } from "../protocol/codec.js";
import { createLogger } from "../daemon/observability/logger.js";
import { LoyaltyService } from "../daemon/service.js";
import { openStore, type CommitInfo, type Durability } from "../daemon/storage/store.js";
import type { TerminalSession } from "../daemon/net/pos-service.js";
import { prepareData } from "./support/daemon-process.js";
import { fiveLineBasket } from "./support/basket.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    tills: { type: "string", default: "8,64" },
    durability: { type: "string", default: "sync" },
    cards: { type: "string", default: "10000" },
    "redeem-share": { type: "string", default: "0.2" },
  },
});
const seconds = Number(values.seconds);
const warmupS = Number(values.warmup);
const durability = values.durability as Durability;
const cardsCount = Number(values.cards);
const redeemShare = Number(values["redeem-share"]);

const basket = fiveLineBasket;

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
const round = (x: number): number => Math.round(x * 1000) / 1000;

async function run(tills: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-checkout-bench-"));
  const prepared = await prepareData(dir, cardsCount, 1000);
  const commits: CommitInfo[] = [];
  let recording = false;
  const store = await openStore({
    path: join(dir, "lmdb"), durability, mapSizeBytes: 4096 * 1024 * 1024, pendingCommandsMax: 50_000,
    onCommit: (info) => { if (recording) commits.push(info); },
  });
  const service = new LoyaltyService({ store, clock: () => Date.now(), logger: createLogger({ level: "warn" }) });
  const terminals = prepared.credentials.terminals;
  const sessions: TerminalSession[] = terminals.map((t) => ({ merchantId: prepared.credentials.merchantId, storeId: t.storeId, terminalId: t.terminalId }));

  let random = 12_345;
  const nextRandom = (): number => (random = (random * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x80000000;
  let requestId = 0;
  let opId = 0;
  // What the network layer hands the service: a Request decoded from its frame.
  const request = (body: Record<string, unknown>): Request => decodeRequest(encodeRequest({ requestId: ++requestId, cashierId: "c1", ...body }));
  const call = async (session: TerminalSession, body: Record<string, unknown>): Promise<ReturnType<typeof decodeResponse>> => {
    const result = await service.execute(session, request(body));
    const response = decodeResponse(result.body);
    if (response.error) throw new Error(`bench step failed: ${response.error.message}`);
    return response;
  };

  let checks = 0;
  let stop = false;
  const checkMs: number[] = [];
  const till = async (index: number): Promise<void> => {
    const session = sessions[index % sessions.length]!;
    while (!stop) {
      const started = performance.now();
      const cardNumber = prepared.earnCards[Math.floor(nextRandom() * prepared.earnCards.length)]!;
      await call(session, { identify: { card: { cardNumber } } });
      const calc = await call(session, {
        calculate: { operationId: `b${++opId}`, card: { cardNumber }, lines: basket, redeemPoints: nextRandom() < redeemShare ? 10 : 0 },
      });
      await call(session, { confirm: { operationId: `b${++opId}`, checkId: calc.calculate!.checkId, receiptNumber: `R${opId}` } });
      if (recording) {
        checks += 1;
        checkMs.push(performance.now() - started);
      }
    }
  };
  const running = Array.from({ length: tills }, (_, i) => till(i));
  await new Promise((resolve) => setTimeout(resolve, warmupS * 1000));
  recording = true;
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const elapsedMs = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  recording = false;
  stop = true;
  await Promise.all(running);
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  const commitMs = commits.map((c) => c.ms).sort((a, b) => a - b);
  const batch = commits.map((c) => c.commands).sort((a, b) => a - b);
  const writes = commits.reduce((s, c) => s + c.writes, 0);
  const commands = commits.reduce((s, c) => s + c.commands, 0);
  checkMs.sort((a, b) => a - b);
  return {
    durability, tills,
    checksPerS: Math.round((checks * 1000) / elapsedMs),
    eventLoopUsPerCheck: round((elu.active * 1000) / Math.max(1, checks)),
    processCpuUsPerCheck: round((cpu.user + cpu.system) / Math.max(1, checks)),
    eventLoopUtilization: round(elu.utilization),
    commits: commits.length,
    commandsPerCommitMedian: percentile(batch, 0.5),
    keysWrittenPerCommand: round(writes / Math.max(1, commands)),
    commitMsMedian: round(percentile(commitMs, 0.5)),
    commitMsP99: round(percentile(commitMs, 0.99)),
    checkMsMedian: round(percentile(checkMs, 0.5)),
    checkMsP99: round(percentile(checkMs, 0.99)),
  };
}

console.log(JSON.stringify({ machine: cpus()[0]?.model ?? "?", cores: cpus().length, node: process.version, seconds, durability, cards: cardsCount, date: new Date().toISOString() }));
for (const tills of values.tills.split(",").map(Number)) console.log(JSON.stringify(await run(tills)));
