// A4 Points: earned, redeemed, expired per month of the period with the
// redemption rate; outstanding points as a money liability at `asOf`; and the
// expiry forecast of the points outstanding (by month, next 12 months).
//
// A ledger entry's reason decides its column: accrual/welcome/bonus/coupon and
// positive adjustments are earned; redemption is redeemed; expiry is expired;
// refund_reversal and negative void entries are reversed; refund_return and
// positive void entries are returned (spent points given back).
import type { LedgerItem } from "../../engine/model.js";
import { localMonthIndex, rulesAt } from "../../engine/rules.js";
import { groupFilter } from "./rfm.js";
import { col, inPeriod, isoMonth, ratio, resultOf, storeFilter, type ReportParams, type ReportResult, type ReportSource } from "./source.js";

export type PointsColumn = "earned" | "redeemed" | "expired" | "reversed" | "returned" | "adjusted";

export function pointsColumn(item: Pick<LedgerItem, "reason" | "pts">): PointsColumn {
  switch (item.reason) {
    case "accrual": case "welcome": case "bonus": case "coupon": case "transfer": return "earned";
    case "redemption": return "redeemed";
    case "expiry": return "expired";
    case "refund_reversal": return "reversed";
    case "refund_return": return "returned";
    case "void": return item.pts < 0 ? "reversed" : "returned";
    case "adjustment": return item.pts > 0 ? "earned" : "adjusted";
  }
}

/** A month index (year × 12 + month0) as YYYY-MM. */
export function monthName(index: number): string {
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
}

const columns: PointsColumn[] = ["earned", "redeemed", "expired", "reversed", "returned", "adjusted"];

export function pointsReport(source: ReportSource, p: ReportParams): ReportResult {
  const tz = source.merchant.tzOffsetMin;
  const program = rulesAt(source.rules.versions, p.asOf).program;
  const inGroup = groupFilter(source, p);
  // Under a store filter only entries about a check of those stores count.
  let checkStores: Map<string, string> | null = null;
  if (p.stores.length > 0) {
    checkStores = new Map();
    for (const c of source.checks()) checkStores.set(c.id, c.store);
  }
  const inStores = storeFilter(p);
  const months = new Map<string, Record<PointsColumn, number>>();
  const zero = () => ({ earned: 0, redeemed: 0, expired: 0, reversed: 0, returned: 0, adjusted: 0 });
  for (let at = p.from; at < p.to; at += 86_400_000) if (!months.has(isoMonth(at, tz))) months.set(isoMonth(at, tz), zero());
  const totals = zero();
  for (const [card, item] of source.ledger()) {
    if (!inPeriod(item.at, p) || (inGroup && !inGroup(card))) continue;
    if (checkStores && !(item.check && inStores(checkStores.get(item.check) ?? ""))) continue;
    const column = pointsColumn(item);
    const month = months.get(isoMonth(item.at, tz)) ?? zero();
    month[column] += Math.abs(item.pts);
    totals[column] += Math.abs(item.pts);
    months.set(isoMonth(item.at, tz), month);
  }
  // Outstanding at asOf: lots of the current accounts (store filter does not apply: points are not kept per store).
  let active = 0;
  let pending = 0;
  let debt = 0;
  let holders = 0;
  const forecast = new Map<string, number>();
  const firstMonth = localMonthIndex(p.asOf, tz);
  for (let i = 0; i < 12; i += 1) forecast.set(monthName(firstMonth + i), 0);
  for (const [card, account] of source.accounts()) {
    if (inGroup && !inGroup(card)) continue;
    let has = false;
    for (const lot of account.lots) {
      if (lot.exp <= p.asOf) continue;
      has = true;
      if (lot.act > p.asOf) pending += lot.pts; else active += lot.pts;
      const month = isoMonth(lot.exp - 1, tz);
      if (forecast.has(month)) forecast.set(month, forecast.get(month)! + lot.pts);
    }
    debt += account.debt;
    if (has) holders += 1;
  }
  const outstanding = active + pending;
  const value = program.pointValueMinor;
  return resultOf("points", source, p, {
    earned: totals.earned, redeemed: totals.redeemed, expired: totals.expired, reversed: totals.reversed, returned: totals.returned,
    redemptionRate: ratio(totals.redeemed, totals.earned), expiryRate: ratio(totals.expired, totals.earned),
    outstandingPoints: outstanding, activePoints: active, pendingPoints: pending, debtPoints: debt, cardsWithPoints: holders,
    pointValueMinor: value, liabilityMinor: outstanding * value, asOf: new Date(p.asOf).toISOString(),
  }, [
    { name: "months", title: "Points per month", columns: [
      col("month", "Month", "text"), ...columns.map((c) => col(c, c[0]!.toUpperCase() + c.slice(1))), col("redemptionRate", "Redemption rate", "share"),
    ], rows: [...months.entries()].map(([month, v]) => ({ month, ...v, redemptionRate: ratio(v.redeemed, v.earned) })) },
    { name: "expiry", title: "Expiry forecast of outstanding points", columns: [
      col("month", "Month", "text"), col("points", "Points expiring"), col("liabilityMinor", "Value", "money"),
    ], rows: [...forecast.entries()].map(([month, points]) => ({ month, points, liabilityMinor: points * value })) },
  ]);
}
