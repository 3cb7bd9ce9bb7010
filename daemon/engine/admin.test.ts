import { describe, expect, it } from "vitest";
import { loyalty } from "../../protocol/codec.js";
import type { AdminResult, AuditRecord, ImportRow } from "./admin.js";
import type { Account, CardRecord, CustomerRecord } from "./model.js";
import { key } from "./model.js";
import { withCheckDigit } from "../seed.js";
import { EngineFixture, line, replay } from "./test-support/engine-fixture.js";

const number = (i: number) => withCheckDigit(`29000000000${String(i).padStart(4, "0")}`);
const customer = (phone: string) => ({ phone, firstName: "A", lastName: "B", email: "", birthDate: "", consentSms: false, consentEmail: false, tags: [] });

function audits(f: EngineFixture): AuditRecord[] {
  return f.tx.scan<AuditRecord>("audit").map(([, r]) => r);
}

describe("admin commands", () => {
  it("imports each row whole or not at all, and reports rejected rows by line", () => {
    const f = new EngineFixture();
    const rows: ImportRow[] = [
      { line: 2, number: number(1), kind: "bonus", customer: customer("79170000001") },
      { line: 3, number: number(2), kind: "bonus", customer: customer("79170000001") }, // phone taken by line 2
      { line: 4, number: number(1), kind: "bonus" }, // card exists (line 2)
      { line: 5, number: number(3), kind: "discount", discountBp: 700, token: "tok-3" },
      { line: 6, number: number(4), kind: "bonus", token: "tok-3" }, // token taken
    ];
    const r = f.command({ t: "admin", actor: "ops", action: { a: "cards.import", merchantId: f.merchantId, rows } }) as AdminResult;
    expect(r).toEqual({ ok: true, data: { imported: 2, rejected: [
      { line: 3, reason: expect.stringContaining("already has a card") },
      { line: 4, reason: expect.stringContaining("already exists") },
      { line: 6, reason: expect.stringContaining("token already used") },
    ] } });
    // Line 3 issued its card before its phone was refused: the card is gone with it.
    expect(f.tx.get("cards", key.card(f.merchantId, number(2)))).toBeUndefined();
    expect(f.tx.get("cards", key.card(f.merchantId, number(4)))).toBeUndefined();
    const card = f.tx.get<CardRecord>("cards", key.card(f.merchantId, number(1)))!;
    expect(card.status).toBe("active");
    expect(f.tx.get<CustomerRecord>("customers", key.customer(f.merchantId, card.customerId!))?.phone).toBe("79170000001");
    expect(f.tx.get("cardIndex", key.token(f.merchantId, "tok-3"))).toBe(number(3));
    expect(replay(f.journal).entries()).toEqual(f.tx.entries());
  });

  it("audits refused commands with their reason and drops their writes", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(6);
    const before = f.tx.entries().filter(([t]) => t !== "audit" && t !== "meta");
    const r = f.command({ t: "admin", actor: "olga", action: { a: "points.adjust", merchantId: f.merchantId, cardNumber: card, points: -50, reason: "fix" } }) as AdminResult;
    expect(r).toMatchObject({ ok: false, kind: "conflict" });
    expect(f.tx.entries().filter(([t]) => t !== "audit" && t !== "meta")).toEqual(before);
    const last = audits(f).at(-1)!;
    expect(last).toMatchObject({ actor: "olga", action: "points.adjust", ok: false, message: "the card has only 0 spendable points" });
    expect(last.summary).toBe(`card ************${card.slice(-4)}: -50 points (fix)`);
  });

  it("deducts spendable points soonest-expiring first and never below what a till holds", () => {
    const f = new EngineFixture();
    const card = f.bonusCard(0); // 500 opening points
    f.admin({ a: "points.adjust", merchantId: f.merchantId, cardNumber: card, points: -120, reason: "duplicate grant" });
    const account = f.tx.get<Account>("accounts", key.card(f.merchantId, card))!;
    expect(account.bal).toBe(380);
    const deduct = (points: number) => f.command({ t: "admin", actor: "ops", action: { a: "points.adjust", merchantId: f.merchantId, cardNumber: card, points, reason: "x" } }) as AdminResult;
    expect(deduct(-381)).toMatchObject({ ok: false });
    expect(deduct(-380)).toEqual({ ok: true, data: { balance: 0 } });
    expect(replay(f.journal).entries()).toEqual(f.tx.entries());
  });

  it("refuses a rules version with a bad field, naming it", () => {
    const f = new EngineFixture();
    const r = f.command({
      t: "admin", actor: "marketing", action: {
        a: "rules.publish", merchantId: f.merchantId,
        version: { from: f.now, program: { ...f.seed.actions.flatMap((a) => (a.a === "rules.publish" ? [a.version.program] : []))[0]!, redeemCapBp: 20_000 }, promotions: [] },
      },
    }) as AdminResult;
    expect(r).toEqual({ ok: false, kind: "invalid", message: "program.redeemCapBp: must be from 0 to 10000", field: "program.redeemCapBp" });
  });
});

describe("card replacement (O1)", () => {
  it("moves the customer, phone and points to the new card; a refund of an old check reverses on the new card", () => {
    const f = new EngineFixture();
    const old = f.bonusCard(2); // D3, phone 79160000002, 1,000 opening points
    const fresh = f.bonusCard(8); // issued, unused
    const calc = f.send("calculate", { card: { cardNumber: old }, lines: [line("grocery", 100_000)], redeemPoints: 200 }).calculate!;
    // A till holds points on the old card: refused until the check is done.
    expect(f.command({ t: "admin", actor: "ops", action: { a: "card.replace", merchantId: f.merchantId, from: old, to: fresh, reason: "lost" } })).toMatchObject({ ok: false, kind: "conflict" });
    const done = f.send("confirm", { checkId: calc.checkId }).confirm!;
    const accrued = done.pointsAccrued ?? 0;
    const before = f.tx.get<Account>("accounts", `${f.merchantId}/${old}`)!;
    expect(f.command({ t: "admin", actor: "ops", action: { a: "card.replace", merchantId: f.merchantId, from: old, to: fresh, reason: "lost" } })).toEqual({ ok: true, data: { moved: before.bal } });
    expect(f.send("identify", { card: { cardNumber: old } }).error?.code).toBe(loyalty.v1.ErrorCode.ERROR_CODE_CARD_BLOCKED);
    const now = f.send("identify", { card: { phone: "79160000002" } }).identify!;
    expect(now.cardNumber).toBe(fresh);
    expect(f.tx.get<Account>("accounts", `${f.merchantId}/${fresh}`)!.bal).toBe(before.bal);
    // Refund the old check: its earned points come off the new card, its spent points come back to it.
    const refunded = f.send("refund", { checkId: calc.checkId, lines: [{ index: 0, quantityMilli: 1000 }] }).refund!;
    expect(refunded.pointsReversed).toBe(accrued);
    expect(f.tx.get<Account>("accounts", `${f.merchantId}/${fresh}`)!.bal).toBe(before.bal - accrued + 200);
    expect(f.command({ t: "admin", actor: "ops", action: { a: "card.replace", merchantId: f.merchantId, from: old, to: f.bonusCard(9), reason: "again" } })).toMatchObject({ ok: false, kind: "conflict" });
    expect(replay(f.journal).entries()).toEqual(f.tx.entries());
  });
});
