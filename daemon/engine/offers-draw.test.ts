import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AdminResult } from "./admin.js";
import { drawWinners, entrantsDigest } from "./draw.js";
import type { Account } from "./model.js";
import { parseOffers } from "./offers.js";
import { EngineFixture, line, replay } from "./test-support/engine-fixture.js";

describe("offers (C1)", () => {
  it("shows a customer the offers of their segment at Identify and prints receipt offers and the basket message after Confirm", () => {
    const f = new EngineFixture();
    const parsed = parseOffers([
      { id: "coffee", title: "Coffee lovers", text: "Second cup free", tags: ["coffee-lover"], onReceipt: true },
      { id: "gold", title: "Gold", text: "Free delivery", tiers: ["gold"] },
      { id: "everyone", title: "Weekend", text: "x2 on Saturday" },
      { id: "old", title: "Gone", text: "Expired", validFrom: 0, validTo: f.now - 1 },
    ], "Thank you for shopping with us");
    if (!parsed.ok) throw new Error(parsed.problem.message);
    f.admin({ a: "offers.set", merchantId: f.merchantId, offers: parsed.record });
    const lover = f.bonusCard(0); // the seed tags the first two customers coffee-lover
    expect(f.identify(lover).offers!.map((o) => o.id)).toEqual(["coffee", "everyone"]);
    expect(f.identify(f.bonusCard(3)).offers!.map((o) => o.id)).toEqual(["everyone"]);
    const calc = f.send("calculate", { card: { cardNumber: lover }, lines: [line("grocery", 10_000)] }).calculate!;
    const lines = f.send("confirm", { checkId: calc.checkId }).confirm!.receiptLines!;
    expect(lines.slice(-2)).toEqual(["Coffee lovers: Second cup free", "Thank you for shopping with us"]);
    const anonymous = f.send("calculate", { lines: [line("grocery", 10_000)] }).calculate!;
    expect(f.send("confirm", { checkId: anonymous.checkId }).confirm!.receiptLines!.at(-1)).toBe("Thank you for shopping with us");
    expect(replay(f.journal).entries()).toEqual(f.tx.entries());
  });

  it("names the bad field of an offer", () => {
    const r = parseOffers([{ id: "a", title: "A", text: "t", validFrom: 10, validTo: 5 }], "");
    expect(r.ok ? null : r.problem.field).toBe("offers[0].validTo");
    const dup = parseOffers([{ id: "a", title: "A", text: "t" }, { id: "a", title: "B", text: "u" }], "");
    expect(dup.ok ? null : dup.problem.field).toBe("offers[1].id");
  });
});

describe("prize draws (E7)", () => {
  it("picks distinct winners, the same for the same seed, and a different set for another seed", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 20 }), fc.string(), (n, k, seed) => {
      const entrants = Array.from({ length: n }, (_, i) => `C${String(i).padStart(5, "0")}`);
      const a = drawWinners(seed, "d1", entrants, k);
      expect(a).toEqual(drawWinners(seed, "d1", entrants, k));
      expect(new Set(a).size).toBe(Math.min(n, k));
      for (const i of a) expect(i >= 0 && i < n).toBe(true);
    }));
    const entrants = Array.from({ length: 1000 }, (_, i) => `C${i}`);
    expect(drawWinners("s1", "d", entrants, 5)).not.toEqual(drawWinners("s2", "d", entrants, 5));
    expect(entrantsDigest(["a", "b"])).not.toBe(entrantsDigest(["ab"]));
  });

  it("credits each winner through the journal once, and refuses to run the same draw twice", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(1);
    const before = f.tx.get<Account>("accounts", `${f.merchantId}/${card}`)!.bal;
    const draw = { id: "nov", seed: "s", entrants: 5, entrantsSha256: "x", winners: [{ customerId: "D2", card }], points: 300, reason: "November draw" };
    expect((f.command({ t: "admin", actor: "ops", action: { a: "draw.award", merchantId: f.merchantId, draw } }) as AdminResult).ok).toBe(true);
    expect(f.tx.get<Account>("accounts", `${f.merchantId}/${card}`)!.bal).toBe(before + 300);
    expect(f.send("ledger", { card: { cardNumber: card } }).ledger!.entries![0]).toMatchObject({ points: 300 });
    expect(f.command({ t: "admin", actor: "ops", action: { a: "draw.award", merchantId: f.merchantId, draw } })).toMatchObject({ ok: false, kind: "conflict" });
    expect(f.tx.get<Account>("accounts", `${f.merchantId}/${card}`)!.bal).toBe(before + 300);
  });
});
