// Report figures on a small generated chain against expectations computed
// here, independently, with plain loops over the raw records.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account, CardRecord, CheckRecord, CustomerRecord, LedgerItem, MerchantRecord, RulesRecord, StoreRecord } from "../../engine/model.js";
import type { Table } from "../../engine/tx.js";
import type { Store } from "../../storage/store.js";
import { tempStores } from "../../storage/test-support/temp-store.js";
import { generateSmallChain, smallChainEnd } from "../test-support/small-chain.js";
import { runReport } from "./index.js";
import type { ReportParams, ReportSource } from "./source.js";

const day = 86_400_000;
const stores = tempStores();
let source: ReportSource;
let raw: { checks: CheckRecord[]; cards: CardRecord[]; customers: CustomerRecord[]; accounts: [string, Account][]; ledger: [string, LedgerItem][] };

function all<T>(store: Store, table: Table, prefix: string): [string, T][] {
  const out: [string, T][] = [];
  for (let after: string | undefined; ;) {
    const page = store.scan<T>(table, prefix, 10_000, after);
    out.push(...page.map(([k, v]) => [k, v] as [string, T]));
    if (page.length < 10_000) return out;
    after = page[page.length - 1]![0];
  }
}

beforeAll(async () => {
  const store = await stores.open(stores.dir(), { durability: "none", mapSizeBytes: 256 * 1024 * 1024 });
  await generateSmallChain(store);
  const p = "chain/";
  raw = {
    checks: all<CheckRecord>(store, "checks", p).map(([, v]) => v),
    cards: all<CardRecord>(store, "cards", p).map(([, v]) => v),
    customers: all<CustomerRecord>(store, "customers", p).map(([, v]) => v),
    accounts: all<Account>(store, "accounts", p).map(([k, v]) => [k.slice(p.length), v]),
    ledger: all<LedgerItem>(store, "activity", p).filter(([k]) => k.includes("/l/")).map(([k, v]) => [k.split("/")[1]!, v]),
  };
  source = {
    merchant: store.read((tx) => tx.get<MerchantRecord>("merchants", "chain"))!,
    rules: store.read((tx) => tx.get<RulesRecord>("rules", "chain"))!,
    stores: all<StoreRecord>(store, "stores", p).map(([, v]) => v),
    checks: () => raw.checks, cards: () => raw.cards, customers: () => raw.customers, accounts: () => raw.accounts, ledger: () => raw.ledger,
  };
});
afterAll(() => stores.cleanup());

const from = smallChainEnd - 90 * day;
const params = (over: Partial<ReportParams> = {}): ReportParams => ({
  from, to: smallChainEnd, stores: [], group: {}, asOf: smallChainEnd, listMax: 1_000, cellMeters: 1_000, ...over,
});
const sold = (c: CheckRecord) => (c.state === "confirmed" || c.state === "refunded") && c.confirmedAt >= from && c.confirmedAt < smallChainEnd;

describe("A1 summary", () => {
  it("counts checks, revenue, members and days as the raw checks say", () => {
    const r = runReport("summary", source, params());
    const checks = raw.checks.filter(sold);
    const revenue = checks.reduce((s, c) => s + c.total - c.discount, 0);
    const members = checks.filter((c) => c.card !== "");
    expect(r.figures.checks).toBe(checks.length);
    expect(r.figures.revenueMinor).toBe(revenue);
    expect(r.figures.averageCheckMinor).toBe(Math.floor(revenue / checks.length));
    expect(r.figures.memberChecks).toBe(members.length);
    expect(r.figures.nonMemberChecks).toBe(checks.length - members.length);
    expect(r.figures.cardsIssued).toBe(raw.cards.filter((c) => c.issuedAt >= from && c.issuedAt < smallChainEnd).length);
    expect(r.figures.cardsRegistered).toBe(raw.customers.filter((c) => c.createdAt >= from).length);
    const days = r.tables.find((t) => t.name === "days")!.rows;
    expect(days).toHaveLength(90);
    expect(days.reduce((s, d) => s + Number(d.checks), 0)).toBe(checks.length);
    // One day checked by hand: local (UTC+3) midnight boundaries.
    const d0 = from + 10 * day;
    const oneDay = checks.filter((c) => c.confirmedAt >= d0 && c.confirmedAt < d0 + day);
    const row = days.find((d) => d.date === new Date(d0 + 3 * 3_600_000).toISOString().slice(0, 10))!;
    expect(row.checks).toBe(oneDay.length);
    expect(row.revenueMinor).toBe(oneDay.reduce((s, c) => s + c.total - c.discount, 0));
  });

  it("filters by store and by tier", () => {
    const r = runReport("summary", source, params({ stores: ["s002"] }));
    expect(r.figures.checks).toBe(raw.checks.filter((c) => sold(c) && c.store === "s002").length);
    const gold = new Set(raw.accounts.filter(([, a]) => a.tier === "gold").map(([card]) => card));
    expect(gold.size).toBeGreaterThan(0);
    const g = runReport("summary", source, params({ group: { tier: "gold" } }));
    expect(g.figures.checks).toBe(raw.checks.filter((c) => sold(c) && gold.has(c.card)).length);
    expect(g.figures.nonMemberChecks).toBe(0);
  });
});

describe("A2 RFM", () => {
  it("scores quintiles and names segments as an independent computation does", () => {
    const r = runReport("rfm", source, params({ listSegment: "champions" }));
    const owner = new Map<string, string>();
    for (const c of raw.customers) for (const card of c.cards) owner.set(card, c.id);
    const per = new Map<string, { last: number; n: number; money: number }>();
    for (const c of raw.checks.filter((x) => sold(x) && x.card)) {
      const who = owner.get(c.card) ?? `card:${c.card}`;
      const e = per.get(who) ?? { last: 0, n: 0, money: 0 };
      per.set(who, { last: Math.max(e.last, c.confirmedAt), n: e.n + 1, money: e.money + c.total - c.discount - c.refundedMinor });
    }
    const n = per.size;
    // Score: the fifth of the population strictly below the value.
    const score = (v: number, values: number[]) => 1 + Math.floor((5 * values.filter((x) => x < v).length) / n);
    const lasts = [...per.values()].map((e) => e.last);
    const counts = [...per.values()].map((e) => e.n);
    const champions = [...per.entries()].filter(([, e]) => score(e.last, lasts) >= 4 && score(e.n, counts) >= 4);
    expect(r.figures.customers).toBe(n);
    const rows = r.tables.find((t) => t.name === "segments")!.rows;
    expect(rows.reduce((s, x) => s + Number(x.customers), 0)).toBe(n);
    expect(rows.find((x) => x.segment === "champions")!.customers).toBe(champions.length);
    expect(rows.find((x) => x.segment === "champions")!.revenueMinor).toBe(champions.reduce((s, [, e]) => s + e.money, 0));
    const list = r.tables.find((t) => t.name === "customers")!.rows;
    expect(list.map((x) => x.customerId).sort()).toEqual(champions.map(([who]) => who).filter((w) => !w.startsWith("card:")).sort().concat(
      champions.some(([w]) => w.startsWith("card:")) ? [""] : [],
    ).sort());
  });
});

describe("A4 points", () => {
  it("sums the ledger by reason and values outstanding lots as a liability", () => {
    const r = runReport("points", source, params());
    const inP = raw.ledger.filter(([, l]) => l.at >= from && l.at < smallChainEnd);
    const sum = (reasons: string[]) => inP.filter(([, l]) => reasons.includes(l.reason)).reduce((s, [, l]) => s + Math.abs(l.pts), 0);
    expect(r.figures.earned).toBe(sum(["accrual", "welcome"]));
    expect(r.figures.redeemed).toBe(sum(["redemption"]));
    expect(r.figures.expired).toBe(sum(["expiry"]));
    expect(Number(r.figures.expired)).toBeGreaterThan(0);
    const outstanding = raw.accounts.flatMap(([, a]) => a.lots).filter((l) => l.exp > smallChainEnd).reduce((s, l) => s + l.pts, 0);
    expect(r.figures.outstandingPoints).toBe(outstanding);
    expect(r.figures.liabilityMinor).toBe(outstanding * 100);
    const forecast = r.tables.find((t) => t.name === "expiry")!.rows;
    expect(forecast).toHaveLength(12);
    expect(forecast.reduce((s, x) => s + Number(x.points), 0)).toBeLessThanOrEqual(outstanding);
  });
});

describe("A5 promotions and tiers", () => {
  it("counts checks, discounts and points per promotion, and cards per tier", () => {
    const r = runReport("promotions", source, params());
    const checks = raw.checks.filter(sold);
    const rows = r.tables.find((t) => t.name === "promotions")!.rows;
    for (const id of ["dairy-5", "breakfast"]) {
      const hit = checks.filter((c) => c.promos.some((p) => p.id === id));
      const row = rows.find((x) => x.promotion === id)!;
      expect(row.checks).toBe(hit.length);
      expect(row.discountMinor).toBe(hit.reduce((s, c) => s + c.promos.filter((p) => p.id === id).reduce((a, p) => a + p.discount, 0), 0));
    }
    const tiers = r.tables.find((t) => t.name === "tiers")!.rows;
    for (const tier of ["bronze", "silver", "gold"]) {
      expect(tiers.find((x) => x.tier === tier)!.cards).toBe(raw.accounts.filter(([, a]) => a.tier === tier).length);
    }
  });
});

describe("A3 territory", () => {
  it("puts every customer with a home in one cell and gives GeoJSON that parses with the right features", () => {
    const r = runReport("territory", source, params({ cellMeters: 2_000 }));
    const homes = raw.customers.filter((c) => c.homeLatE6 !== 0 || c.homeLonE6 !== 0);
    expect(r.figures.customers).toBe(homes.length);
    const geo = JSON.parse(JSON.stringify(r.extra!.geojson)) as { type: string; features: { geometry: { type: string; coordinates: number[][][] | number[] }; properties: Record<string, unknown> }[] };
    expect(geo.type).toBe("FeatureCollection");
    const cells = geo.features.filter((f) => f.geometry.type === "Polygon");
    const points = geo.features.filter((f) => f.geometry.type === "Point");
    expect(points.map((f) => f.properties.id).sort()).toEqual(source.stores.map((s) => s.id).sort());
    expect(cells.reduce((s, f) => s + Number(f.properties.customers), 0)).toBe(homes.length);
    for (const f of cells) {
      const ring = (f.geometry.coordinates as number[][][])[0]!;
      expect(ring).toHaveLength(5);
      expect(ring[0]).toEqual(ring[4]);
    }
    // A home lies inside the polygon of some cell with a count.
    const h = homes[0]!;
    const [lon, lat] = [h.homeLonE6 / 1e6, h.homeLatE6 / 1e6];
    expect(cells.some((f) => {
      const ring = (f.geometry.coordinates as number[][][])[0]!;
      return lon >= ring[0]![0]! - 1e-6 && lon <= ring[2]![0]! + 1e-6 && lat >= ring[0]![1]! - 1e-6 && lat <= ring[2]![1]! + 1e-6;
    })).toBe(true);
    expect(r.tables.find((t) => t.name === "stores")!.rows.reduce((s, x) => s + Number(x.customers), 0)).toBe(homes.length);
  });
});
