// A1 Summary: cards issued and registered, purchases (sum, count, average
// check, items per check), members against non-members, and a per-day series.
// Refunds are counted against the day of the original purchase.
import { checkFilter } from "./rfm.js";
import { checkItems, checkRevenue, col, inPeriod, isoDay, per, ratio, resultOf, type ReportParams, type ReportResult, type ReportSource } from "./source.js";

interface Bucket { checks: number; revenue: number; items: number; refunded: number; memberChecks: number; memberRevenue: number }

const empty = (): Bucket => ({ checks: 0, revenue: 0, items: 0, refunded: 0, memberChecks: 0, memberRevenue: 0 });

export function summaryReport(source: ReportSource, p: ReportParams): ReportResult {
  const tz = source.merchant.tzOffsetMin;
  const counts = checkFilter(source, p);
  const total = empty();
  let discount = 0;
  let pointsMoney = 0;
  const days = new Map<string, Bucket>();
  // Every day of the period is in the series, quiet ones too.
  for (let at = p.from; at < p.to; at += 86_400_000) days.set(isoDay(at, tz), empty());
  for (const check of source.checks()) {
    if (!counts(check)) continue;
    const revenue = checkRevenue(check);
    const items = checkItems(check);
    const day = days.get(isoDay(check.confirmedAt, tz)) ?? empty();
    for (const b of [total, day]) {
      b.checks += 1;
      b.revenue += revenue;
      b.items += items;
      b.refunded += check.refundedMinor;
      if (check.card) { b.memberChecks += 1; b.memberRevenue += revenue; }
    }
    days.set(isoDay(check.confirmedAt, tz), day);
    discount += check.discount;
    pointsMoney += check.redeemMinor;
  }
  let cardsIssued = 0;
  for (const card of source.cards()) if (inPeriod(card.issuedAt, p)) cardsIssued += 1;
  let registered = 0;
  for (const customer of source.customers()) if (inPeriod(customer.createdAt, p)) registered += 1;
  const nonMemberChecks = total.checks - total.memberChecks;
  const nonMemberRevenue = total.revenue - total.memberRevenue;
  const figures = {
    cardsIssued, cardsRegistered: registered, checks: total.checks, revenueMinor: total.revenue, discountMinor: discount,
    paidWithPointsMinor: pointsMoney, refundedMinor: total.refunded, netRevenueMinor: total.revenue - total.refunded,
    averageCheckMinor: per(total.revenue, total.checks), itemsPerCheck: ratio(total.items, total.checks),
    memberChecks: total.memberChecks, memberRevenueMinor: total.memberRevenue, memberAverageCheckMinor: per(total.memberRevenue, total.memberChecks),
    nonMemberChecks, nonMemberRevenueMinor: nonMemberRevenue, nonMemberAverageCheckMinor: per(nonMemberRevenue, nonMemberChecks),
    memberShareOfChecks: ratio(total.memberChecks, total.checks),
  };
  const rows = [...days.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, b]) => ({
    date, checks: b.checks, revenueMinor: b.revenue, averageCheckMinor: per(b.revenue, b.checks), itemsPerCheck: ratio(b.items, b.checks),
    memberChecks: b.memberChecks, nonMemberChecks: b.checks - b.memberChecks, refundedMinor: b.refunded,
  }));
  return resultOf("summary", source, p, figures, [
    { name: "days", title: "Per day", columns: [
      col("date", "Date", "date"), col("checks", "Checks"), col("revenueMinor", "Revenue", "money"), col("averageCheckMinor", "Average check", "money"),
      col("itemsPerCheck", "Items per check", "number"), col("memberChecks", "Member checks"), col("nonMemberChecks", "Non-member checks"),
      col("refundedMinor", "Refunded", "money"),
    ], rows },
  ]);
}
