// A5 Promotion effectiveness (checks affected, discounts and points granted,
// revenue of those checks against the rest), tier distribution at `asOf` and
// tier movement over the period.
//
// Movement compares, per bonus card, the tier earned by rolling 12-month
// spend at the start of the period with the one at its end, both computed
// from the card's purchases (refunded money taken off) under the program
// valid at that time: the tier a card would have after the periodic
// re-evaluation. Cards with no purchase in either window are left out.
import { localMonthIndex, rulesAt, tierForSpend, tierRank } from "../../engine/rules.js";
import { checkFilter, groupFilter } from "./rfm.js";
import { checkRevenue, col, isSale, per, ratio, resultOf, type ReportParams, type ReportResult, type ReportSource } from "./source.js";

export function promotionsReport(source: ReportSource, p: ReportParams): ReportResult {
  const tz = source.merchant.tzOffsetMin;
  const counts = checkFilter(source, p);
  const inGroup = groupFilter(source, p);
  const names = new Map<string, string>();
  for (const v of source.rules.versions) for (const promo of v.promotions) names.set(promo.id, promo.name);
  const promos = new Map<string, { checks: number; discount: number; points: number; revenue: number }>();
  let checks = 0;
  let revenue = 0;
  const spendByCard = new Map<string, Map<number, number>>();
  for (const check of source.checks()) {
    if (check.card && isSale(check) && (inGroup === null || inGroup(check.card))) {
      const month = localMonthIndex(check.confirmedAt, tz);
      const spend = spendByCard.get(check.card) ?? new Map<number, number>();
      spend.set(month, (spend.get(month) ?? 0) + checkRevenue(check) - check.refundedMinor);
      spendByCard.set(check.card, spend);
    }
    if (!counts(check)) continue;
    checks += 1;
    revenue += checkRevenue(check);
    for (const applied of check.promos) {
      const e = promos.get(applied.id) ?? { checks: 0, discount: 0, points: 0, revenue: 0 };
      e.checks += 1;
      e.discount += applied.discount;
      e.points += applied.points;
      e.revenue += checkRevenue(check);
      promos.set(applied.id, e);
      if (!names.has(applied.id)) names.set(applied.id, applied.name);
    }
  }
  const averageCheck = per(revenue, checks);
  const promoRows = [...promos.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, e]) => ({
    promotion: id, name: names.get(id) ?? "", checks: e.checks, shareOfChecks: ratio(e.checks, checks), discountMinor: e.discount, points: e.points,
    revenueMinor: e.revenue, averageCheckMinor: per(e.revenue, e.checks),
    averageCheckOthersMinor: per(revenue - e.revenue, checks - e.checks),
  }));

  // Tiers now.
  const program = rulesAt(source.rules.versions, p.asOf).program;
  const tierCount = new Map<string, number>(program.tiers.map((t) => [t.id, 0]));
  let accounts = 0;
  for (const [card, account] of source.accounts()) {
    if (inGroup && !inGroup(card)) continue;
    accounts += 1;
    tierCount.set(account.tier, (tierCount.get(account.tier) ?? 0) + 1);
  }
  // Movement over the period.
  const startProgram = rulesAt(source.rules.versions, p.from).program;
  const endProgram = rulesAt(source.rules.versions, p.to - 1).program;
  const startMonth = localMonthIndex(p.from - 1, tz);
  const endMonth = localMonthIndex(p.to - 1, tz);
  const window = (spend: Map<number, number>, month: number) => {
    let sum = 0;
    let any = false;
    for (const [mo, v] of spend) if (mo > month - 12 && mo <= month) { sum += v; any = true; }
    return { sum: Math.max(0, sum), any };
  };
  const movement = new Map<string, number>();
  let up = 0;
  let down = 0;
  let same = 0;
  for (const spend of spendByCard.values()) {
    const a = window(spend, startMonth);
    const b = window(spend, endMonth);
    if (!a.any && !b.any) continue;
    const before = tierForSpend(startProgram, a.sum).id;
    const after = tierForSpend(endProgram, b.sum).id;
    movement.set(`${before}>${after}`, (movement.get(`${before}>${after}`) ?? 0) + 1);
    const d = tierRank(endProgram, after) - tierRank(startProgram, before);
    if (d > 0) up += 1; else if (d < 0) down += 1; else same += 1;
  }
  const tierIds = endProgram.tiers.map((t) => t.id);
  return resultOf("promotions", source, p, {
    checks, revenueMinor: revenue, averageCheckMinor: averageCheck, promotionsApplied: promoRows.length, cardsWithTier: accounts,
    tierUpgrades: up, tierDowngrades: down, tierUnchanged: same,
  }, [
    { name: "promotions", title: "Promotion effectiveness", columns: [
      col("promotion", "Promotion", "text"), col("name", "Name", "text"), col("checks", "Checks"), col("shareOfChecks", "Share of checks", "share"),
      col("discountMinor", "Discount granted", "money"), col("points", "Points granted"), col("revenueMinor", "Revenue of these checks", "money"),
      col("averageCheckMinor", "Average check", "money"), col("averageCheckOthersMinor", "Average check without it", "money"),
    ], rows: promoRows },
    { name: "tiers", title: "Tier distribution", columns: [col("tier", "Tier", "text"), col("cards", "Cards"), col("share", "Share", "share")],
      rows: [...tierCount.entries()].map(([tier, n]) => ({ tier, cards: n, share: ratio(n, accounts) })) },
    { name: "movement", title: "Tier movement over the period (rows: at the start; columns: at the end)", columns: [
      col("from", "From \\ to", "text"), ...tierIds.map((t) => col(t, t)),
    ], rows: startProgram.tiers.map((t) => ({ from: t.id, ...Object.fromEntries(tierIds.map((to) => [to, movement.get(`${t.id}>${to}`) ?? 0])) })) },
  ]);
}
