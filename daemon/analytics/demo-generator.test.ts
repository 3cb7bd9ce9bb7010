import { afterEach, describe, expect, it } from "vitest";
import { applyCommand } from "../engine/apply.js";
import type { CheckRecord, CustomerRecord, LedgerItem } from "../engine/model.js";
import { replayJournal } from "../storage/replay.js";
import { tempStores } from "../storage/test-support/temp-store.js";
import { generateSmallChain, smallChainEnd } from "./test-support/small-chain.js";

const stores = tempStores();
afterEach(() => stores.cleanup());

const open = () => stores.open(stores.dir(), { durability: "none", mapSizeBytes: 256 * 1024 * 1024 });

describe("demo chain generator", () => {
  it("is deterministic by seed and replays from its journal", async () => {
    const a = await open();
    const b = await open();
    const c = await open();
    const summaryA = await generateSmallChain(a, { customers: 50 });
    const summaryB = await generateSmallChain(b, { customers: 50 });
    await generateSmallChain(c, { seed: 8, customers: 50 });
    expect(summaryB).toEqual(summaryA);
    expect(b.digest()).toBe(a.digest());
    expect(c.digest()).not.toBe(a.digest());
    const replayed = await open();
    const entries = a.journalEntries(1, 10_000);
    expect(entries.length).toBeLessThan(10_000);
    expect(await replayJournal(entries, replayed, applyCommand as never)).toBe(a.digest());
  });

  it("writes a plausible chain: members and walk-ins, refunds, redemptions, expiry, homes near stores", async () => {
    const store = await open();
    const s = await generateSmallChain(store);
    expect(s.declined).toBe(0);
    expect(s.registrations).toBe(200);
    expect(s.cardsIssued).toBe(220);
    expect(s.sales).toBeGreaterThan(3_000);
    expect(s.memberSales / s.sales).toBeGreaterThan(0.4);
    expect(s.memberSales / s.sales).toBeLessThan(0.85);
    expect(s.refunds).toBeGreaterThan(10);
    const checks = store.scan<CheckRecord>("checks", "chain/", 10_000).map(([, v]) => v);
    expect(checks.length).toBe(s.sales);
    expect(checks.every((c) => c.createdAt < smallChainEnd && c.createdAt >= s.from)).toBe(true);
    expect(checks.some((c) => c.redeem > 0)).toBe(true);
    expect(checks.some((c) => c.state === "refunded" || c.refunds > 0)).toBe(true);
    const reasons = new Set<string>();
    for (let after: string | undefined; ;) {
      const page = store.scan<LedgerItem>("activity", "chain/", 10_000, after);
      for (const [k, v] of page) if (k.includes("/l/")) reasons.add(v.reason);
      if (page.length < 10_000) break;
      after = page[page.length - 1]![0];
    }
    expect([...reasons].sort()).toEqual(expect.arrayContaining(["accrual", "expiry", "redemption", "welcome"]));
    const customers = store.scan<CustomerRecord>("customers", "chain/", 10_000).map(([, v]) => v);
    expect(customers).toHaveLength(200);
    // Homes within ~60 km of Kazan's centre.
    expect(customers.every((c) => Math.abs(c.homeLatE6 - 55_796_300) < 600_000 && Math.abs(c.homeLonE6 - 49_108_800) < 1_000_000)).toBe(true);
  });
});
