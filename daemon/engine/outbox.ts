// Customer notifications, engine side (SPEC C2): an outbox written in the same
// command as the balance change it reports, so an event exists exactly when
// its change does (a decline, a retried operation or a replay never adds one
// twice, and no change is ever left without its event).
//
// What it owns:
// - the merchant's notification settings (`meta` under `<merchant>/notify`):
//   webhook URL, the secret that signs deliveries, enabled event kinds,
//   templates per channel (sms, email), retry limits;
// - the outbox (`outbox` table): pending events under `p/<merchant>/<seq>`,
//   dead letters under `d/<merchant>/<seq>`, where seq is a merchant-wide
//   sequence (fixed width), so a key-order scan is delivery order; the
//   dedup key a receiver sees is `<merchant>:<seq>`;
// - the counters (`meta` under `<merchant>/outbox`): last seq, pending and
//   dead-letter counts, so metrics never count by scanning;
// - `applyNotify`: the journaled outcome of delivery attempts (delivered,
//   retry at a time, dead letter). The delivery loop (daemon/notify/) decides
//   and sends them; this file only records them, so replicas and replays
//   agree on what is still pending.
//
// An event is written only when the merchant has notifications enabled for
// its kind, the card belongs to a customer, and the customer consented to the
// channel that has a template for the kind: one event per such channel. The
// message is rendered here, so later template changes never alter a pending
// event. Events carry the masked card number and the customer id, never the
// full number, phone or e-mail (the merchant's gateway resolves the customer).
import { assert } from "../assert.js";
import { maskCardNumber } from "../observability/mask.js";
import type { PosContext } from "./common.js";
import { attempt, bool, fail, int, list, object, text, type Obj } from "./fields.js";
import type { Account, CardRecord, CheckRecord, CustomerRecord, StoreRecord } from "./model.js";
import { key } from "./model.js";
import type { Tx } from "./tx.js";

export const notifyKinds = ["accrual", "redemption", "refund", "welcome", "gift_activation", "gift_tender", "campaign"] as const;
export type NotifyKind = (typeof notifyKinds)[number];
export const notifyChannels = ["sms", "email"] as const;
export type NotifyChannel = (typeof notifyChannels)[number];

/** Placeholders a template may use; an unknown one is refused when settings are saved. */
export const templatePlaceholders = ["firstName", "points", "balance", "amount", "giftBalance", "store", "card", "check"] as const;

export interface NotifySettings {
  enabled: boolean;
  /** http(s) URL the delivery loop POSTs each event to. */
  webhookUrl: string;
  /** Signs each delivery (HMAC-SHA256). Journaled because a promoted replica must sign too; never logged or shown back. */
  secret: string;
  events: NotifyKind[];
  templates: Record<NotifyChannel, Partial<Record<NotifyKind, string>>>;
  /** An event becomes a dead letter after this many failed attempts… */
  maxAttempts: number;
  /** …or once a failed attempt finds it older than this. */
  maxAgeMs: number;
  /** Backoff before the n-th retry: min(cap, base × 2^(n-1)), with jitter. */
  retryBaseMs: number;
  retryCapMs: number;
  /** One delivery attempt may take this long. */
  timeoutMs: number;
}

export interface OutboxEvent {
  /** Dedup key sent as Idempotency-Key: `<merchant>:<seq>`. */
  id: string;
  m: string;
  seq: number;
  kind: NotifyKind;
  channel: NotifyChannel;
  at: number;
  customerId: string;
  /** Masked card number. */
  card: string;
  points: number;
  /** Points balance after the change (bonus cards). */
  balance: number;
  amountMinor: number;
  giftBalanceMinor: number;
  checkId: string;
  storeId: string;
  message: string;
  /** Delivery state: failed attempts so far, no attempt before `nextAt`, the last failure. */
  attempts: number;
  nextAt: number;
  error: string;
  /** Dead letters: when it gave up. */
  deadAt?: number;
}

export interface OutboxCounters {
  seq: number;
  pending: number;
  dead: number;
}

/** What happened to one event in a delivery attempt, as decided by the delivery loop. */
export type DeliveryResult =
  | { seq: number; r: "ok" }
  | { seq: number; r: "retry"; nextAt: number; error: string }
  | { seq: number; r: "dead"; error: string };

/** The journaled outcome of a round of delivery attempts for one merchant. */
export interface NotifyCommand {
  t: "notify";
  m: string;
  results: DeliveryResult[];
}

/** Outcomes one command may carry: bounds the work of one apply. */
export const notifyBatchMax = 200;
const templateLengthMax = 1_000;
const errorLengthMax = 200;

export const defaultNotifyLimits = {
  maxAttempts: 12,
  maxAgeMs: 24 * 3_600_000,
  retryBaseMs: 1_000,
  retryCapMs: 5 * 60_000,
  timeoutMs: 5_000,
} as const;

export const outboxKey = {
  settings: (m: string) => `${m}/notify`,
  counters: (m: string) => `${m}/outbox`,
  pendingOf: (m: string) => `p/${m}/`,
  deadOf: (m: string) => `d/${m}/`,
  pending: (m: string, seq: number) => `p/${m}/${String(seq).padStart(12, "0")}`,
  dead: (m: string, seq: number) => `d/${m}/${String(seq).padStart(12, "0")}`,
};

export function dedupKey(m: string, seq: number): string {
  return `${m}:${seq}`;
}

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

const settingsFields = ["enabled", "webhookUrl", "secret", "events", "templates", "maxAttempts", "maxAgeMs", "retryBaseMs", "retryCapMs", "timeoutMs"] as const;

function webhookUrl(v: unknown, field: string): string {
  const raw = text(v, field, 2_000);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(field, "must be an absolute http:// or https:// URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail(field, "must be an http:// or https:// URL");
  if (url.username || url.password) fail(field, "must not carry credentials; the secret signs each request instead");
  return raw;
}

function kind(v: unknown, field: string): NotifyKind {
  if (typeof v !== "string" || !(notifyKinds as readonly string[]).includes(v)) fail(field, `must be one of: ${notifyKinds.join(", ")}`);
  return v as NotifyKind;
}

function template(v: unknown, field: string): string {
  const t = text(v, field, templateLengthMax);
  for (const match of t.matchAll(/\{([^{}]*)\}/g)) {
    if (!(templatePlaceholders as readonly string[]).includes(match[1]!)) {
      fail(field, `unknown placeholder {${match[1]}} (known: ${templatePlaceholders.map((p) => `{${p}}`).join(" ")})`);
    }
  }
  return t;
}

function templates(v: unknown, field: string): NotifySettings["templates"] {
  const o = object(v, field, notifyChannels);
  const out: NotifySettings["templates"] = { sms: {}, email: {} };
  for (const channel of notifyChannels) {
    if (o[channel] === undefined) continue;
    const perKind = object(o[channel], `${field}.${channel}`, notifyKinds);
    for (const k of notifyKinds) if (perKind[k] !== undefined) out[channel][k] = template(perKind[k], `${field}.${channel}.${k}`);
  }
  return out;
}

/**
 * Checks complete settings (the admin channel merges a patch over the current
 * ones first). Throws a FieldError naming the bad field. parse(parse(x)) is
 * parse(x), so the engine can check again what the admin channel checked.
 */
export function parseNotifySettings(v: unknown): NotifySettings {
  const o: Obj = object(v, "", settingsFields);
  const events = list(o.events, "events", notifyKinds.length, kind);
  if (new Set(events).size !== events.length) fail("events", "lists a kind twice");
  const settings: NotifySettings = {
    enabled: bool(o.enabled ?? true, "enabled"),
    webhookUrl: webhookUrl(o.webhookUrl, "webhookUrl"),
    secret: text(o.secret, "secret", 256),
    events,
    templates: templates(o.templates ?? {}, "templates"),
    maxAttempts: int(o.maxAttempts ?? defaultNotifyLimits.maxAttempts, "maxAttempts", 1, 1_000),
    maxAgeMs: int(o.maxAgeMs ?? defaultNotifyLimits.maxAgeMs, "maxAgeMs", 1_000, 30 * 86_400_000),
    retryBaseMs: int(o.retryBaseMs ?? defaultNotifyLimits.retryBaseMs, "retryBaseMs", 10, 3_600_000),
    retryCapMs: int(o.retryCapMs ?? defaultNotifyLimits.retryCapMs, "retryCapMs", 10, 86_400_000),
    timeoutMs: int(o.timeoutMs ?? defaultNotifyLimits.timeoutMs, "timeoutMs", 100, 60_000),
  };
  if (settings.secret.length < 16) fail("secret", "must be at least 16 characters (it signs every delivery)");
  if (settings.retryCapMs < settings.retryBaseMs) fail("retryCapMs", "must not be below retryBaseMs");
  for (const k of events) {
    // A campaign brings its own text (admin-cli campaign run --message).
    if (k !== "campaign" && !notifyChannels.some((c) => settings.templates[c][k] !== undefined)) fail("templates", `event ${k} is enabled but has no sms or email template`);
  }
  return settings;
}

/** Applies the `notify.settings` admin action: the settings are checked again here, as rules are. */
export function saveNotifySettings(tx: Tx, merchantId: string, settings: NotifySettings): { ok: true } | { ok: false; field: string; message: string } {
  const parsed = attempt(() => parseNotifySettings(settings));
  if ("ok" in parsed) return { ok: false, field: parsed.problem.field, message: `${parsed.problem.field}: ${parsed.problem.message}` };
  tx.put("meta", outboxKey.settings(merchantId), parsed);
  return { ok: true };
}

/** For audit summaries and logs: the webhook's origin only (a path or query may hold a token). */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}

// ---------------------------------------------------------------------------
// Writing events
// ---------------------------------------------------------------------------

/** What a balance change tells the customer; `card` is the full number (masked before it is stored). */
export interface NotifyFacts {
  kind: NotifyKind;
  card: string;
  /** The customer to notify; absent: the card's holder. */
  customerId?: string;
  points?: number;
  amountMinor?: number;
  giftBalanceMinor?: number;
  checkId?: string;
  storeId: string;
}

/** Integer minor units as "123.45" (no floats). */
function moneyText(minor: number): string {
  const abs = Math.abs(minor);
  return `${minor < 0 ? "-" : ""}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

function render(t: string, values: Record<(typeof templatePlaceholders)[number], string>): string {
  return t.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? values[name as keyof typeof values] : whole));
}

/**
 * Writes the events one change gives rise to (see the module comment for
 * when). Returns how many. One point read when the merchant has no settings.
 */
export function notify(tx: Tx, merchantId: string, facts: NotifyFacts, now: number): number {
  const settings = tx.get<NotifySettings>("meta", outboxKey.settings(merchantId));
  if (!settings?.enabled || !settings.events.includes(facts.kind)) return 0;
  const card = tx.get<CardRecord>("cards", key.card(merchantId, facts.card));
  const customerId = facts.customerId ?? card?.customerId;
  const customer = customerId ? tx.get<CustomerRecord>("customers", key.customer(merchantId, customerId)) : undefined;
  if (!customer) return 0;
  const channels = notifyChannels.filter((c) => settings.templates[c][facts.kind] !== undefined && (c === "sms" ? customer.consentSms : customer.consentEmail));
  if (channels.length === 0) return 0;
  const account = card?.kind === "bonus" ? tx.get<Account>("accounts", key.card(merchantId, facts.card)) : undefined;
  const store = tx.get<StoreRecord>("stores", key.store(merchantId, facts.storeId));
  const balance = account?.bal ?? 0;
  const values = {
    firstName: customer.firstName, points: String(facts.points ?? 0), balance: String(balance), amount: moneyText(facts.amountMinor ?? 0),
    giftBalance: moneyText(facts.giftBalanceMinor ?? 0), store: store?.name ?? facts.storeId, card: maskCardNumber(facts.card), check: facts.checkId ?? "",
  };
  writeEvents(tx, merchantId, customer, channels, now, (channel) => ({
    kind: facts.kind, card: values.card, points: facts.points ?? 0, balance, amountMinor: facts.amountMinor ?? 0,
    giftBalanceMinor: facts.giftBalanceMinor ?? 0, checkId: facts.checkId ?? "", storeId: facts.storeId, message: render(settings.templates[channel][facts.kind]!, values),
  }));
  return channels.length;
}

type EventFields = Pick<OutboxEvent, "kind" | "card" | "points" | "balance" | "amountMinor" | "giftBalanceMinor" | "checkId" | "storeId" | "message">;

/** Appends one pending event per channel, in the merchant's order. */
function writeEvents(tx: Tx, merchantId: string, customer: CustomerRecord, channels: readonly NotifyChannel[], now: number, fields: (channel: NotifyChannel) => EventFields): void {
  const counters = tx.get<OutboxCounters>("meta", outboxKey.counters(merchantId)) ?? { seq: 0, pending: 0, dead: 0 };
  let seq = counters.seq;
  for (const channel of channels) {
    seq += 1;
    const event: OutboxEvent = { id: dedupKey(merchantId, seq), m: merchantId, seq, channel, at: now, customerId: customer.id, ...fields(channel), attempts: 0, nextAt: now, error: "" };
    tx.put("outbox", outboxKey.pending(merchantId, seq), event);
  }
  tx.put("meta", outboxKey.counters(merchantId), { seq, pending: counters.pending + channels.length, dead: counters.dead } satisfies OutboxCounters);
}

/**
 * A campaign message (SPEC C3) to one customer, on every channel they
 * consented to, when the merchant has notifications on with "campaign"
 * among its events. `{firstName}` in the text is filled in. Returns how
 * many events were written.
 */
export function notifyMessage(tx: Tx, merchantId: string, customerId: string, text: string, now: number): number {
  const settings = tx.get<NotifySettings>("meta", outboxKey.settings(merchantId));
  if (!settings?.enabled || !settings.events.includes("campaign")) return 0;
  const customer = tx.get<CustomerRecord>("customers", key.customer(merchantId, customerId));
  if (!customer) return 0;
  const channels = notifyChannels.filter((c) => (c === "sms" ? customer.consentSms : customer.consentEmail));
  const card = customer.cards[0] ?? "";
  const values = { firstName: customer.firstName, points: "0", balance: "0", amount: "0.00", giftBalance: "0.00", store: "", card: card ? maskCardNumber(card) : "", check: "" };
  writeEvents(tx, merchantId, customer, channels, now, () => ({
    kind: "campaign", card: values.card, points: 0, balance: 0, amountMinor: 0, giftBalanceMinor: 0, checkId: "", storeId: "", message: render(text, values),
  }));
  return channels.length;
}

/** Confirm and offline posting: points accrued and redeemed, gift-card tender (to the check's customer). */
export function notifyCheck(tx: Tx, ctx: PosContext, check: CheckRecord, now: number): void {
  const m = ctx.merchantId;
  // The common case on the POS hot path: no notifications, one point read.
  if (!tx.get<NotifySettings>("meta", outboxKey.settings(m))?.enabled) return;
  const base = { storeId: ctx.storeId, checkId: check.id };
  if (check.card && check.redeem > 0) notify(tx, m, { ...base, kind: "redemption", card: check.card, points: check.redeem, amountMinor: check.redeemMinor }, now);
  if (check.card && check.accrue > 0) notify(tx, m, { ...base, kind: "accrual", card: check.card, points: check.accrue, amountMinor: check.total - check.discount }, now);
  const holder = check.card ? tx.get<CardRecord>("cards", key.card(m, check.card))?.customerId : undefined;
  for (const g of check.gift) {
    const gift = tx.get<CardRecord>("cards", key.card(m, g.card));
    const customerId = gift?.customerId ?? holder;
    if (customerId) notify(tx, m, { ...base, kind: "gift_tender", card: g.card, customerId, amountMinor: g.amt, giftBalanceMinor: gift?.giftBalanceMinor ?? 0 }, now);
  }
}

/** A refund: the net points change (returned minus reversed) and the money refunded. */
export function notifyRefund(tx: Tx, ctx: PosContext, check: CheckRecord, pointsNet: number, moneyMinor: number, now: number): void {
  if (check.card) notify(tx, ctx.merchantId, { kind: "refund", card: check.card, points: pointsNet, amountMinor: moneyMinor, checkId: check.id, storeId: ctx.storeId }, now);
}

/** Registration: the welcome bonus. */
export function notifyWelcome(tx: Tx, ctx: PosContext, cardNumber: string, points: number, now: number): void {
  if (points > 0) notify(tx, ctx.merchantId, { kind: "welcome", card: cardNumber, points, storeId: ctx.storeId }, now);
}

/** Gift-card activation: only a card with a holder has someone to tell. */
export function notifyGiftActivation(tx: Tx, ctx: PosContext, cardNumber: string, amountMinor: number, now: number): void {
  notify(tx, ctx.merchantId, { kind: "gift_activation", card: cardNumber, amountMinor, giftBalanceMinor: amountMinor, storeId: ctx.storeId }, now);
}

// ---------------------------------------------------------------------------
// Delivery outcomes (journaled)
// ---------------------------------------------------------------------------

/**
 * Records what the delivery loop did. An outcome for an event that is no
 * longer pending (delivered by an earlier command, e.g. before a restart)
 * is ignored: deliveries are at-least-once, recording them is idempotent.
 */
export function applyNotify(tx: Tx, cmd: NotifyCommand, now: number): { done: number } {
  assert(cmd.results.length <= notifyBatchMax, "notify batch too large");
  const m = cmd.m;
  const countersKey = outboxKey.counters(m);
  const counters = tx.get<OutboxCounters>("meta", countersKey);
  if (!counters) return { done: 0 };
  let { pending, dead } = counters;
  let done = 0;
  for (const result of cmd.results) {
    const k = outboxKey.pending(m, result.seq);
    const event = tx.get<OutboxEvent>("outbox", k);
    if (!event) continue;
    done += 1;
    if (result.r === "ok") {
      tx.del("outbox", k);
      pending -= 1;
    } else if (result.r === "retry") {
      tx.put("outbox", k, { ...event, attempts: event.attempts + 1, nextAt: result.nextAt, error: result.error.slice(0, errorLengthMax) } satisfies OutboxEvent);
    } else {
      tx.del("outbox", k);
      tx.put("outbox", outboxKey.dead(m, result.seq), {
        ...event, attempts: event.attempts + 1, error: result.error.slice(0, errorLengthMax), deadAt: now,
      } satisfies OutboxEvent);
      pending -= 1;
      dead += 1;
    }
  }
  assert(pending >= 0, "outbox pending count below zero");
  if (done > 0) tx.put("meta", countersKey, { seq: counters.seq, pending, dead } satisfies OutboxCounters);
  return { done };
}

/** Whether a failed attempt (the event's `attempts`-th including this one) is the last: too many, or too old. */
export function isExhausted(event: OutboxEvent, settings: Pick<NotifySettings, "maxAttempts" | "maxAgeMs">, now: number): boolean {
  return event.attempts + 1 >= settings.maxAttempts || now - event.at >= settings.maxAgeMs;
}

/**
 * Puts dead letters back in the queue (after the receiver was fixed): each
 * becomes pending again with no failed attempts, due now, under its own seq
 * and dedup key (a receiver that did get it once deduplicates it).
 * Returns how many were requeued.
 */
export function requeueDead(tx: Tx, merchantId: string, seqs: readonly number[], now: number): number {
  let moved = 0;
  for (const seq of seqs) {
    const dead = tx.get<OutboxEvent>("outbox", outboxKey.dead(merchantId, seq));
    if (!dead) continue;
    const { deadAt: _, ...event } = dead;
    tx.del("outbox", outboxKey.dead(merchantId, seq));
    tx.put("outbox", outboxKey.pending(merchantId, seq), { ...event, attempts: 0, nextAt: now, error: "" } satisfies OutboxEvent);
    moved += 1;
  }
  if (moved > 0) {
    const c = tx.get<OutboxCounters>("meta", outboxKey.counters(merchantId)) ?? { seq: 0, pending: 0, dead: 0 };
    tx.put("meta", outboxKey.counters(merchantId), { ...c, pending: c.pending + moved, dead: c.dead - moved } satisfies OutboxCounters);
  }
  return moved;
}

