// Graceful shutdown of the real daemon process: SIGTERM while confirms are in
// flight. Every request gets an answer (done, or UNAVAILABLE to retry), the
// process exits 0, and after a restart every confirm that was answered as
// done is there.
import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../protocol/codec.js";
import { PosClient, PosError } from "../protocol/client.js";
import { spawnDaemon, type SpawnedDaemon } from "./test-support/spawn-daemon.js";

const started: SpawnedDaemon[] = [];
afterEach(async () => {
  for (const d of started.splice(0)) {
    await d.stop("SIGKILL");
    rmSync(d.dataDir, { recursive: true, force: true });
  }
});

describe("graceful shutdown", () => {
  it("answers every request in flight, exits 0, and keeps what it confirmed", async () => {
    const daemon = await spawnDaemon();
    started.push(daemon);
    const creds = daemon.credentials();
    const t = creds.terminals[0]!;
    const card = creds.cards[9]!.cardNumber; // no opening balance: points come only from these checks
    const pos = new PosClient({ url: daemon.posUrl, terminalId: t.terminalId, secret: t.secret, cashierId: "c1", reconnect: false, inFlightMax: 256 });
    await pos.connect();
    const calcs = await Promise.all(Array.from({ length: 50 }, () =>
      pos.calculate({ card: { cardNumber: card }, lines: [{ sku: "1", group: "grocery", quantityMilli: 1000, priceMinor: 10_000, amountMinor: 10_000 }] })));
    const confirms = calcs.map((c) => pos.confirm({ checkId: c.checkId }));
    // Stop while the rest are on the wire or being committed.
    await confirms[0];
    const exit = daemon.stop("SIGTERM");
    const outcomes = await Promise.allSettled(confirms);
    expect(await exit).toBe(0);
    let done = 0;
    for (const o of outcomes) {
      if (o.status === "fulfilled") { done += 1; continue; }
      // Anything else must be a typed "retry later", never a lost answer.
      expect(o.reason).toBeInstanceOf(PosError);
      expect((o.reason as PosError).code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
    }
    expect(done).toBeGreaterThanOrEqual(1);
    expect(daemon.logLines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
    await pos.close({ drain: false });

    const again = await spawnDaemon({ dataDir: daemon.dataDir });
    started.push(again);
    const check = new PosClient({ url: again.posUrl, terminalId: t.terminalId, secret: t.secret, cashierId: "c1", reconnect: false });
    await check.connect();
    const who = await check.identify({ card: { cardNumber: card } });
    expect(who.balances?.pointsPending).toBe(done * 3);
    await check.close();
  });
});
