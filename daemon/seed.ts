// The demo merchant a new installation starts with, so a POS can connect at
// once: three stores in Moscow with real coordinates, four terminals, product
// groups with the usual exclusions, three tiers, a few promotions, bonus,
// discount and gift cards, and customers. Everything is created with admin
// commands through the engine (journaled like any change).
//
// Terminal secrets are random and shown once: written to
// <data>/demo-credentials.json (mode 0600) for the example client and tests,
// and never logged.
import { randomBytes, createHash } from "node:crypto";
import type { AdminAction } from "./engine/admin.js";
import type { CustomerRecord, Program, Promotion, RulesVersion } from "./engine/model.js";

const day = 86_400_000;

/** Appends the Luhn check digit to a numeric prefix. */
export function withCheckDigit(prefix: string): string {
  let sum = 0;
  for (let i = 0; i < prefix.length; i += 1) {
    let d = prefix.charCodeAt(prefix.length - 1 - i) - 48;
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return prefix + String((10 - (sum % 10)) % 10);
}

export function hashSecret(salt: string, secret: string): string {
  return createHash("sha256").update(salt).update("\u0000").update(secret).digest("hex");
}

export const demoMerchantId = "demo";

export const demoProgram: Program = {
  pointValueMinor: 100,
  redeemCapBp: 5_000,
  activationDelayMs: 14 * day,
  lotLifetimeMs: 365 * day,
  expiryRounding: "day",
  holdTtlMs: 15 * 60_000,
  welcomePoints: 100,
  expiringSoonMs: 30 * day,
  noEarnGroups: ["tobacco", "gift-cards"],
  noRedeemGroups: ["tobacco", "alcohol", "gift-cards"],
  tiers: [
    { id: "bronze", name: "Bronze", spendMinMinor: 0, accrualBp: 300, discountBp: 300 },
    { id: "silver", name: "Silver", spendMinMinor: 2_000_000, accrualBp: 500, discountBp: 500 },
    { id: "gold", name: "Gold", spendMinMinor: 5_000_000, accrualBp: 700, discountBp: 700 },
  ],
  phoneIdentify: true,
  giftLifetimeMs: 365 * day,
};

export const demoPromotions: Promotion[] = [
  {
    id: "coffee-monday", name: "Coffee Monday", priority: 10, exclusive: false, validFrom: 0, validTo: Number.MAX_SAFE_INTEGER,
    conditions: { groups: ["coffee"], weekdays: [1] }, effect: { kind: "points_multiplier", multiplierPct: 200 },
  },
  {
    id: "dairy-5", name: "Dairy 5% off", priority: 5, exclusive: false, validFrom: 0, validTo: Number.MAX_SAFE_INTEGER,
    conditions: { groups: ["dairy"] }, effect: { kind: "percent_discount", bp: 500 },
  },
  {
    id: "breakfast", name: "Breakfast bundle", priority: 15, exclusive: false, validFrom: 0, validTo: Number.MAX_SAFE_INTEGER,
    conditions: { bundle: ["coffee", "bakery"] }, effect: { kind: "percent_discount", bp: 1_000 },
  },
  {
    id: "birthday", name: "Happy birthday", priority: 20, exclusive: false, validFrom: 0, validTo: Number.MAX_SAFE_INTEGER,
    conditions: { birthdayWindowDays: 3, membersOnly: true }, effect: { kind: "fixed_points", points: 200 },
  },
];

export interface DemoSeed {
  actions: AdminAction[];
  credentials: {
    merchantId: string;
    terminals: { terminalId: string; storeId: string; secret: string }[];
    cards: { cardNumber: string; kind: "bonus" | "discount" | "gift"; phone?: string }[];
  };
}

/** Builds the demo set-up. `random` supplies secret bytes (tests pass a seeded source). */
export function demoSeed(now: number, random: (bytes: number) => Buffer = randomBytes): DemoSeed {
  const m = demoMerchantId;
  const actions: AdminAction[] = [];
  actions.push({ a: "merchant.put", merchant: { id: m, name: "Demo Market", tzOffsetMin: 180, currency: "RUB", createdAt: now } });
  const stores = [
    { id: "msk-tverskaya", name: "Tverskaya 12", region: "moscow", latE6: 55_764_900, lonE6: 37_605_600 },
    { id: "msk-arbat", name: "Arbat 24", region: "moscow", latE6: 55_749_800, lonE6: 37_591_400 },
    { id: "khimki-central", name: "Khimki, Leningradskaya 1", region: "moscow-oblast", latE6: 55_897_000, lonE6: 37_429_700 },
  ];
  for (const s of stores) actions.push({ a: "store.put", store: { ...s, merchantId: m } });

  const terminals = [
    { terminalId: "pos-tverskaya-1", storeId: "msk-tverskaya" },
    { terminalId: "pos-tverskaya-2", storeId: "msk-tverskaya" },
    { terminalId: "pos-arbat-1", storeId: "msk-arbat" },
    { terminalId: "pos-khimki-1", storeId: "khimki-central" },
  ];
  const credentials: DemoSeed["credentials"] = { merchantId: m, terminals: [], cards: [] };
  for (const t of terminals) {
    const secret = random(32).toString("base64url");
    const salt = random(16).toString("hex");
    actions.push({ a: "terminal.put", terminal: { id: t.terminalId, merchantId: m, storeId: t.storeId, salt, secretHash: hashSecret(salt, secret), disabled: false } });
    credentials.terminals.push({ ...t, secret });
  }

  const version: RulesVersion = { from: 0, program: demoProgram, promotions: demoPromotions };
  actions.push({ a: "rules.publish", merchantId: m, version });

  const bonus = Array.from({ length: 10 }, (_, i) => withCheckDigit(`27700000000${String(i + 1).padStart(4, "0")}`));
  const discount = Array.from({ length: 2 }, (_, i) => withCheckDigit(`27710000000${String(i + 1).padStart(4, "0")}`));
  const gift = Array.from({ length: 3 }, (_, i) => withCheckDigit(`27790000000${String(i + 1).padStart(4, "0")}`));
  actions.push({
    a: "cards.issue", merchantId: m, cards: [
      ...bonus.map((number, i) => ({ number, kind: "bonus" as const, token: `demo-token-${i + 1}` })),
      ...discount.map((number) => ({ number, kind: "discount" as const, discountBp: 500 })),
      ...gift.map((number) => ({ number, kind: "gift" as const })),
    ],
  });
  const people = [
    ["Ivan", "Petrov", "1985-03-14"], ["Maria", "Sokolova", "1990-11-02"], ["Alexey", "Smirnov", "1978-07-21"],
    ["Olga", "Ivanova", "1995-01-30"], ["Dmitry", "Kuznetsov", "1982-09-09"],
  ] as const;
  people.forEach(([firstName, lastName, birthDate], i) => {
    const phone = `7916000000${i}`;
    const customer: CustomerRecord = {
      id: `D${i + 1}`, phone, firstName, lastName, email: `${firstName.toLowerCase()}@example.com`, birthDate,
      consentSms: true, consentEmail: i % 2 === 0, tags: i < 2 ? ["coffee-lover"] : [], homeLatE6: 55_750_000 + i * 7_000,
      homeLonE6: 37_600_000 - i * 9_000, createdAt: now, cards: [bonus[i]!],
    };
    actions.push({ a: "customer.put", merchantId: m, customer });
    actions.push({ a: "points.adjust", merchantId: m, cardNumber: bonus[i]!, points: 500 + i * 250, reason: "demo opening balance" });
  });
  for (const [i, n] of bonus.entries()) credentials.cards.push(i < people.length ? { cardNumber: n, kind: "bonus", phone: `7916000000${i}` } : { cardNumber: n, kind: "bonus" });
  for (const n of discount) credentials.cards.push({ cardNumber: n, kind: "discount" });
  for (const n of gift) credentials.cards.push({ cardNumber: n, kind: "gift" });
  return { actions, credentials };
}
