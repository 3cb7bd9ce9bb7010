// Every promotion condition and effect, priority and exclusivity, and the
// local-time helpers, on priceBasket directly.
import { describe, expect, it } from "vitest";
import { demoProgram } from "../seed.js";
import type { Promotion, PromotionConditions, PromotionEffect } from "./model.js";
import {
  daysFromBirthday, endOfLocalDay, endOfLocalMonth, localMinute, localWeekday, priceBasket, roundExpiry, rulesAt, tierForSpend,
  type PricingInput, type PricingMember,
} from "./rules.js";

const monday = Date.UTC(2026, 10, 23, 9, 0); // 12:00 Moscow
const msk = 180;
const bronze = demoProgram.tiers[0]!;
const member: PricingMember = { kind: "bonus", tier: bronze, tags: ["vip"], birthDate: "1990-11-25", discountBp: 0 };

function promo(id: string, conditions: PromotionConditions, effect: PromotionEffect, extra: Partial<Promotion> = {}): Promotion {
  return { id, name: id, priority: 0, exclusive: false, validFrom: 0, validTo: Number.MAX_SAFE_INTEGER, conditions, effect, ...extra };
}

function price(promotions: Promotion[], overrides: Partial<PricingInput> = {}) {
  return priceBasket({
    version: { from: 0, program: demoProgram, promotions }, at: monday, tzOffsetMin: msk, storeId: "s1", region: "moscow",
    lines: [{ grp: "coffee", amt: 10_000 }, { grp: "grocery", amt: 30_000 }], member, ...overrides,
  });
}

const tenOff: PromotionEffect = { kind: "percent_discount", bp: 1_000 };

describe("promotion conditions", () => {
  const cases: [string, PromotionConditions, boolean][] = [
    ["store listed", { stores: ["s1"] }, true],
    ["store not listed", { stores: ["s2"] }, false],
    ["region", { regions: ["moscow"] }, true],
    ["other region", { regions: ["spb"] }, false],
    ["weekday Monday", { weekdays: [1] }, true],
    ["weekday Sunday", { weekdays: [0] }, false],
    ["time window 11:00-13:00", { minuteFrom: 660, minuteTo: 780 }, true],
    ["time window 13:00-", { minuteFrom: 780 }, false],
    ["tier bronze", { tiers: ["bronze"] }, true],
    ["tier gold", { tiers: ["gold"] }, false],
    ["tag", { tags: ["vip"] }, true],
    ["missing tag", { tags: ["student"] }, false],
    ["min basket reached", { minBasketMinor: 40_000 }, true],
    ["min basket missed", { minBasketMinor: 40_001 }, false],
    ["birthday within 3 days", { birthdayWindowDays: 3 }, true],
    ["birthday within 1 day", { birthdayWindowDays: 1 }, false],
    ["bundle present", { bundle: ["coffee", "grocery"] }, true],
    ["bundle incomplete", { bundle: ["coffee", "bakery"] }, false],
    ["group present", { groups: ["coffee"] }, true],
    ["group absent", { groups: ["dairy"] }, false],
  ];
  for (const [name, conditions, applies] of cases) {
    it(`${name} → ${applies ? "applies" : "does not apply"}`, () => {
      expect(price([promo("p", conditions, tenOff)]).applied.length).toBe(applies ? 1 : 0);
    });
  }

  it("member-only conditions never apply to a non-member check", () => {
    expect(price([promo("p", { tags: ["vip"] }, tenOff)], { member: null }).applied).toEqual([]);
    expect(price([promo("p", { membersOnly: true }, tenOff)], { member: null }).applied).toEqual([]);
    expect(price([promo("p", {}, tenOff)], { member: null }).applied.length).toBe(1);
  });

  it("respects the validity window", () => {
    expect(price([promo("p", {}, tenOff, { validFrom: monday + 1 })]).applied).toEqual([]);
    expect(price([promo("p", {}, tenOff, { validTo: monday })]).applied).toEqual([]);
  });
});

describe("promotion effects", () => {
  it("percent discount on matched lines only", () => {
    const r = price([promo("p", { groups: ["coffee"] }, tenOff)]);
    expect(r.lines.map((l) => l.disc)).toEqual([1_000, 0]);
    expect(r.applied[0]).toMatchObject({ id: "p", discount: 1_000 });
  });

  it("fixed discount spread over matched lines in proportion, never below zero", () => {
    const r = price([promo("p", {}, { kind: "fixed_discount", amountMinor: 4_000 })]);
    expect(r.lines.map((l) => l.disc)).toEqual([1_000, 3_000]);
    const capped = price([promo("p", { groups: ["coffee"] }, { kind: "fixed_discount", amountMinor: 50_000 })]);
    expect(capped.lines[0]!.disc).toBe(10_000);
  });

  it("multipliers do not stack: the highest wins per line", () => {
    const r = price([
      promo("x2", { groups: ["coffee"] }, { kind: "points_multiplier", multiplierPct: 200 }),
      promo("x3", {}, { kind: "points_multiplier", multiplierPct: 300 }),
    ]);
    expect(r.lines.map((l) => [l.rateBp, l.multiplierPromo])).toEqual([[900, "x3"], [900, "x3"]]);
  });

  it("fixed points per check, only for bonus cards", () => {
    expect(price([promo("p", {}, { kind: "fixed_points", points: 50 })]).fixedPoints).toBe(50);
    expect(price([promo("p", {}, { kind: "fixed_points", points: 50 })], { member: { ...member, kind: "discount" } }).fixedPoints).toBe(0);
  });

  it("discounts stack in priority order on what is left; an exclusive promotion stops the rest", () => {
    const a = promo("a", {}, tenOff, { priority: 10 });
    const b = promo("b", {}, tenOff, { priority: 5 });
    expect(price([b, a]).lines[1]!.disc).toBe(3_000 + 2_700);
    expect(price([b, { ...a, exclusive: true }]).applied.map((p) => p.id)).toEqual(["a"]);
    // A lower-priority exclusive promotion does not stop a higher one that came first.
    expect(price([{ ...b, exclusive: true }, a]).applied.map((p) => p.id)).toEqual(["a", "b"]);
  });

  it("prices the same rules version again identically, and a new version by its own promotions (the per-version plan is not stale)", () => {
    const promotions = [promo("b", {}, tenOff, { priority: 5 }), promo("a", { groups: ["coffee"] }, tenOff, { priority: 10 })];
    const version = { from: 0, program: demoProgram, promotions };
    const first = price([], { version });
    expect(first.applied.map((p) => [p.id, p.reason])).toEqual([["a", "10% off on coffee"], ["b", "10% off"]]);
    expect(price([], { version })).toEqual(first);
    const next = { from: 1, program: { ...demoProgram, noEarnGroups: ["coffee"] }, promotions: [promo("c", {}, tenOff)] };
    const changed = price([], { version: next });
    expect(changed.applied.map((p) => p.id)).toEqual(["c"]);
    expect(changed.lines[0]!.rateBp).toBe(0);
  });

  it("excluded groups earn nothing and cannot be paid with points", () => {
    const r = price([], { lines: [{ grp: "tobacco", amt: 10_000 }, { grp: "alcohol", amt: 10_000 }] });
    expect(r.lines.map((l) => [l.rateBp, l.redeemable])).toEqual([[0, false], [300, false]]);
  });
});

describe("time, tiers and versions", () => {
  it("uses the merchant's local time", () => {
    const sundayLate = Date.UTC(2026, 10, 22, 21, 30); // 00:30 Monday in Moscow
    expect(localWeekday(sundayLate, msk)).toBe(1);
    expect(localMinute(sundayLate, msk)).toBe(30);
    expect(endOfLocalDay(monday, msk)).toBe(Date.UTC(2026, 10, 23, 21, 0));
    expect(endOfLocalMonth(monday, msk)).toBe(Date.UTC(2026, 10, 30, 21, 0));
    expect(roundExpiry(monday, { ...demoProgram, expiryRounding: "none" }, msk)).toBe(monday);
  });

  it("measures birthdays across the new year", () => {
    expect(daysFromBirthday("1990-01-01", Date.UTC(2026, 11, 30, 12), 0)).toBe(2);
    expect(daysFromBirthday("", monday, msk)).toBe(Number.POSITIVE_INFINITY);
  });

  it("picks the tier by rolling spend and the rules version by purchase time", () => {
    expect(tierForSpend(demoProgram, 1_999_999).id).toBe("bronze");
    expect(tierForSpend(demoProgram, 5_000_000).id).toBe("gold");
    const v1 = { from: 0, program: demoProgram, promotions: [] };
    const v2 = { from: monday, program: demoProgram, promotions: [] };
    expect(rulesAt([v1, v2], monday - 1)).toBe(v1);
    expect(rulesAt([v1, v2], monday)).toBe(v2);
  });
});
