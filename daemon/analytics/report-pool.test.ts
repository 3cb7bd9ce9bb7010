// The report pool against a whole daemon in this process: a report runs in a
// worker thread over its own LMDB snapshot while the POS path keeps answering.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInProcessDaemon, type InProcessDaemon } from "../test-support/in-process-daemon.js";
import { ReportPool } from "./report-pool.js";
import type { ReportParams } from "./reports/source.js";

// Worker threads load JavaScript: the built worker (npm test builds first).
const workerFile = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "daemon", "analytics", "worker.js");
const day = 86_400_000;

describe("report pool", () => {
  let daemon: InProcessDaemon;
  let pool: ReportPool;
  let params: ReportParams;

  beforeAll(async () => {
    daemon = await startInProcessDaemon();
    pool = new ReportPool({ lmdbPath: daemon.lmdbPath, threads: 1, workerFile });
    params = { from: daemon.now - day, to: daemon.now + day, stores: [], group: {}, asOf: daemon.now, listMax: 100, cellMeters: 1_000 };
  });
  afterAll(async () => {
    await pool?.close();
    await daemon?.close();
  });

  const line = { sku: "milk-1", group: "dairy", quantityMilli: 1000, priceMinor: 10_000, amountMinor: 10_000 };

  it("answers POS requests while a report is held mid-run, and the report sees its own snapshot", async () => {
    const pos = await daemon.client();
    const card = daemon.credentials.cards.find((c) => c.kind === "bonus")!.cardNumber;
    const first = await pos.calculate({ card: { cardNumber: card }, lines: [line] });
    await pos.confirm({ checkId: first.checkId });
    await daemon.store.checkpoint(); // report workers read the LMDB file

    const gate = new SharedArrayBuffer(8);
    const flags = new Int32Array(gate);
    const running = pool.run("demo", "summary", params, gate);
    // Wait until the worker has taken its snapshot and is blocked inside the report.
    const started = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync(flags, 0, 0);
    if (started.async) await started.value;
    expect(Atomics.load(flags, 0)).toBe(1);

    // The POS path is served meanwhile: identify, and a whole check made durable.
    expect((await pos.identify({ card: { cardNumber: card } })).balances).toBeDefined();
    const second = await pos.calculate({ card: { cardNumber: card }, lines: [line, line] });
    const confirmed = await pos.confirm({ checkId: second.checkId });
    expect(confirmed.checkId).toBe(second.checkId);
    await daemon.store.checkpoint(); // report workers read the LMDB file

    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    const held = await running;
    const after = await pool.run("demo", "summary", params);
    if ("error" in held || "error" in after) throw new Error("report failed");
    // The held report's snapshot predates the second check; a new report sees it.
    expect(held.result.figures.checks).toBe(1);
    expect(after.result.figures.checks).toBe(2);
    expect(Number(after.result.figures.revenueMinor)).toBeGreaterThan(Number(held.result.figures.revenueMinor));
  });

  it("refuses an unknown merchant with a message, not a crash", async () => {
    expect(await pool.run("nobody", "points", params)).toEqual({ error: "unknown merchant nobody" });
  });
});
