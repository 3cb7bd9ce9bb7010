import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loyalty } from "../../protocol/codec.js";
import type { AdminResult } from "./admin.js";
import { newCouponCode, normalizeCouponCode, type CouponRecord } from "./coupons.js";
import { EngineFixture, line, replay, seededBytes } from "./test-support/engine-fixture.js";
import { dueJobKeys } from "./maintenance.js";

const S = loyalty.v1.CouponStatus;

function issue(f: EngineFixture, codes: string[], batch: Partial<Omit<CouponRecord, "code" | "used" | "holds">> = {}): void {
  const r = f.command({
    t: "admin", actor: "marketing", action: {
      a: "coupons.issue", merchantId: f.merchantId, codes,
      batch: { batch: "b1", effect: { kind: "percent_discount", bp: 1_000 }, validFrom: 0, validTo: f.now + 86_400_000, usesMax: 1, customerId: "", ...batch },
    },
  }) as AdminResult;
  if (!r.ok) throw new Error(r.message);
}

describe("coupon codes", () => {
  it("catch any single mistyped character and any swap of two neighbours", () => {
    const random = seededBytes(7);
    const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    fc.assert(fc.property(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 31 }), fc.integer({ min: 0, max: 8 }), (pos, shift, swapAt) => {
      const code = newCouponCode(random);
      expect(normalizeCouponCode(code)).toBe(code);
      expect(normalizeCouponCode(`${code.slice(0, 4)}-${code.slice(4)}`.toLowerCase())).toBe(code);
      if (pos < 9) {
        const typo = code.slice(0, pos) + alphabet[(alphabet.indexOf(code[pos]!) + shift) % 32] + code.slice(pos + 1);
        expect(normalizeCouponCode(typo)).toBeNull();
      }
      if (code[swapAt] !== code[swapAt + 1] && swapAt + 1 < 9) {
        const swapped = code.slice(0, swapAt) + code[swapAt + 1] + code[swapAt] + code.slice(swapAt + 2);
        expect(normalizeCouponCode(swapped)).toBeNull();
      }
    }), { numRuns: 300 });
  });
});

describe("coupons in Calculate and Confirm (E6)", () => {
  it("discounts the basket, is held by the calculation, consumed by Confirm and refused afterwards", () => {
    const f = new EngineFixture();
    const code = newCouponCode(seededBytes(1));
    issue(f, [code]);
    const calc = f.send("calculate", { card: { cardNumber: f.bonusCard(0) }, lines: [line("grocery", 50_000)], coupons: [code] }).calculate!;
    expect(calc.coupons![0]).toMatchObject({ code, status: S.COUPON_STATUS_ACCEPTED, discountMinor: 5_000 });
    expect(calc.discountMinor).toBe(5_000);
    // Another terminal meanwhile: the code is held.
    const other = f.send("calculate", { lines: [line("grocery", 10_000)], coupons: [code] }, { terminal: 1 }).calculate!;
    expect(other.coupons![0]).toMatchObject({ status: S.COUPON_STATUS_USED, reason: "in use on another open check" });
    expect(other.discountMinor).toBe(0);
    f.send("confirm", { checkId: calc.checkId });
    const later = f.send("calculate", { lines: [line("grocery", 10_000)], coupons: [code] }).calculate!;
    expect(later.coupons![0]).toMatchObject({ status: S.COUPON_STATUS_USED, reason: "already used" });
    expect(replay(f.journal).entries()).toEqual(f.tx.entries());
  });

  it("is released when the calculation is cancelled or expires, and given back when the check is voided", () => {
    const f = new EngineFixture();
    const code = newCouponCode(seededBytes(2));
    issue(f, [code], { effect: { kind: "points", points: 150 } });
    const first = f.send("calculate", { card: { cardNumber: f.bonusCard(1) }, lines: [line("grocery", 10_000)], coupons: [code] }).calculate!;
    expect(first.coupons![0]).toMatchObject({ status: S.COUPON_STATUS_ACCEPTED, points: 150 });
    f.send("cancel", { checkId: first.checkId });
    const second = f.send("calculate", { card: { cardNumber: f.bonusCard(1) }, lines: [line("grocery", 10_000)], coupons: [code] }).calculate!;
    expect(second.coupons![0]!.status).toBe(S.COUPON_STATUS_ACCEPTED);
    f.now += 16 * 60_000; // past the hold
    f.command({ t: "maint", job: "sweep-holds", keys: dueJobKeys(f.tx, "sweep-holds", f.now) });
    const third = f.send("calculate", { card: { cardNumber: f.bonusCard(1) }, lines: [line("grocery", 10_000)], coupons: [code] }).calculate!;
    expect(third.coupons![0]!.status).toBe(S.COUPON_STATUS_ACCEPTED);
    const done = f.send("confirm", { checkId: third.checkId }).confirm!;
    expect(done.pointsAccrued).toBe(third.pointsAccrued);
    f.send("cancel", { checkId: third.checkId, reason: "wrong card" });
    expect(f.tx.get<CouponRecord>("coupons", `${f.merchantId}/${code}`)!.used).toBe(0);
    expect(replay(f.journal).entries()).toEqual(f.tx.entries());
  });

  it("says why a coupon does not apply", () => {
    const f = new EngineFixture();
    const [a, b, c] = [newCouponCode(seededBytes(3)), newCouponCode(seededBytes(4)), newCouponCode(seededBytes(5))];
    issue(f, [a], { customerId: "D1" });
    issue(f, [b], { validFrom: f.now + 86_400_000, validTo: f.now + 2 * 86_400_000, batch: "later" });
    issue(f, [c], { effect: { kind: "points", points: 10 }, batch: "pts" });
    const r = f.send("calculate", { card: { cardNumber: f.bonusCard(3) }, lines: [line("grocery", 10_000)], coupons: [a, b, "NOPE", a] }).calculate!;
    expect(r.coupons!.map((x) => [x.status, x.reason])).toEqual([
      [S.COUPON_STATUS_NOT_APPLICABLE, "issued to another customer"], [S.COUPON_STATUS_EXPIRED, "not valid yet"],
      [S.COUPON_STATUS_UNKNOWN, "not a coupon code (check the characters)"], [S.COUPON_STATUS_NOT_APPLICABLE, "scanned twice"],
    ]);
    const anon = f.send("calculate", { lines: [line("grocery", 10_000)], coupons: [c] }).calculate!;
    expect(anon.coupons![0]).toMatchObject({ status: S.COUPON_STATUS_NOT_APPLICABLE, reason: "a points coupon needs a card" });
  });
});
