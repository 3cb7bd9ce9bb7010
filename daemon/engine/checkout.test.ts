// The POS operations through the engine's real entry points, on the demo
// merchant in memory: what a cashier and a customer see.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../protocol/codec.js";
import { day, EngineFixture, line, replay } from "./test-support/engine-fixture.js";
import { encodeOperation } from "./apply.js";
import { key, type Account, type CheckRecord, type IdempotencyRecord } from "./model.js";
import { dueJobKeys } from "./maintenance.js";
import { demoProgram } from "../seed.js";

const E = ErrorCode;

describe("identify (P1)", () => {
  it("finds the same card by number, token and phone, with masked name, tier and balances", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(0);
    const byNumber = f.send("identify", { card: { cardNumber: card } }).identify!;
    expect(byNumber).toMatchObject({ cardNumber: card, holderNameMasked: "Ivan P.", tier: "bronze", tierName: "Bronze" });
    expect(byNumber.balances).toMatchObject({ pointsActive: 500, pointsPending: 0 });
    expect(f.send("identify", { card: { token: "demo-token-1" } }).identify!.cardNumber).toBe(card);
    expect(f.send("identify", { card: { phone: "+7 916 000-00-00" } }).identify!.cardNumber).toBe(card);
  });

  it("summarises recent purchases: count over the last three local months and the last purchase time", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(0);
    const buy = () => f.send("confirm", { checkId: f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 10_000)] }).calculate!.checkId });
    buy();
    f.now += 40 * day;
    const second = buy().confirm!;
    expect(f.identify(card)).toMatchObject({ recentPurchaseCount: 2, lastPurchaseAtMs: second.confirmedAtMs });
    f.send("cancel", { checkId: second.checkId });
    expect(f.identify(card).recentPurchaseCount).toBe(1);
    f.now += 100 * day;
    expect(f.identify(card).recentPurchaseCount).toBe(0);
  });

  it("answers unknown, mistyped and blocked cards with typed errors", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(0);
    const mistyped = card.slice(0, -1) + String((Number(card.slice(-1)) + 1) % 10);
    expect(f.send("identify", { card: { cardNumber: mistyped } }).error).toMatchObject({ code: E.ERROR_CODE_INVALID_ARGUMENT, details: { field: "card.card_number" } });
    expect(f.send("identify", { card: { cardNumber: "4111111111111111" } }).error?.code).toBe(E.ERROR_CODE_NOT_FOUND);
    expect(f.send("identify", { card: { phone: "79990000000" } }).error?.code).toBe(E.ERROR_CODE_NOT_FOUND);
    expect(f.send("identify", {}).error?.code).toBe(E.ERROR_CODE_INVALID_ARGUMENT);
    f.admin({ a: "card.status", merchantId: f.merchantId, cardNumber: card, status: "blocked", reason: "lost" });
    expect(f.send("identify", { card: { cardNumber: card } }).error?.code).toBe(E.ERROR_CODE_CARD_BLOCKED);
  });
});

describe("calculate (P2)", () => {
  it("earns the tier rate, doubles coffee on Mondays and gives nothing on tobacco", () => {
    const f = new EngineFixture(); // a Monday
    const r = f.send("calculate", { card: { cardNumber: f.bonusCard(0) }, lines: [line("grocery", 100_000), line("coffee", 20_000), line("tobacco", 50_000)] }).calculate!;
    // 3% of 1000.00 = 30 points; coffee 6% of 200.00 = 12 points; tobacco earns nothing.
    expect(r.pointsAccrued).toBe(42);
    expect(r.lines!.map((l) => l.pointsAccrued)).toEqual([30, 12, 0]);
    expect(r.promotions!.map((p) => [p.id, p.points])).toEqual([["coffee-monday", 6]]);
    expect(r.promotions![0]!.reason).toContain("coffee");
    expect(r.amountDueMinor).toBe(170_000);
  });

  it("caps spending at 50% of what may be paid with points, allocates it per line, and what points pay earns nothing", () => {
    const f = new EngineFixture();
    const r = f.send("calculate", { card: { cardNumber: f.bonusCard(0) }, lines: [line("grocery", 40_000), line("bakery", 20_000), line("tobacco", 50_000)], redeemMax: true }).calculate!;
    expect(r.pointsRedeemableMax).toBe(300);
    expect(r.pointsRedeemed).toBe(300);
    expect(r.lines!.map((l) => l.pointsRedeemed)).toEqual([200, 100, 0]);
    expect(r.lines!.map((l) => l.amountDueMinor)).toEqual([20_000, 10_000, 50_000]);
    // Earned on the 300.00 paid in money, not on the part paid with points: 3% → 9 points.
    expect(r.pointsAccrued).toBe(9);
    expect(r.balances).toMatchObject({ pointsActive: 200, pointsHeld: 300 });
  });

  it("lets the cashier spend a chosen amount and declines more than allowed", () => {
    const f = new EngineFixture();
    const card = { cardNumber: f.bonusCard(0) };
    expect(f.send("calculate", { card, lines: [line("grocery", 60_000)], redeemPoints: 123 }).calculate!.pointsRedeemed).toBe(123);
    const r = f.send("calculate", { card, lines: [line("grocery", 60_000)], redeemPoints: 301 });
    expect(r.error).toMatchObject({ code: E.ERROR_CODE_INSUFFICIENT_POINTS, details: { redeemable_max: "300" } });
  });

  it("a hold stops a second terminal from spending the same points until it expires", () => {
    const f = new EngineFixture();
    const card = { cardNumber: f.bonusCard(0) };
    const first = f.send("calculate", { card, lines: [line("grocery", 200_000)], redeemPoints: 500 }, { terminal: 0 });
    expect(first.calculate!.pointsRedeemed).toBe(500);
    const second = f.send("calculate", { card, lines: [line("grocery", 200_000)], redeemPoints: 1 }, { terminal: 2 });
    expect(second.error).toMatchObject({ code: E.ERROR_CODE_INSUFFICIENT_POINTS, details: { available: "0" } });
    f.now += 15 * 60_000; // the hold's TTL
    expect(f.send("calculate", { card, lines: [line("grocery", 200_000)], redeemPoints: 500 }, { terminal: 2 }).calculate!.pointsRedeemed).toBe(500);
  });

  it("re-pricing a check replaces its hold instead of adding one", () => {
    const f = new EngineFixture();
    const card = { cardNumber: f.bonusCard(0) };
    const first = f.send("calculate", { card, lines: [line("grocery", 200_000)], redeemPoints: 400 }).calculate!;
    const again = f.send("calculate", { card, lines: [line("grocery", 200_000), line("dairy", 10_000)], redeemPoints: 450, checkId: first.checkId }).calculate!;
    expect(again.checkId).toBe(first.checkId);
    expect(again.balances).toMatchObject({ pointsActive: 50, pointsHeld: 450 });
  });

  it("applies the dairy discount and the breakfast bundle, and a discount card's percent without points", () => {
    const f = new EngineFixture();
    const r = f.send("calculate", { card: { cardNumber: f.bonusCard(2) }, lines: [line("dairy", 10_000), line("coffee", 30_000), line("bakery", 10_000)] }).calculate!;
    expect(r.lines!.map((l) => l.discountMinor)).toEqual([500, 3_000, 1_000]);
    expect(r.promotions!.map((p) => p.id).sort()).toEqual(["breakfast", "coffee-monday", "dairy-5"]);
    const d = f.send("calculate", { card: { cardNumber: f.discountCard(0) }, lines: [line("grocery", 10_000), line("alcohol", 10_000)] }).calculate!;
    expect(d.lines!.map((l) => l.discountMinor)).toEqual([500, 0]);
    expect(d.pointsAccrued).toBe(0);
  });

  it("prices a check without a card (non-member) and records it on confirm (P9)", () => {
    const f = new EngineFixture();
    const calc = f.send("calculate", { lines: [line("grocery", 10_000)] }).calculate!;
    expect(calc.pointsAccrued).toBe(0);
    const done = f.send("confirm", { checkId: calc.checkId, receiptNumber: "F-1" }).confirm!;
    expect(done.balances).toBeNull();
    expect(f.tx.get<CheckRecord>("checks", `${f.merchantId}/${calc.checkId}`)).toMatchObject({ state: "confirmed", card: "", total: 10_000 });
  });

  it("rejects bad baskets naming the field", () => {
    const f = new EngineFixture();
    expect(f.send("calculate", { lines: [] }).error).toMatchObject({ code: E.ERROR_CODE_INVALID_ARGUMENT, details: { field: "lines" } });
    expect(f.send("calculate", { lines: [{ ...line("grocery", 100), quantityMilli: 0 }] }).error?.details).toEqual({ field: "lines[0].quantity_milli" });
    expect(f.send("calculate", { lines: [{ ...line("grocery", 5), amountMinor: -5 }] }).error?.details).toEqual({ field: "lines[0].amount_minor" });
    expect(f.send("calculate", { lines: [line("grocery", 100)], redeemPoints: 10 }).error?.details).toEqual({ field: "redeem_points" });
  });
});

describe("confirm (P3), cancel (P4)", () => {
  it("spends held points, earns a pending lot, records history and ledger", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(0);
    const calc = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 100_000)], redeemPoints: 200 }).calculate!;
    const done = f.send("confirm", { checkId: calc.checkId, receiptNumber: "F-100" }).confirm!;
    expect(done).toMatchObject({ pointsRedeemed: 200, pointsAccrued: 24, amountDueMinor: 80_000, tier: "bronze" });
    expect(done.balances).toMatchObject({ pointsActive: 300, pointsPending: 24, pointsHeld: 0 });
    f.now += 14 * day;
    expect(f.activePoints(card)).toBe(324);
    const history = f.send("history", { card: { cardNumber: card } }).history!;
    expect(history.checks![0]).toMatchObject({ checkId: calc.checkId, receiptNumber: "F-100", pointsAccrued: 24, pointsRedeemed: 200 });
    const ledger = f.send("ledger", { card: { cardNumber: card } }).ledger!;
    expect(ledger.entries!.slice(0, 3).map((e) => [e.points, e.reason, e.checkId])).toEqual([
      [24, 1, calc.checkId], [-200, 2, calc.checkId], [500, 8, ""],
    ]);
  });

  it("refuses to confirm twice, after the hold expired, or at another store", () => {
    const f = new EngineFixture();
    const card = { cardNumber: f.bonusCard(0) };
    const a = f.send("calculate", { card, lines: [line("grocery", 10_000)] }).calculate!;
    expect(f.send("confirm", { checkId: a.checkId }, { terminal: 2 }).error?.code).toBe(E.ERROR_CODE_FORBIDDEN);
    f.send("confirm", { checkId: a.checkId });
    expect(f.send("confirm", { checkId: a.checkId }).error?.code).toBe(E.ERROR_CODE_INVALID_STATE);
    const b = f.send("calculate", { card, lines: [line("grocery", 10_000)], redeemPoints: 10 }).calculate!;
    f.now += 15 * 60_000;
    expect(f.send("confirm", { checkId: b.checkId }).error?.code).toBe(E.ERROR_CODE_HOLD_EXPIRED);
    expect(f.send("confirm", { checkId: "999999" }).error?.code).toBe(E.ERROR_CODE_NOT_FOUND);
  });

  it("cancel releases a calculation's hold", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(0);
    const calc = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 100_000)], redeemPoints: 300 }).calculate!;
    expect(f.activePoints(card)).toBe(200);
    const c = f.send("cancel", { checkId: calc.checkId, reason: "customer left" }).cancel!;
    expect(c).toMatchObject({ pointsReleased: 300, state: 3 });
    expect(f.activePoints(card)).toBe(500);
    expect(f.send("confirm", { checkId: calc.checkId }).error?.code).toBe(E.ERROR_CODE_INVALID_STATE);
  });

  it("voiding a confirmed check the same day restores points exactly; the next day it must be a refund", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(0);
    const before = f.tx.get<Account>("accounts", `${f.merchantId}/${card}`)!;
    const calc = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 100_000)], redeemPoints: 350 }).calculate!;
    f.send("confirm", { checkId: calc.checkId });
    const v = f.send("cancel", { checkId: calc.checkId }).cancel!;
    expect(v).toMatchObject({ pointsReturned: 350, pointsReversed: 19 });
    const after = f.tx.get<Account>("accounts", `${f.merchantId}/${card}`)!;
    expect(after.bal).toBe(before.bal);
    expect(after.lots).toEqual(before.lots);
    const next = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 10_000)] }).calculate!;
    f.send("confirm", { checkId: next.checkId });
    f.now += day;
    expect(f.send("cancel", { checkId: next.checkId }).error?.code).toBe(E.ERROR_CODE_INVALID_STATE);
  });
});

describe("idempotency (P8)", () => {
  it("a retry returns the original answer byte for byte and does nothing twice; other content is a conflict", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(0);
    const calc = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 100_000)], redeemPoints: 100 }).calculate!;
    const confirm = { operationId: "till-7-0001", checkId: calc.checkId, receiptNumber: "F-7" };
    const first = f.sendRaw("confirm", confirm);
    const second = f.sendRaw("confirm", confirm);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
    expect(f.activePoints(card)).toBe(400);
    const conflict = f.send("confirm", { ...confirm, receiptNumber: "F-8" });
    expect(conflict.error?.code).toBe(E.ERROR_CODE_CONFLICT);
    // The same operation id on another terminal is another operation.
    const other = f.send("calculate", { operationId: "till-7-0001", lines: [line("grocery", 100)] }, { terminal: 1 });
    expect(other.calculate).toBeTruthy();
  });

  it("stores the content hash as sha256(operation, NUL, body) in hex, first 32 digits (records written by older versions must still match)", () => {
    const f = new EngineFixture();
    const message = { operationId: "hash-1", lines: [line("grocery", 100)] };
    f.sendRaw("calculate", message);
    const t = f.terminal(0);
    const stored = f.tx.get<IdempotencyRecord>("idempotency", key.idempotency(f.merchantId, t.terminalId, "hash-1"));
    const expected = createHash("sha256").update("calculate").update("\u0000").update(encodeOperation("calculate", message)).digest("hex").slice(0, 32);
    expect(stored?.h).toBe(expected);
  });

  it("remembers declines too, so a retry cannot succeed after the balance changed", () => {
    const f = new EngineFixture();
    const card = { cardNumber: f.bonusCard(0) };
    const ask = { operationId: "big-1", card, lines: [line("grocery", 400_000)], redeemPoints: 600 };
    expect(f.send("calculate", ask).error?.code).toBe(E.ERROR_CODE_INSUFFICIENT_POINTS);
    f.admin({ a: "points.adjust", merchantId: f.merchantId, cardNumber: card.cardNumber, points: 1000, reason: "test" });
    expect(f.send("calculate", ask).error?.code).toBe(E.ERROR_CODE_INSUFFICIENT_POINTS);
  });
});

describe("refund (P5)", () => {
  it("partial refunds return money and points in proportion and add up exactly to the original", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(0);
    const calc = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 99_999, 3000), line("bakery", 10_001)], redeemPoints: 333 }).calculate!;
    const done = f.send("confirm", { checkId: calc.checkId }).confirm!;
    const r1 = f.send("refund", { checkId: calc.checkId, lines: [{ index: 0, quantityMilli: 1000 }] }).refund!;
    const r2 = f.send("refund", { checkId: calc.checkId, lines: [{ index: 0, quantityMilli: 1000 }] }).refund!;
    const r3 = f.send("refund", { checkId: calc.checkId, full: true }).refund!;
    expect(r3.state).toBe(4);
    const sum = (k: "amountRefundedMinor" | "pointsReversed" | "pointsReturned") => [r1, r2, r3].reduce((s, r) => s + Number(r[k]), 0);
    expect(sum("amountRefundedMinor")).toBe(done.amountDueMinor);
    expect(sum("pointsReversed")).toBe(done.pointsAccrued);
    expect(sum("pointsReturned")).toBe(done.pointsRedeemed);
    expect(f.send("refund", { checkId: calc.checkId, full: true }).error?.code).toBe(E.ERROR_CODE_REFUND_EXCEEDED);
  });

  it("never refunds more than was bought", () => {
    const f = new EngineFixture();
    const calc = f.send("calculate", { card: { cardNumber: f.bonusCard(0) }, lines: [line("grocery", 10_000, 2000)] }).calculate!;
    f.send("confirm", { checkId: calc.checkId });
    expect(f.send("refund", { checkId: calc.checkId, lines: [{ index: 0, quantityMilli: 2001 }] }).error?.code).toBe(E.ERROR_CODE_REFUND_EXCEEDED);
    expect(f.send("refund", { checkId: calc.checkId, lines: [{ index: 1, quantityMilli: 1 }] }).error?.code).toBe(E.ERROR_CODE_INVALID_ARGUMENT);
  });

  it("reversing points already spent leaves a debt that the next accrual pays first", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(5); // no opening balance
    const earn = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 1_000_000)] }).calculate!;
    f.send("confirm", { checkId: earn.checkId });
    f.now += 15 * day;
    expect(f.activePoints(card)).toBe(300);
    const spend = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 1_000_000)], redeemPoints: 300 }).calculate!;
    f.send("confirm", { checkId: spend.checkId });
    const r = f.send("refund", { checkId: earn.checkId, full: true }).refund!;
    // 300 reversed: the lot it created is spent, the 291 pending from the second check are taken, 9 remain as debt.
    expect(r.pointsReversed).toBe(300);
    expect(r.balances).toMatchObject({ pointsDebt: 9, pointsPending: 0, pointsActive: 0 });
    expect(f.tx.get<Account>("accounts", `${f.merchantId}/${card}`)!.bal).toBe(-9);
    const next = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 100_000)] }).calculate!;
    const paid = f.send("confirm", { checkId: next.checkId }).confirm!;
    // The two checks made the card silver (5%, kept until re-evaluation): 50 earned, 9 pay the debt.
    expect(paid.balances).toMatchObject({ pointsDebt: 0, pointsPending: 41 });
    expect(f.send("ledger", { card: { cardNumber: card } }).ledger!.entries![0]!.note).toBe("9 paid outstanding debt");
  });
});

describe("offline posting (P10), register (P7), gift cards (E5)", () => {
  it("prices an offline check under the rules and weekday of its purchase time, earn only, idempotently", () => {
    const f = new EngineFixture();
    const card = { cardNumber: f.bonusCard(0) };
    const purchasedAtMs = f.now; // a Monday
    f.now += 2 * day; // posted on Wednesday
    const post = { operationId: "offline-1", card, lines: [line("coffee", 10_000)], purchasedAtMs, receiptNumber: "F-9" };
    const r = f.send("postOffline", post).postOffline!;
    expect(r.pointsAccrued).toBe(6); // x2 coffee on Monday
    expect(f.send("postOffline", post).postOffline!.checkId).toBe(r.checkId);
    expect(f.send("postOffline", { ...post, operationId: "offline-2", purchasedAtMs: f.now - 31 * day }).error?.code).toBe(E.ERROR_CODE_INVALID_ARGUMENT);
  });

  it("rules published later change the next check at once, while an offline check keeps the rules of its time", () => {
    const f = new EngineFixture();
    const card = { cardNumber: f.bonusCard(0) };
    const before = f.now - 60_000;
    const doubled = { ...demoProgram, tiers: demoProgram.tiers.map((t) => ({ ...t, accrualBp: t.accrualBp * 2 })) };
    f.admin({ a: "rules.publish", merchantId: f.merchantId, version: { from: f.now, program: doubled, promotions: [] } });
    expect(f.send("calculate", { card, lines: [line("grocery", 100_000)] }).calculate!.pointsAccrued).toBe(60);
    expect(f.send("postOffline", { card, lines: [line("grocery", 100_000)], purchasedAtMs: before }).postOffline!.pointsAccrued).toBe(30);
    expect(() => f.admin({ a: "rules.publish", merchantId: f.merchantId, version: { from: 0, program: demoProgram, promotions: [] } })).toThrow(/cannot start before/);
  });

  it("registers a card with a phone and grants the welcome bonus once", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(7);
    const r = f.send("register", { cardNumber: card, phone: "79161112233", firstName: "Anna", lastName: "Lebedeva" }).register!;
    expect(r.welcomePoints).toBe(100);
    expect(f.identify(card)).toMatchObject({ holderNameMasked: "Anna L.", status: 2 });
    expect(f.send("identify", { card: { phone: "79161112233" } }).identify!.cardNumber).toBe(card);
    expect(f.send("register", { cardNumber: f.bonusCard(8), phone: "79161112233" }).error?.code).toBe(E.ERROR_CODE_ALREADY_EXISTS);
  });

  it("sells a gift card, spends it across two checks as tender, and refunds to it", () => {
    const f = new EngineFixture();
    const gift = f.giftCard(0);
    const sold = f.send("giftCardActivate", { cardNumber: gift, amountMinor: 300_000 }).giftCardActivate!;
    expect(sold.balanceMinor).toBe(300_000);
    // Receipts show only the last four digits.
    expect(sold.cardNumberMasked).toBe(`${"*".repeat(gift.length - 4)}${gift.slice(-4)}`);
    const c1 = f.send("calculate", { lines: [line("grocery", 200_000)] }).calculate!;
    expect(f.send("confirm", { checkId: c1.checkId, giftTenders: [{ cardNumber: gift, amountMinor: 200_000 }] }).confirm!.giftTenders![0]!.balanceMinor).toBe(100_000);
    const c2 = f.send("calculate", { lines: [line("grocery", 150_000)] }).calculate!;
    expect(f.send("confirm", { checkId: c2.checkId, giftTenders: [{ cardNumber: gift, amountMinor: 150_000 }] }).error?.code).toBe(E.ERROR_CODE_INSUFFICIENT_FUNDS);
    f.send("confirm", { checkId: c2.checkId, giftTenders: [{ cardNumber: gift, amountMinor: 100_000 }] });
    expect(f.send("giftCardBalance", { cardNumber: gift }).giftCardBalance!.balanceMinor).toBe(0);
    expect(f.send("refund", { checkId: c1.checkId, full: true }).refund!.giftReturnedMinor).toBe(200_000);
    expect(f.send("giftCardBalance", { cardNumber: gift }).giftCardBalance!.balanceMinor).toBe(200_000);
  });
});

describe("tiers (E2) and scheduled jobs (E1)", () => {
  it("upgrades at once when the rolling spend reaches a tier, downgrades only on re-evaluation", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(1);
    const big = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 2_000_000)] }).calculate!;
    expect(f.send("confirm", { checkId: big.checkId }).confirm!.tier).toBe("silver");
    f.now += 400 * day;
    expect(f.identify(card).tier).toBe("silver");
    f.command({ t: "maint", job: "reevaluate-tiers", keys: [`${f.merchantId}/${card}`] });
    expect(f.identify(card).tier).toBe("bronze");
  });

  it("expires lots on schedule with a ledger entry, and sweeps abandoned holds", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(0);
    const calc = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 100_000)], redeemPoints: 100 }).calculate!;
    f.now += 366 * day;
    f.command({ t: "maint", job: "expire-lots", keys: dueJobKeys(f.tx, "expire-lots", f.now) });
    const ledger = f.send("ledger", { card: { cardNumber: card } }).ledger!;
    expect(ledger.entries![0]).toMatchObject({ points: -500, reason: 6 });
    f.command({ t: "maint", job: "sweep-holds", keys: dueJobKeys(f.tx, "sweep-holds", f.now) });
    expect(f.tx.get<CheckRecord>("checks", `${f.merchantId}/${calc.checkId}`)!.state).toBe("cancelled");
    expect(f.tx.get<Account>("accounts", `${f.merchantId}/${card}`)!.holds).toEqual([]);
  });
});

describe("journal replay", () => {
  it("replaying every command with its time reproduces the state exactly", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(0);
    const calc = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 100_000)], redeemPoints: 50 }).calculate!;
    f.send("confirm", { checkId: calc.checkId });
    f.send("refund", { checkId: calc.checkId, lines: [{ index: 0, quantityMilli: 500 }] });
    const copy = replay(f.journal);
    expect(copy.entries()).toEqual(f.tx.entries());
  });
});
