// Analytics benchmark (issue: analytics in worker threads): the demo chain
// generator's throughput, the time of each report over the generated chain,
// and POS latency (identify, sequential, one connection) with and without a
// heavy report running in the report worker.
//
// Run: npm run build && node dist/benchmarks/analytics.bench.js [--customers 100000] [--months 12] [--rounds 3] [--pos-seconds 10] [--durability sync]
// Prints a markdown section with the machine, the command and medians.
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { AdminClient } from "../admin-cli/client.js";
import type { DemoSummary } from "../daemon/analytics/demo-generator.js";
import { reportNames } from "../daemon/analytics/reports/index.js";
import { spawnDaemon } from "../daemon/test-support/spawn-daemon.js";
import { PosClient } from "../protocol/client.js";
import { machineInfo, median, Samples } from "./support/measure.js";

const { values } = parseArgs({
  options: {
    customers: { type: "string", default: "100000" }, months: { type: "string", default: "12" }, rounds: { type: "string", default: "3" },
    "pos-seconds": { type: "string", default: "10" }, durability: { type: "string", default: "sync" }, seed: { type: "string", default: "1" },
  },
});
const customers = Number(values.customers);
const months = Number(values.months);
const rounds = Number(values.rounds);
const posSeconds = Number(values["pos-seconds"]);

const machine = machineInfo();
const daemon = await spawnDaemon({ args: ["--durability", String(values.durability), "--report-threads", "1", "--map-size-mb", "16384"], readyTimeoutMs: 60_000 });
const token = (JSON.parse((await import("node:fs")).readFileSync(daemon.adminCredentialsFile, "utf8")) as { token: string }).token;
const admin = new AdminClient({ url: daemon.adminUrl, token, timeoutMs: 3_600_000 });
const lines: string[] = [];
const say = (s: string) => { lines.push(s); process.stderr.write(`${s}\n`); };

try {
  // 1. Generator.
  const started = await admin.call<{ job: number }>("demo.generate", { customers, months, seed: Number(values.seed) });
  let job: { state: string; ms: number; error: string; summary: DemoSummary };
  for (;;) {
    await sleep(1_000);
    job = await admin.call("demo.status");
    process.stderr.write(`\rgenerating: ${job.summary?.sales ?? 0} checks, ${(job.ms / 1000).toFixed(0)} s`);
    if (job.state !== "running") break;
  }
  process.stderr.write("\n");
  if (job.state !== "done") throw new Error(`generation failed: ${job.error} (job ${started.job})`);
  const s = job.summary;
  const items = s.sales + s.registrations + s.refunds;
  say(`| generator | ${s.stores} stores, ${s.cardsIssued} cards, ${s.registrations} customers, ${s.sales} checks (${s.memberSales} members), ${s.refunds} refunds, ${s.commands} commands | ${(job.ms / 1000).toFixed(1)} s | ${Math.round((s.sales / job.ms) * 1000)} checks/s, ${Math.round((items / job.ms) * 1000)} items/s |`);

  // 2. Reports, whole history, medians of `rounds`.
  const period = { merchantId: "chain", from: s.from, to: s.to };
  for (const name of reportNames) {
    const worker: number[] = [];
    const wall: number[] = [];
    for (let i = 0; i < rounds; i += 1) {
      const t0 = performance.now();
      const r = await admin.call<{ ms: number }>("report.run", { ...period, name, ...(name === "rfm" ? { listSegment: "champions" } : {}) });
      wall.push(performance.now() - t0);
      worker.push(r.ms);
    }
    say(`| report ${name} | median of ${rounds} | ${(median(worker) / 1000).toFixed(2)} s in the worker | ${(median(wall) / 1000).toFixed(2)} s end to end |`);
  }

  // 3. POS latency with and without a report running.
  const terminal = daemon.credentials().terminals[0]!;
  const card = daemon.credentials().cards.find((c) => c.kind === "bonus")!.cardNumber;
  const pos = new PosClient({ url: daemon.posUrl, terminalId: terminal.terminalId, secret: terminal.secret, cashierId: "bench", reconnect: false });
  await pos.connect();
  const measure = async (seconds: number): Promise<Samples> => {
    const samples = new Samples(5_000_000);
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      const t0 = performance.now();
      await pos.identify({ card: { cardNumber: card } });
      samples.record((performance.now() - t0) * 1000);
    }
    return samples;
  };
  await measure(2); // warm-up
  const idle = (await measure(posSeconds)).summary();
  let reportsRun = 0;
  let stop = false;
  const heavy = (async () => {
    while (!stop) { await admin.call("report.run", { ...period, name: "rfm" }); reportsRun += 1; }
  })();
  await sleep(200); // let the first report start in the worker
  const busy = (await measure(posSeconds)).summary();
  stop = true;
  await heavy;
  await pos.close();
  const f = (x: number) => `${(x / 1000).toFixed(3)} ms`;
  say(`| POS identify, no report running | ${idle.count} requests in ${posSeconds} s | p50 ${f(idle.p50)} | p99 ${f(idle.p99)} (max ${f(idle.max)}) |`);
  say(`| POS identify, rfm reports running back to back (${reportsRun}) | ${busy.count} requests in ${posSeconds} s | p50 ${f(busy.p50)} | p99 ${f(busy.p99)} (max ${f(busy.max)}) |`);
} finally {
  await daemon.stop();
}
process.stdout.write([
  `Machine: ${machine.nproc} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, load at start ${machine.loadAverageAtStart}; ${new Date().toISOString()}`,
  `Command: node dist/benchmarks/analytics.bench.js --customers ${customers} --months ${months} --rounds ${rounds} --pos-seconds ${posSeconds} --durability ${String(values.durability)}`,
  "",
  "| what | size | time | rate / latency |",
  "|---|---|---|---|",
  ...lines,
  "",
].join("\n"));
