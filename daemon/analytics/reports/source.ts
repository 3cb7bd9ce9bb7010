// What every report reads, and the filters they share.
//
// Reports are pure functions of a ReportSource (records as iterables) and
// parameters: the worker (../worker.ts) gives them one LMDB read snapshot,
// tests give them arrays. They never write, never read the clock (`asOf` comes
// in), and money stays integer minor units; only ratios are floats.
import type { Account, CardRecord, CheckRecord, CustomerRecord, LedgerItem, MerchantRecord, RulesRecord, StoreRecord } from "../../engine/model.js";
import { localDay } from "../../engine/rules.js";

export interface ReportSource {
  merchant: MerchantRecord;
  rules: RulesRecord;
  stores: StoreRecord[];
  checks(): Iterable<CheckRecord>;
  cards(): Iterable<CardRecord>;
  customers(): Iterable<CustomerRecord>;
  /** [card number, account] of bonus cards. */
  accounts(): Iterable<readonly [string, Account]>;
  /** [card number, ledger entry]: every balance change. */
  ledger(): Iterable<readonly [string, LedgerItem]>;
}

/** A customer group: tier, RFM segment or tag (each optional; all given must match). */
export interface CustomerGroup {
  tier?: string;
  segment?: string;
  tag?: string;
}

export interface ReportParams {
  /** Period [from, to), UTC ms. */
  from: number;
  to: number;
  /** Only these stores (empty: all). */
  stores: string[];
  group: CustomerGroup;
  /** The time "outstanding" and forecasts are computed for (the daemon's now). */
  asOf: number;
  /** RFM: list the customers of this segment. */
  listSegment?: string;
  /** Rows of a customer list at most. */
  listMax: number;
  /** Territory: grid cell size in metres. */
  cellMeters: number;
}

/** money: integer minor units; share: a fraction of 1 (shown as a percentage); number: a decimal. */
export type ColumnType = "text" | "int" | "money" | "share" | "number" | "date";

export interface Column {
  key: string;
  title: string;
  type: ColumnType;
}

/** A table every export format can write (CSV, xlsx, the CLI's text table). */
export interface ReportTable {
  name: string;
  title: string;
  columns: Column[];
  rows: Record<string, string | number | boolean>[];
}

export interface ReportResult {
  report: string;
  merchantId: string;
  currency: string;
  from: number;
  to: number;
  filters: { stores: string[]; group: CustomerGroup };
  /** Headline figures (shown as key/value pairs). */
  figures: Record<string, string | number>;
  tables: ReportTable[];
  /** Extra, report-specific output (GeoJSON for the territory report). */
  extra?: Record<string, unknown>;
}

export const col = (key: string, title: string, type: ColumnType = "int"): Column => ({ key, title, type });

/** Confirmed sales (fully refunded ones too: they happened) in the period and stores. */
export function isSale(check: CheckRecord): boolean {
  return (check.state === "confirmed" || check.state === "refunded") && check.confirmedAt > 0;
}

export function inPeriod(at: number, p: Pick<ReportParams, "from" | "to">): boolean {
  return at >= p.from && at < p.to;
}

export function storeFilter(p: Pick<ReportParams, "stores">): (store: string) => boolean {
  if (p.stores.length === 0) return () => true;
  const set = new Set(p.stores);
  return (s) => set.has(s);
}

/** What the customer paid for the goods: after discounts, points included (points are a means of payment). */
export function checkRevenue(check: CheckRecord): number {
  return check.total - check.discount;
}

/** Units sold: whole units of counted goods; a weighed line is one item. */
export function checkItems(check: CheckRecord): number {
  let items = 0;
  for (const line of check.lines) items += line.qty % 1000 === 0 ? line.qty / 1000 : 1;
  return items;
}

export function isoDay(at: number, tzOffsetMin: number): string {
  return new Date(localDay(at, tzOffsetMin) * 86_400_000).toISOString().slice(0, 10);
}

export function isoMonth(at: number, tzOffsetMin: number): string {
  return isoDay(at, tzOffsetMin).slice(0, 7);
}

/** Floor of a/b for non-negative integers, 0 when b is 0. */
export function per(a: number, b: number): number {
  return b === 0 ? 0 : Math.floor(a / b);
}

export function ratio(a: number, b: number): number {
  return b === 0 ? 0 : Math.round((a / b) * 10_000) / 10_000;
}

export function resultOf(report: string, source: ReportSource, p: ReportParams, figures: ReportResult["figures"], tables: ReportTable[], extra?: ReportResult["extra"]): ReportResult {
  return {
    report, merchantId: source.merchant.id, currency: source.merchant.currency, from: p.from, to: p.to,
    filters: { stores: p.stores, group: p.group }, figures, tables, ...(extra ? { extra } : {}),
  };
}
