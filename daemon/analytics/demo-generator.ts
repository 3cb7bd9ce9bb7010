// The demo chain generator: a synthetic but realistic retail chain with a
// year of history, the data every report, benchmark and demo runs on.
//
// Contract:
// - Everything is written through the engine's write path: admin commands
//   (merchant, stores, terminals, rules, card issues) and demo commands
//   (registrations, sales, refunds; daemon/engine/demo.ts) submitted to the
//   store with their historical time, oldest first, plus the scheduled jobs
//   (lot expiry each day, tier re-evaluation each month) at the time they
//   would have run. So lots, tiers, expiry and refunds behave as they would
//   have, and the journal replays to the same state.
// - Deterministic by seed: the same options give the same commands in the same
//   order, hence the same state digest. Nothing here reads the clock or
//   Math.random; `end` comes in from the caller.
// - The history ends at `end` (the daemon passes the start of the merchant's
//   current local day) and nothing it leaves is due before then, so the live
//   scheduler has nothing to catch up on afterwards.
// - Work is cut into commands of at most `itemsPerCommand` items and the
//   generator yields to the event loop between them: the engine runs on the
//   daemon's single thread, and POS requests must keep being answered.
import { createHash } from "node:crypto";
import type { AdminAction, AdminResult } from "../engine/admin.js";
import type { Command } from "../engine/apply.js";
import type { DemoAction, DemoItem, DemoLine, DemoOutcome } from "../engine/demo.js";
import { demoItemsPerCommandMax } from "../engine/demo.js";
import { maintenanceBatchMax } from "../engine/maintenance.js";
import type { Program, Promotion, StoreRecord } from "../engine/model.js";
import { dueKinds, key } from "../engine/model.js";
import { localDay, localMonthIndex, localWeekday } from "../engine/rules.js";
import { demoProgram, hashSecret, withCheckDigit } from "../seed.js";
import { Random } from "./random.js";

const dayMs = 86_400_000;

export interface DemoOptions {
  merchantId: string;
  seed: number;
  customers: number;
  months: number;
  /** Stores; 0 chooses one per 2,500 customers (at least 3). */
  stores: number;
  city: CityName;
  /** Exclusive end of the history (UTC ms); the start of a local day. */
  end: number;
  /** Items per demo command (at most demoItemsPerCommandMax). */
  itemsPerCommand: number;
}

export interface DemoSummary {
  merchantId: string;
  seed: number;
  from: number;
  to: number;
  stores: number;
  terminals: number;
  cardsIssued: number;
  registrations: number;
  sales: number;
  memberSales: number;
  refunds: number;
  declined: number;
  expiryRuns: number;
  commands: number;
}

export interface DemoDeps {
  /** The daemon's write path: the store's submit with applyCommand; resolves when durable. */
  submit(command: Command, now: number): Promise<unknown>;
  /** Keys of `table` starting with `prefix`, after `startAfter`, at most `limit` (durable and pending). */
  scanKeys(table: "due" | "accounts", prefix: string, limit: number, startAfter?: string): string[];
  /** Lets the event loop run (POS requests); the daemon passes setImmediate. */
  yieldNow(): Promise<void>;
  onProgress?(daysDone: number, daysTotal: number, summary: DemoSummary): void;
}

export const cities = {
  moscow: { name: "Moscow", lat: 55.7558, lon: 37.6173, tzOffsetMin: 180, region: "moscow" },
  "saint-petersburg": { name: "Saint Petersburg", lat: 59.9386, lon: 30.3141, tzOffsetMin: 180, region: "spb" },
  kazan: { name: "Kazan", lat: 55.7963, lon: 49.1088, tzOffsetMin: 180, region: "kazan" },
  novosibirsk: { name: "Novosibirsk", lat: 55.0302, lon: 82.9204, tzOffsetMin: 420, region: "novosibirsk" },
  yekaterinburg: { name: "Yekaterinburg", lat: 56.8389, lon: 60.6057, tzOffsetMin: 300, region: "yekaterinburg" },
} as const;
export type CityName = keyof typeof cities;

/** Limits of the generator's options (the admin method checks them). */
export const demoCustomersMax = 2_000_000;
export const demoMonthsMax = 36;
export const demoStoresMax = 1_000;

/** Product groups: typical price (minor units), how often a line is from it, weighed goods. */
const groups: { id: string; price: number; weight: number; weighed: boolean; skus: number }[] = [
  { id: "dairy", price: 9_500, weight: 14, weighed: false, skus: 60 },
  { id: "bakery", price: 6_000, weight: 12, weighed: false, skus: 40 },
  { id: "produce", price: 14_000, weight: 14, weighed: true, skus: 80 },
  { id: "meat", price: 45_000, weight: 8, weighed: true, skus: 50 },
  { id: "grocery", price: 12_000, weight: 14, weighed: false, skus: 150 },
  { id: "snacks", price: 11_000, weight: 8, weighed: false, skus: 80 },
  { id: "frozen", price: 25_000, weight: 5, weighed: false, skus: 40 },
  { id: "coffee", price: 55_000, weight: 3, weighed: false, skus: 20 },
  { id: "tea", price: 25_000, weight: 3, weighed: false, skus: 20 },
  { id: "household", price: 30_000, weight: 6, weighed: false, skus: 60 },
  { id: "alcohol", price: 80_000, weight: 4, weighed: false, skus: 60 },
  { id: "tobacco", price: 22_000, weight: 3, weighed: false, skus: 15 },
];
const groupWeights = groups.map((g) => g.weight);
/** Share of sales that are later returned, whole or one line. */
const refundShare = 0.015;

const firstNames = ["Alexander", "Maria", "Dmitry", "Anna", "Sergey", "Elena", "Andrey", "Olga", "Ivan", "Natalia", "Mikhail", "Tatiana", "Nikolai", "Irina", "Pavel", "Svetlana", "Artem", "Ekaterina", "Roman", "Yulia"];
const lastNames = ["Ivanov", "Smirnov", "Kuznetsov", "Popov", "Vasiliev", "Petrov", "Sokolov", "Mikhailov", "Novikov", "Fedorov", "Morozov", "Volkov", "Alekseev", "Lebedev", "Semenov", "Egorov", "Pavlov", "Kozlov", "Stepanov", "Nikolaev"];
const streets = ["Lenina", "Mira", "Sadovaya", "Tsentralnaya", "Sovetskaya", "Molodezhnaya", "Shkolnaya", "Lesnaya", "Naberezhnaya", "Pushkina"];

/** The demo chain's program: like the demo merchant's, with points living 180 days so a year of history has expiry in it. */
export const demoChainProgram: Program = { ...demoProgram, lotLifetimeMs: 180 * dayMs, welcomePoints: 100 };

function chainPromotions(from: number, to: number, tzOffsetMin: number): Promotion[] {
  const always = { validFrom: from, validTo: Number.MAX_SAFE_INTEGER };
  const promotions: Promotion[] = [
    { id: "coffee-monday", name: "Coffee Monday x2", priority: 10, exclusive: false, ...always, conditions: { groups: ["coffee"], weekdays: [1] }, effect: { kind: "points_multiplier", multiplierPct: 200 } },
    { id: "dairy-5", name: "Dairy 5% off", priority: 5, exclusive: false, ...always, conditions: { groups: ["dairy"] }, effect: { kind: "percent_discount", bp: 500 } },
    { id: "breakfast", name: "Breakfast bundle", priority: 15, exclusive: false, ...always, conditions: { bundle: ["coffee", "bakery"] }, effect: { kind: "percent_discount", bp: 1_000 } },
    { id: "birthday", name: "Happy birthday", priority: 20, exclusive: false, ...always, conditions: { birthdayWindowDays: 3, membersOnly: true }, effect: { kind: "fixed_points", points: 200 } },
    { id: "big-basket", name: "200 points from 3000.00", priority: 8, exclusive: false, ...always, conditions: { minBasketMinor: 300_000, membersOnly: true }, effect: { kind: "fixed_points", points: 200 } },
  ];
  // Seasonal campaigns in every year the history covers: summer produce and the New Year weeks.
  const firstYear = new Date(from).getUTCFullYear();
  const lastYear = new Date(to).getUTCFullYear();
  for (let y = firstYear; y <= lastYear; y += 1) {
    const local = (month: number, dayOfMonth: number) => Date.UTC(y, month, dayOfMonth) - tzOffsetMin * 60_000;
    promotions.push(
      { id: `summer-produce-${y}`, name: `Summer produce ${y}: 10% off`, priority: 12, exclusive: false, validFrom: local(5, 1), validTo: local(8, 1), conditions: { groups: ["produce"] }, effect: { kind: "percent_discount", bp: 1_000 } },
      { id: `new-year-${y}`, name: `New Year ${y + 1}: triple points`, priority: 30, exclusive: false, validFrom: local(11, 15), validTo: local(12, 8), conditions: { membersOnly: true }, effect: { kind: "points_multiplier", multiplierPct: 300 } },
    );
  }
  return promotions;
}

interface Shopper {
  /** Card number ("" for none). */
  card: string;
  homeStore: number;
  /** Expected purchases per day. */
  rate: number;
  joinDay: number;
  /** Day after which the customer stops shopping (churn), or Infinity. */
  leaveDay: number;
  redeemer: boolean;
  /** Preferred group (more lines from it). */
  favourite: number;
  basketSize: number;
}

/** Day-of-week demand (0 = Sunday): Friday and Saturday are the big days. */
const weekdayFactor = [1.05, 0.85, 0.9, 0.92, 0.98, 1.2, 1.3];

function seasonalFactor(at: number, tzOffsetMin: number): number {
  const d = new Date(at + tzOffsetMin * 60_000);
  const month = d.getUTCMonth();
  const dom = d.getUTCDate();
  // A summer dip (people away at the dacha), an autumn return, the New Year rush.
  const base = [0.92, 0.94, 1.0, 1.0, 1.0, 0.93, 0.88, 0.9, 1.02, 1.04, 1.05, 1.12][month]!;
  const newYear = month === 11 && dom >= 20 ? 1.35 : month === 0 && dom <= 7 ? 0.8 : 1;
  return base * newYear;
}

/** Minute of the local day a purchase happens at: morning and evening peaks. */
function purchaseMinute(rng: Random): number {
  const r = rng.next();
  if (r < 0.2) return Math.floor(rng.normal(8.5 * 60, 50));
  if (r < 0.45) return Math.floor(rng.normal(13 * 60, 60));
  return Math.floor(rng.normal(18.5 * 60, 90));
}

function clampMinute(m: number): number {
  return Math.min(22 * 60 + 59, Math.max(7 * 60, m));
}

export function demoStoreCount(options: Pick<DemoOptions, "stores" | "customers">): number {
  return options.stores > 0 ? options.stores : Math.max(3, Math.min(demoStoresMax, Math.round(options.customers / 2_500)));
}

/** Deterministic per-terminal secret: demo tills are not for production; rotate a secret to use one. */
function terminalSecret(seed: number, terminalId: string): { salt: string; secretHash: string } {
  const secret = createHash("sha256").update(`demo-terminal/${seed}/${terminalId}`).digest("base64url");
  const salt = createHash("sha256").update(`demo-salt/${seed}/${terminalId}`).digest("hex").slice(0, 32);
  return { salt, secretHash: hashSecret(salt, secret) };
}

export async function generateDemoChain(options: DemoOptions, deps: DemoDeps): Promise<DemoSummary> {
  const city = cities[options.city];
  const tz = city.tzOffsetMin;
  const m = options.merchantId;
  const rng = new Random(options.seed);
  const itemsPerCommand = Math.max(1, Math.min(demoItemsPerCommandMax, options.itemsPerCommand));
  const endDay = localDay(options.end, tz);
  const startDay = endDay - Math.round(options.months * 30.4375);
  const dayStart = (d: number) => d * dayMs - tz * 60_000;
  const from = dayStart(startDay);
  const summary: DemoSummary = {
    merchantId: m, seed: options.seed, from, to: options.end, stores: 0, terminals: 0, cardsIssued: 0, registrations: 0,
    sales: 0, memberSales: 0, refunds: 0, declined: 0, expiryRuns: 0, commands: 0,
  };

  const submitAdmin = async (action: AdminAction, at: number): Promise<void> => {
    summary.commands += 1;
    const result = await deps.submit({ t: "admin", actor: "demo", action }, at) as AdminResult;
    if (!result.ok) throw new DemoRefusedError(`${action.a}: ${result.message}`);
  };

  // The chain opens a day before its history starts.
  const setupAt = from - dayMs;
  await submitAdmin({ a: "merchant.put", merchant: { id: m, name: `${city.name} Fresh Market`, tzOffsetMin: tz, currency: "RUB", createdAt: setupAt } }, setupAt);
  const storeCount = demoStoreCount(options);
  const stores: StoreRecord[] = [];
  const storePopularity: number[] = [];
  for (let i = 0; i < storeCount; i += 1) {
    // Stores thin out from the centre: a normal spread of about 7 km, a few in the suburbs.
    const spreadKm = i % 7 === 6 ? 16 : 7;
    const lat = city.lat + rng.normal(0, spreadKm / 111.32);
    const lon = city.lon + rng.normal(0, spreadKm / (111.32 * Math.cos((city.lat * Math.PI) / 180)));
    const store: StoreRecord = {
      id: `s${String(i + 1).padStart(3, "0")}`, merchantId: m, name: `${streets[i % streets.length]} ${1 + Math.floor(rng.next() * 120)}`,
      region: city.region, latE6: Math.round(lat * 1e6), lonE6: Math.round(lon * 1e6),
    };
    stores.push(store);
    storePopularity.push(0.4 + rng.next() * 1.6);
    await submitAdmin({ a: "store.put", store }, setupAt);
    for (let t = 1; t <= 2; t += 1) {
      const id = `${m}-${store.id}-${t}`;
      await submitAdmin({ a: "terminal.put", terminal: { id, merchantId: m, storeId: store.id, ...terminalSecret(options.seed, id), disabled: false } }, setupAt);
      summary.terminals += 1;
    }
  }
  summary.stores = storeCount;
  await submitAdmin({ a: "rules.publish", merchantId: m, version: { from: setupAt, program: demoChainProgram, promotions: chainPromotions(from, options.end, tz) } }, setupAt);

  // Shoppers: registered members, holders of anonymous cards, and the
  // non-member traffic of each store (modelled per store below).
  const days = endDay - startDay;
  const shoppers: Shopper[] = [];
  const anonymousCards = Math.round(options.customers * 0.1);
  const memberCount = options.customers + anonymousCards;
  for (let i = 0; i < memberCount; i += 1) {
    const kind = rng.next();
    // Heavy (a fifth), regular and occasional shoppers, in purchases per day.
    const rate = kind < 0.2 ? 0.25 + rng.next() * 0.2 : kind < 0.6 ? 0.07 + rng.next() * 0.08 : 0.015 + rng.next() * 0.04;
    // The program launched when the history starts: 40% join in its first week, the rest over the year.
    const joinDay = rng.next() < 0.4 ? Math.floor(rng.next() * 7) : Math.floor(rng.next() * days);
    const churns = rng.next() < 0.25;
    shoppers.push({
      card: withCheckDigit(`2990${String(i + 1).padStart(11, "0")}`), homeStore: rng.pickWeighted(storePopularity), rate, joinDay,
      leaveDay: churns ? joinDay + Math.floor(rng.next() * (days - joinDay)) : Number.POSITIVE_INFINITY,
      redeemer: rng.next() < 0.35, favourite: rng.pickWeighted(groupWeights), basketSize: 2 + Math.floor(rng.next() * 8),
    });
  }
  const joiningOn = new Map<number, number[]>();
  shoppers.forEach((s, i) => {
    const list = joiningOn.get(s.joinDay) ?? [];
    list.push(i);
    joiningOn.set(s.joinDay, list);
  });
  // Non-member checks per store per day (before the day and season factors).
  const walkInsPerStoreDay = Math.max(1, (options.customers * 0.11 * 0.55) / storeCount);

  let receipt = 0;
  const refundsDue = new Map<number, { check: string; store: number; lineQty: number[] }[]>();
  const items: DemoItem[] = [];
  /** Per item of `items`: whether the sale will come back (decided when the sale is made). */
  const returning: boolean[] = [];

  const flush = async (now: number): Promise<void> => {
    if (items.length === 0) return;
    const batch = items.splice(0);
    const back = returning.splice(0);
    summary.commands += 1;
    const outcome = await deps.submit({ t: "demo", m, items: batch }, now) as DemoOutcome;
    if (!outcome.ok) throw new DemoRefusedError(outcome.message);
    for (let i = 0; i < outcome.codes.length; i += 1) {
      if (outcome.codes[i] !== 0) summary.declined += 1;
      const action = batch[i]!.action;
      const check = outcome.ids[i];
      if (!back[i] || action.k !== "sale" || !check) continue;
      // A returned purchase comes back 1-14 days later, to the store it was bought in.
      const due = localDay(batch[i]!.at, tz) + 1 + Math.floor(rng.next() * 14);
      const list = refundsDue.get(due) ?? [];
      list.push({ check, store: stores.findIndex((s) => s.id === batch[i]!.s), lineQty: action.lines.map((l) => l.qty) });
      refundsDue.set(due, list);
    }
    await deps.yieldNow();
  };
  const add = async (item: DemoItem, comesBack: boolean): Promise<void> => {
    items.push(item);
    returning.push(comesBack);
    if (items.length >= itemsPerCommand) await flush(item.at);
  };
  const terminalOf = (store: number) => `${m}-${stores[store]!.id}-${1 + Math.floor(rng.next() * 2)}`;
  const basket = (size: number, favourite: number): DemoLine[] => {
    const lines: DemoLine[] = [];
    for (let i = 0; i < size; i += 1) {
      const g = groups[rng.next() < 0.3 ? favourite : rng.pickWeighted(groupWeights)]!;
      const sku = Math.floor(rng.next() * g.skus);
      const price = Math.max(1_000, Math.round(g.price * (0.5 + (sku % 10) / 10) / 100) * 100 - 10);
      const qty = g.weighed ? 300 + Math.floor(rng.next() * 1_500) : rng.next() < 0.8 ? 1_000 : 2_000;
      lines.push({ sku: `${g.id}-${String(sku).padStart(3, "0")}`, grp: g.id, qty, price, amt: Math.round((price * qty) / 1000) });
    }
    return lines;
  };

  let nextCard = 0;
  for (let d = startDay; d < endDay; d += 1) {
    const dayIndex = d - startDay;
    const start = dayStart(d);
    const factor = weekdayFactor[localWeekday(start, tz)]! * seasonalFactor(start + 12 * 3_600_000, tz);
    // Monthly tier re-evaluation at the start of each local month, as the scheduler would do.
    if (dayIndex > 0 && localMonthIndex(start - 1, tz) !== localMonthIndex(start, tz)) await reevaluateTiers(start);

    const joining = joiningOn.get(dayIndex) ?? [];
    const registered = joining.filter((i) => i < options.customers);
    for (let c = 0; c < joining.length; c += 1_000) {
      const chunk = joining.slice(c, c + 1_000);
      await submitAdmin({ a: "cards.issue", merchantId: m, cards: chunk.map((i) => ({ number: shoppers[i]!.card, kind: "bonus" as const })) }, start + 6 * 3_600_000);
      summary.cardsIssued += chunk.length;
      nextCard += chunk.length;
    }
    const events: { at: number; store: number; action: DemoAction }[] = [];
    for (const i of registered) {
      const s = shoppers[i]!;
      const store = stores[s.homeStore]!;
      const far = rng.next() < 0.12;
      const spreadKm = far ? 9 : 1.6;
      const age = 18 + Math.floor(rng.next() * 62);
      const birthYear = new Date(start).getUTCFullYear() - age;
      const first = rng.pick(firstNames);
      const last = rng.pick(lastNames);
      const tags: string[] = [];
      if (groups[s.favourite]!.id === "coffee") tags.push("coffee-lover");
      if (age < 25) tags.push("student");
      if (age >= 65) tags.push("pensioner");
      if (s.basketSize >= 7) tags.push("family");
      events.push({
        at: start + clampMinute(purchaseMinute(rng)) * 60_000 - 1, store: s.homeStore, action: {
          k: "register", card: s.card, phone: `79${String(100_000_000 + i).slice(1)}`, firstName: first, lastName: last,
          email: `${first.toLowerCase()}.${last.toLowerCase()}${i}@example.com`,
          birthDate: `${birthYear}-${String(1 + Math.floor(rng.next() * 12)).padStart(2, "0")}-${String(1 + Math.floor(rng.next() * 28)).padStart(2, "0")}`,
          consentSms: rng.next() < 0.7, consentEmail: rng.next() < 0.45, tags,
          homeLatE6: Math.round(store.latE6 + rng.normal(0, spreadKm / 111.32) * 1e6),
          homeLonE6: Math.round(store.lonE6 + rng.normal(0, spreadKm / (111.32 * Math.cos((city.lat * Math.PI) / 180))) * 1e6),
        },
      });
    }
    // Member purchases: each shopper buys with probability rate × factor, mostly at the home store.
    for (let i = 0; i < nextCard; i += 1) {
      const s = shoppers[i]!;
      if (dayIndex < s.joinDay || dayIndex > s.leaveDay) continue;
      if (rng.next() >= s.rate * factor) continue;
      const store = rng.next() < 0.8 ? s.homeStore : rng.pickWeighted(storePopularity);
      const size = Math.max(1, Math.round(rng.normal(s.basketSize, 2)));
      events.push({ at: start + clampMinute(purchaseMinute(rng)) * 60_000 + Math.floor(rng.next() * 60_000), store, action: {
        k: "sale", card: s.card, lines: basket(size, s.favourite), redeem: s.redeemer && rng.next() < 0.3, receipt: "",
      } });
    }
    // Walk-in customers without a card.
    for (let st = 0; st < storeCount; st += 1) {
      const n = rng.poisson(walkInsPerStoreDay * factor * storePopularity[st]!);
      for (let k = 0; k < n; k += 1) {
        events.push({ at: start + clampMinute(purchaseMinute(rng)) * 60_000 + Math.floor(rng.next() * 60_000), store: st, action: {
          k: "sale", card: "", lines: basket(1 + Math.floor(rng.next() * 6), rng.pickWeighted(groupWeights)), redeem: false, receipt: "",
        } });
      }
    }
    // Returns of earlier purchases, at the store they were bought in.
    for (const r of refundsDue.get(d) ?? []) {
      const full = rng.next() < 0.5 || r.lineQty.length === 1;
      const index = Math.floor(rng.next() * r.lineQty.length);
      events.push({ at: start + clampMinute(11 * 60 + Math.floor(rng.next() * 8 * 60)) * 60_000, store: r.store, action: {
        k: "refund", check: r.check, full, lines: full ? [] : [{ index, qty: r.lineQty[index]! }],
      } });
    }
    refundsDue.delete(d);
    // Stable order by time (ties keep generation order): items must be non-decreasing in time.
    const order = events.map((e, i) => i).sort((a, b) => events[a]!.at - events[b]!.at || a - b);
    for (const i of order) {
      const e = events[i]!;
      if (e.action.k === "sale") {
        receipt += 1;
        summary.sales += 1;
        if (e.action.card) summary.memberSales += 1;
        e.action.receipt = `R${receipt}`;
      } else if (e.action.k === "refund") {
        summary.refunds += 1;
      } else {
        summary.registrations += 1;
      }
      const comesBack = e.action.k === "sale" && rng.next() < refundShare;
      await add({ at: e.at, s: stores[e.store]!.id, term: terminalOf(e.store), cash: `cashier-${1 + Math.floor(rng.next() * 4)}`, action: e.action }, comesBack);
    }
    await flush(order.length > 0 ? events[order[order.length - 1]!]!.at : start);
    await expireLots(start + dayMs);
    deps.onProgress?.(dayIndex + 1, days, summary);
  }
  await reevaluateTiers(options.end);
  return summary;

  /** The scheduler's expiry job at `now`: every lot of this merchant due by then. */
  async function expireLots(now: number): Promise<void> {
    const due = `${key.timePrefix(now)}`;
    const prefix = key.due(dueKinds.lots, "");
    let after: string | undefined;
    for (;;) {
      const keys = deps.scanKeys("due", prefix, maintenanceBatchMax, after);
      const mine = keys.map((k) => k.slice(prefix.length)).filter((k) => k <= due && k.slice(16, 16 + m.length + 1) === `${m}/`);
      if (mine.length > 0) {
        summary.commands += 1;
        summary.expiryRuns += 1;
        await deps.submit({ t: "maint", job: "expire-lots", keys: mine }, now);
      }
      if (keys.length < maintenanceBatchMax || keys[keys.length - 1]!.slice(prefix.length) > due) return;
      after = keys[keys.length - 1];
    }
  }

  async function reevaluateTiers(now: number): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const keys = deps.scanKeys("accounts", `${m}/`, maintenanceBatchMax, after);
      if (keys.length === 0) return;
      summary.commands += 1;
      await deps.submit({ t: "maint", job: "reevaluate-tiers", keys }, now);
      if (keys.length < maintenanceBatchMax) return;
      after = keys[keys.length - 1];
      await deps.yieldNow();
    }
  }
}

/** The engine refused a generated command: a bug in the generator or an existing merchant id. */
export class DemoRefusedError extends Error {
  override name = "DemoRefusedError";
}
