import { describe, expect, it } from "vitest";
import { assertAccount } from "./account.js";
import { dueJobKeys } from "./maintenance.js";
import type { Account } from "./model.js";
import { EngineFixture, day, line, replay } from "./test-support/engine-fixture.js";

describe("refunds (P5)", () => {
  it("gives back points whose lots expired since the purchase as already expired; the expiry job removes them with a ledger entry", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(0); // 500 opening points, expiring a year after the seed
    const calc = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 100_000)], redeemPoints: 200 }).calculate!;
    f.send("confirm", { checkId: calc.checkId });
    f.now += 400 * day; // the spent lot's life is over
    const refunded = f.send("refund", { checkId: calc.checkId, lines: [{ index: 0, quantityMilli: 1000 }] });
    expect(refunded.error).toBeFalsy();
    expect(refunded.refund!.pointsReturned).toBe(200);
    const account = f.tx.get<Account>("accounts", `${f.merchantId}/${card}`)!;
    assertAccount(account);
    const returned = account.lots.find((l) => l.id.startsWith("r:"))!;
    expect(returned.act).toBeLessThanOrEqual(returned.exp);
    expect(returned.exp).toBeLessThanOrEqual(f.now);
    expect(f.activePoints(card)).toBe(0); // expired points are not spendable

    const due = dueJobKeys(f.tx, "expire-lots", f.now);
    f.command({ t: "maint", job: "expire-lots", keys: due });
    const after = f.tx.get<Account>("accounts", `${f.merchantId}/${card}`)!;
    expect(after.lots.some((l) => l.id === returned.id)).toBe(false);
    const ledger = f.send("ledger", { card: { cardNumber: card } }).ledger!.entries!;
    expect(ledger.some((e) => e.reason === 6 && (e.points ?? 0) <= -200)).toBe(true);
    expect(replay(f.journal).entries()).toEqual(f.tx.entries());
  });
});
