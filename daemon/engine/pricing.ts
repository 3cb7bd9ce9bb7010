// Turns a basket, the rules and the points the cashier wants to spend into a
// fully priced check: per-line discounts, points spent per line, points earned
// per line. Shared by Calculate (P2) and offline posting (P10). Pure.
//
// Points arithmetic (documented for auditors):
// - Spending: at most `redeemCapBp` of the redeemable amount (lines not in a
//   no-redeem group, after discounts) may be paid with points; one point pays
//   `pointValueMinor`. The points are split across redeemable lines in
//   proportion to their amounts (largest remainder), never paying more than a
//   line costs.
// - Earning: each line earns floor((amount - discount - paid with points) ×
//   rate / 10000) in money value; the check earns floor(sum / pointValueMinor)
//   points plus fixed-points promotions, split back across lines in proportion
//   to their money value. The part of a line paid with points earns nothing;
//   no-earn groups (tobacco, gift cards) earn nothing.
import { allocate, allocateCapped, applyBp, mulDivFloor } from "./money.js";
import type { CheckLine, CheckRecord, Program } from "./model.js";
import { priceBasket, type PricingInput } from "./rules.js";

export interface BasketLine {
  sku: string;
  grp: string;
  qty: number;
  price: number;
  amt: number;
}

/** The priced part of a check record, plus what the cashier may still spend. */
export type PricedCheck = Pick<CheckRecord, "lines" | "total" | "discount" | "redeem" | "redeemMinor" | "accrue" | "promos" | "receiptLines"> & {
  /** The most points this basket lets the customer spend now. */
  redeemableMax: number;
};

export type RedeemRequest = { kind: "none" } | { kind: "points"; points: number } | { kind: "max" };

export type PriceOutcome = { ok: true; check: PricedCheck } | { ok: false; redeemableMax: number };

export function priceCheck(
  input: Omit<PricingInput, "lines"> & { lines: readonly BasketLine[] },
  available: number,
  redeem: RedeemRequest,
): PriceOutcome {
  const program: Program = input.version.program;
  const pricing = priceBasket(input);
  const pv = program.pointValueMinor;

  // Spending.
  const redeemWeights = input.lines.map((l, i) => (pricing.lines[i]!.redeemable ? l.amt - pricing.lines[i]!.disc : 0));
  const caps = redeemWeights.map((w) => Math.floor(w / pv));
  const capMoney = applyBp(redeemWeights.reduce((a, b) => a + b, 0), program.redeemCapBp);
  const redeemableMax = Math.max(0, Math.min(Math.floor(capMoney / pv), caps.reduce((a, b) => a + b, 0), available));
  const redeem_ = redeem.kind === "none" ? 0 : redeem.kind === "max" ? redeemableMax : redeem.points;
  if (redeem_ > redeemableMax) return { ok: false, redeemableMax };
  const rpts = redeem_ > 0 ? allocateCapped(redeem_, redeemWeights, caps) : input.lines.map(() => 0);

  // Earning.
  const bases = input.lines.map((l, i) => l.amt - pricing.lines[i]!.disc - rpts[i]! * pv);
  const values = bases.map((b, i) => mulDivFloor(b, pricing.lines[i]!.rateBp, 10_000));
  const rated = Math.floor(values.reduce((a, b) => a + b, 0) / pv);
  const accrue = rated + pricing.fixedPoints;
  const weights = values.some((v) => v > 0) ? values : bases.map((b, i) => (pricing.lines[i]!.rateBp > 0 ? b : 0));
  const apts = accrue > 0 && weights.some((w) => w > 0) ? allocate(accrue, weights)
    : accrue > 0 ? allocate(accrue, input.lines.map(() => 0)) : input.lines.map(() => 0);

  // What each multiplier promotion added over the base rate, for the explanation.
  const promos = pricing.applied.map((p) => ({ ...p }));
  for (const p of promos) {
    let extra = 0;
    input.lines.forEach((_, i) => {
      const line = pricing.lines[i]!;
      if (line.multiplierPromo !== p.id || input.member === null) return;
      extra += mulDivFloor(bases[i]!, line.rateBp - input.member.tier.accrualBp, 10_000);
    });
    if (extra > 0) p.points = Math.floor(extra / pv);
  }

  const lines: CheckLine[] = input.lines.map((l, i) => ({
    sku: l.sku, grp: l.grp, qty: l.qty, price: l.price, amt: l.amt,
    disc: pricing.lines[i]!.disc, rpts: rpts[i]!, rmin: rpts[i]! * pv, apts: apts[i]!, promos: pricing.lines[i]!.promos, rq: 0,
  }));
  const total = lines.reduce((s, l) => s + l.amt, 0);
  const discount = lines.reduce((s, l) => s + l.disc, 0);
  const receiptLines: string[] = [];
  for (const p of promos) receiptLines.push(`${p.name}: ${p.reason}`);
  if (redeem_ > 0) receiptLines.push(`Paid with points: ${redeem_} (${formatMinor(redeem_ * pv)})`);
  if (accrue > 0) receiptLines.push(`Points earned: ${accrue}`);
  return {
    ok: true,
    check: { lines, total, discount, redeem: redeem_, redeemMinor: redeem_ * pv, accrue, redeemableMax, promos, receiptLines },
  };
}

/** 12345 → "123.45": receipts print money in major units; integer formatting only. */
export function formatMinor(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}
