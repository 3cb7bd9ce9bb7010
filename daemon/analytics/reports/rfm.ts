// A2 RFM: recency, frequency and monetary scores (quintiles, 1-5) of every
// customer who bought in the period, named segments, and the customer list of
// a segment for a campaign. Also the customer-group filter every report shares
// (tier, tag, RFM segment), since a segment is defined by this analysis.
//
// Scores: a customer's score is 1 + floor(5 × (customers with a strictly
// worse value) / customers), so equal values always get equal scores and the
// best fifth gets 5. Recency is days from the last purchase to the period's
// end (fewer is better); frequency is purchases; monetary is revenue.
// A customer is the person (customer record); a card nobody registered counts
// as a customer of its own, without contact details.
import { maskCardNumber } from "../../observability/mask.js";
import type { CheckRecord, CustomerRecord } from "../../engine/model.js";
import {
  checkRevenue, col, inPeriod, isSale, per, ratio, resultOf, storeFilter,
  type CustomerGroup, type ReportParams, type ReportResult, type ReportSource,
} from "./source.js";

export const segmentNames = [
  "champions", "loyal", "potential_loyalists", "new_customers", "need_attention", "at_risk", "cant_lose_them", "hibernating", "lost",
] as const;
export type SegmentName = (typeof segmentNames)[number];

/** The segment grid over recency (r) and frequency (f) scores; every cell is named exactly once. */
export function segmentOf(r: number, f: number): SegmentName {
  if (r >= 4 && f >= 4) return "champions";
  if (r >= 3 && f >= 3) return "loyal";
  if (r === 5 && f === 1) return "new_customers";
  if (r >= 4) return "potential_loyalists";
  if (r === 3) return "need_attention";
  if (f === 5) return "cant_lose_them";
  if (f >= 3) return "at_risk";
  return r === 2 ? "hibernating" : "lost";
}

export interface RfmEntry {
  /** Customer id, or "card:<number>" for an unregistered card. */
  who: string;
  cards: string[];
  last: number;
  frequency: number;
  monetary: number;
  recencyDays: number;
  r: number;
  f: number;
  m: number;
  segment: SegmentName;
}

const dayMs = 86_400_000;

/** Quintile scores where a larger value is better. */
function scores(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const n = values.length;
  return values.map((v) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid]! < v) lo = mid + 1; else hi = mid; }
    return 1 + Math.floor((5 * lo) / n);
  });
}

/** card number → customer id, for every card bound to a customer. */
export function cardOwners(source: ReportSource): Map<string, string> {
  const owners = new Map<string, string>();
  for (const c of source.customers()) for (const card of c.cards) owners.set(card, c.id);
  return owners;
}

/** RFM of everyone with a member purchase in the period (store filter applies; the group filter does not). */
export function computeRfm(source: ReportSource, p: ReportParams, owners = cardOwners(source)): RfmEntry[] {
  const inStores = storeFilter(p);
  const byWho = new Map<string, { cards: Set<string>; last: number; frequency: number; monetary: number }>();
  for (const check of source.checks()) {
    if (!check.card || !isSale(check) || !inPeriod(check.confirmedAt, p) || !inStores(check.store)) continue;
    const who = owners.get(check.card) ?? `card:${check.card}`;
    let e = byWho.get(who);
    if (!e) { e = { cards: new Set(), last: 0, frequency: 0, monetary: 0 }; byWho.set(who, e); }
    e.cards.add(check.card);
    e.last = Math.max(e.last, check.confirmedAt);
    e.frequency += 1;
    e.monetary += checkRevenue(check) - check.refundedMinor;
  }
  const whos = [...byWho.keys()].sort();
  const entries = whos.map((who) => byWho.get(who)!);
  const r = scores(entries.map((e) => e.last));
  const f = scores(entries.map((e) => e.frequency));
  const m = scores(entries.map((e) => e.monetary));
  return entries.map((e, i) => ({
    who: whos[i]!, cards: [...e.cards].sort(), last: e.last, frequency: e.frequency, monetary: e.monetary,
    recencyDays: Math.floor((p.to - e.last) / dayMs), r: r[i]!, f: f[i]!, m: m[i]!, segment: segmentOf(r[i]!, f[i]!),
  }));
}

/**
 * The customer-group filter as a predicate on card numbers; null when no
 * group is asked for. Checks without a card never belong to a group.
 */
export function groupFilter(source: ReportSource, p: ReportParams): ((card: string) => boolean) | null {
  const g: CustomerGroup = p.group;
  if (!g.tier && !g.tag && !g.segment) return null;
  let allowed: Set<string> | null = null;
  const narrow = (cards: Iterable<string>) => {
    const next = new Set<string>();
    for (const c of cards) if (allowed === null || allowed.has(c)) next.add(c);
    allowed = next;
  };
  if (g.tier) {
    const cards: string[] = [];
    for (const [card, account] of source.accounts()) if (account.tier === g.tier) cards.push(card);
    narrow(cards);
  }
  if (g.tag) {
    const cards: string[] = [];
    for (const c of source.customers()) if (c.tags.includes(g.tag)) cards.push(...c.cards);
    narrow(cards);
  }
  if (g.segment) narrow(computeRfm(source, p).filter((e) => e.segment === g.segment).flatMap((e) => e.cards));
  const set: Set<string> = allowed ?? new Set();
  return (card) => card !== "" && set.has(card);
}

export function rfmReport(source: ReportSource, p: ReportParams): ReportResult {
  const owners = cardOwners(source);
  let entries = computeRfm(source, p, owners);
  const inGroup = groupFilter(source, { ...p, group: { ...p.group, segment: undefined } });
  if (inGroup) entries = entries.filter((e) => e.cards.some(inGroup));
  if (p.group.segment) entries = entries.filter((e) => e.segment === p.group.segment);
  const total = entries.length;
  const revenue = entries.reduce((s, e) => s + e.monetary, 0);
  const segments = segmentNames.map((name) => {
    const of = entries.filter((e) => e.segment === name);
    const rev = of.reduce((s, e) => s + e.monetary, 0);
    return {
      segment: name, customers: of.length, share: ratio(of.length, total), revenueMinor: rev, revenueShare: ratio(rev, revenue),
      avgRecencyDays: per(of.reduce((s, e) => s + e.recencyDays, 0), of.length), avgFrequency: ratio(of.reduce((s, e) => s + e.frequency, 0), of.length),
      avgMonetaryMinor: per(rev, of.length),
    };
  });
  const grid: Record<string, string | number>[] = [];
  for (let r = 5; r >= 1; r -= 1) {
    const row: Record<string, string | number> = { r };
    for (let f = 1; f <= 5; f += 1) row[`f${f}`] = entries.filter((e) => e.r === r && e.f === f).length;
    grid.push(row);
  }
  const tables = [
    { name: "segments", title: "RFM segments", columns: [
      col("segment", "Segment", "text"), col("customers", "Customers"), col("share", "Share", "share"), col("revenueMinor", "Revenue", "money"),
      col("revenueShare", "Revenue share", "share"), col("avgRecencyDays", "Avg recency, days"), col("avgFrequency", "Avg purchases", "number"),
      col("avgMonetaryMinor", "Avg revenue", "money"),
    ], rows: segments },
    { name: "grid", title: "Customers by recency (rows) and frequency (columns) score", columns: [
      col("r", "R"), ...[1, 2, 3, 4, 5].map((f) => col(`f${f}`, `F=${f}`)),
    ], rows: grid },
  ];
  if (p.listSegment) {
    const customers = new Map<string, CustomerRecord>();
    for (const c of source.customers()) customers.set(c.id, c);
    const list = entries.filter((e) => e.segment === p.listSegment).sort((a, b) => b.monetary - a.monetary || (a.who < b.who ? -1 : 1)).slice(0, p.listMax);
    tables.push({ name: "customers", title: `Customers in segment ${p.listSegment}`, columns: [
      col("customerId", "Customer", "text"), col("card", "Card", "text"), col("name", "Name", "text"), col("phone", "Phone", "text"),
      col("email", "E-mail", "text"), col("consentSms", "SMS consent", "text"), col("consentEmail", "E-mail consent", "text"),
      col("recencyDays", "Recency, days"), col("frequency", "Purchases"), col("monetaryMinor", "Revenue", "money"), col("rfm", "RFM", "text"),
    ], rows: list.map((e) => {
      const c = customers.get(e.who);
      return {
        customerId: c?.id ?? "", card: e.cards.map(maskCardNumber).join(" "), name: c ? `${c.firstName} ${c.lastName}`.trim() : "",
        phone: c?.phone ?? "", email: c?.email ?? "", consentSms: c ? (c.consentSms ? "yes" : "no") : "", consentEmail: c ? (c.consentEmail ? "yes" : "no") : "",
        recencyDays: e.recencyDays, frequency: e.frequency, monetaryMinor: e.monetary, rfm: `${e.r}${e.f}${e.m}`,
      };
    }) });
  }
  return resultOf("rfm", source, p, { customers: total, revenueMinor: revenue, ...(p.listSegment ? { listed: tables[2]!.rows.length } : {}) }, tables);
}

/** For other reports: the checks a report counts (period, stores, group). */
export function checkFilter(source: ReportSource, p: ReportParams): (check: CheckRecord) => boolean {
  const inStores = storeFilter(p);
  const inGroup = groupFilter(source, p);
  return (check) => isSale(check) && inPeriod(check.confirmedAt, p) && inStores(check.store) && (inGroup === null || inGroup(check.card));
}
