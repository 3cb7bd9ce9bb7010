// Admin commands: merchants, stores, terminals, rules, cards, customers,
// adjustments, admin users, and audit notes for read-only admin calls. The
// demo seed and the admin channel (daemon/admin/) send them. Like POS
// operations they are journaled and replayed, so anything random (secret
// salts and hashes, card tokens) is decided by the caller and arrives inside
// the command.
//
// Every admin command, whether it succeeds or not, leaves an audit record
// (who, what, when, outcome) in the `audit` table in the same transaction:
// the action's own writes are buffered and dropped if it fails, the audit
// record stays. Audit summaries mask card numbers and phones.
import { assert } from "../assert.js";
import { maskCardNumber, maskPhone } from "../observability/mask.js";
import { addLot, consume, newAccount, pointsView } from "./account.js";
import { indexExpiry, nextId } from "./checkout.js";
import { BufferTx, appendLedger, ledgerItem, luhnValid, normalizePhone } from "./common.js";
import type {
  Account, CardKind, CardRecord, CustomerRecord, MerchantRecord, Program, RulesRecord, RulesVersion, StoreRecord, TerminalRecord,
} from "./model.js";
import { key } from "./model.js";
import { saveNotifySettings, webhookOrigin, type NotifySettings } from "./outbox.js";
import { checkRulesVersion } from "./rules-validate.js";
import { normalizeCouponCode, type CouponRecord } from "./coupons.js";
import type { DrawRecord } from "./draw.js";
import type { OffersRecord } from "./offers.js";
import { notifyMessage, requeueDead } from "./outbox.js";
import { roundExpiry } from "./rules.js";
import type { Tx } from "./tx.js";

/** A person or system allowed on the admin channel. The secret is stored hashed, like a terminal's. */
export interface AdminUserRecord {
  name: string;
  salt: string;
  secretHash: string;
  disabled: boolean;
  createdAt: number;
}

/** One audited admin call. */
export interface AuditRecord {
  at: number;
  actor: string;
  action: string;
  /** What it was about, with card numbers and phones masked. */
  summary: string;
  ok: boolean;
  message: string;
}

/** A card of a CSV import, already parsed by the caller; `line` is its line number in the file. */
export interface ImportRow {
  line: number;
  number: string;
  kind: CardKind;
  discountBp?: number;
  token?: string;
  customer?: Pick<CustomerRecord, "phone" | "firstName" | "lastName" | "email" | "birthDate" | "consentSms" | "consentEmail" | "tags">;
}

export type AdminAction =
  | { a: "merchant.put"; merchant: MerchantRecord }
  | { a: "store.put"; store: StoreRecord }
  | { a: "terminal.put"; terminal: TerminalRecord }
  | { a: "terminal.secret"; terminalId: string; salt: string; secretHash: string }
  | { a: "terminal.disabled"; terminalId: string; disabled: boolean }
  | { a: "rules.publish"; merchantId: string; version: RulesVersion }
  | { a: "cards.issue"; merchantId: string; cards: { number: string; kind: CardKind; discountBp?: number; token?: string }[] }
  | { a: "cards.import"; merchantId: string; rows: ImportRow[] }
  | { a: "customer.put"; merchantId: string; customer: CustomerRecord }
  | { a: "points.adjust"; merchantId: string; cardNumber: string; points: number; reason: string }
  | { a: "card.status"; merchantId: string; cardNumber: string; status: "active" | "blocked"; reason: string }
  | { a: "card.replace"; merchantId: string; from: string; to: string; reason: string }
  | { a: "admin.put"; user: AdminUserRecord }
  | { a: "offers.set"; merchantId: string; offers: OffersRecord }
  | { a: "coupons.issue"; merchantId: string; batch: Omit<CouponRecord, "code" | "used" | "holds">; codes: string[] }
  | { a: "customers.tag"; merchantId: string; customerIds: string[]; tag: string }
  | { a: "notify.requeue"; merchantId: string; seqs: number[] }
  | { a: "campaign.send"; merchantId: string; campaignId: string; customerIds: string[]; message: string }
  | { a: "draw.award"; merchantId: string; draw: Omit<DrawRecord, "at" | "actor"> }
  | { a: "notify.settings"; merchantId: string; settings: NotifySettings }
  | { a: "audit.note"; what: string; summary: string };

export interface AdminCommand {
  t: "admin";
  /** Who did it (an admin user's name, "seed" or "bootstrap"). */
  actor: string;
  action: AdminAction;
}

/** `unavailable` comes from the service, not the engine: a replica, a fenced primary, or no replica acknowledgement in time. */
export type AdminErrorKind = "invalid" | "not_found" | "conflict" | "unavailable";

export type AdminResult =
  | { ok: true; data?: unknown }
  | { ok: false; kind: AdminErrorKind; message: string; field?: string };

/** Rules versions kept per merchant: enough for offline checks of the last 30 days. */
export const rulesVersionsKeep = 50;
/** Cards one `cards.issue` / `cards.import` command may carry (each writes up to five keys). */
export const cardsPerCommandMax = 1_000;

const ok: AdminResult = { ok: true };
const invalid = (message: string, field?: string): AdminResult => ({ ok: false, kind: "invalid", message, ...(field ? { field } : {}) });
const notFound = (message: string): AdminResult => ({ ok: false, kind: "not_found", message });
const conflict = (message: string): AdminResult => ({ ok: false, kind: "conflict", message });

export function validateProgram(p: Program): string | null {
  const problem = checkRulesVersion({ from: 0, program: p, promotions: [] });
  return problem ? `${problem.field}: ${problem.message}` : null;
}

export function applyAdmin(tx: Tx, cmd: AdminCommand, now: number): AdminResult {
  const buffer = new BufferTx(tx);
  const result = run(buffer, cmd, now);
  if (result.ok) buffer.flushTo(tx);
  const audit: AuditRecord = {
    at: now, actor: cmd.actor, action: cmd.action.a, summary: summarize(cmd.action), ok: result.ok, message: result.ok ? "" : result.message,
  };
  const n = (tx.get<number>("meta", auditCounterKey) ?? 0) + 1;
  tx.put("meta", auditCounterKey, n);
  tx.put("audit", key.audit(now, n), audit);
  return result;
}

const auditCounterKey = "global/audit";

function run(tx: Tx, cmd: AdminCommand, now: number): AdminResult {
  const action = cmd.action;
  switch (action.a) {
    case "merchant.put":
      tx.put("merchants", key.merchant(action.merchant.id), action.merchant);
      return ok;
    case "store.put":
      if (!tx.get("merchants", action.store.merchantId)) return notFound(`unknown merchant ${action.store.merchantId}`);
      tx.put("stores", key.store(action.store.merchantId, action.store.id), action.store);
      return ok;
    case "terminal.put": {
      if (!tx.get("stores", key.store(action.terminal.merchantId, action.terminal.storeId))) return notFound(`unknown store ${action.terminal.storeId}`);
      const existing = tx.get<TerminalRecord>("terminals", action.terminal.id);
      if (existing && existing.merchantId !== action.terminal.merchantId) return conflict("the terminal id belongs to another merchant");
      tx.put("terminals", action.terminal.id, action.terminal);
      return ok;
    }
    case "terminal.secret":
    case "terminal.disabled": {
      const terminal = tx.get<TerminalRecord>("terminals", action.terminalId);
      if (!terminal) return notFound(`unknown terminal ${action.terminalId}`);
      const next: TerminalRecord = action.a === "terminal.secret"
        ? { ...terminal, salt: action.salt, secretHash: action.secretHash }
        : { ...terminal, disabled: action.disabled };
      tx.put("terminals", action.terminalId, next);
      return ok;
    }
    case "rules.publish": {
      if (!tx.get("merchants", action.merchantId)) return notFound(`unknown merchant ${action.merchantId}`);
      const problem = checkRulesVersion(action.version);
      if (problem) return invalid(`${problem.field}: ${problem.message}`, problem.field);
      const current = tx.get<RulesRecord>("rules", action.merchantId) ?? { versions: [] };
      const last = current.versions[current.versions.length - 1];
      if (last && action.version.from < last.from) return invalid("a rules version cannot start before the current one", "from");
      const versions = [...current.versions, action.version].slice(-rulesVersionsKeep);
      tx.put("rules", action.merchantId, { versions } satisfies RulesRecord);
      return ok;
    }
    case "cards.issue": {
      if (!tx.get("merchants", action.merchantId)) return notFound(`unknown merchant ${action.merchantId}`);
      if (action.cards.length > cardsPerCommandMax) return invalid(`at most ${cardsPerCommandMax} cards per command`, "cards");
      for (const c of action.cards) {
        const problem = issueCard(tx, action.merchantId, c, now);
        if (problem) return problem;
      }
      return ok;
    }
    case "cards.import":
      return importCards(tx, action.merchantId, action.rows, now);
    case "customer.put": {
      const m = action.merchantId;
      const c = action.customer;
      const owner = tx.get<string>("cardIndex", key.phone(m, c.phone));
      if (owner !== undefined && !c.cards.includes(owner)) return conflict("phone bound to another card");
      for (const number of c.cards) {
        const card = tx.get<CardRecord>("cards", key.card(m, number));
        if (!card) return notFound(`card ${maskCardNumber(number)} not issued`);
        tx.put("cards", key.card(m, number), { ...card, customerId: c.id, status: card.status === "issued" ? "active" : card.status } satisfies CardRecord);
      }
      if (c.cards[0]) tx.put("cardIndex", key.phone(m, c.phone), c.cards[0]);
      tx.put("customers", key.customer(m, c.id), c);
      return ok;
    }
    case "card.status": {
      const card = tx.get<CardRecord>("cards", key.card(action.merchantId, action.cardNumber));
      if (!card) return notFound("no such card");
      if (!action.reason.trim()) return invalid("a reason is required", "reason");
      // Unblocking returns the card to what it was: active once registered, else issued.
      const status = action.status === "blocked" ? "blocked" : card.customerId ? "active" : "issued";
      tx.put("cards", key.card(action.merchantId, action.cardNumber), { ...card, status } satisfies CardRecord);
      return ok;
    }
    case "points.adjust":
      return adjustPoints(tx, cmd.actor, action, now);
    case "card.replace":
      return replaceCard(tx, cmd.actor, action, now);
    case "admin.put":
      tx.put("admins", action.user.name, action.user);
      return ok;
    case "offers.set":
      if (!tx.get("merchants", action.merchantId)) return notFound(`unknown merchant ${action.merchantId}`);
      tx.put("offers", action.merchantId, action.offers);
      return ok;
    case "coupons.issue": {
      const m = action.merchantId;
      if (!tx.get("merchants", m)) return notFound(`unknown merchant ${m}`);
      if (action.codes.length > cardsPerCommandMax) return invalid(`at most ${cardsPerCommandMax} codes per command`, "codes");
      for (const raw of action.codes) {
        const code = normalizeCouponCode(raw);
        if (code !== raw) return invalid(`${raw} is not a canonical coupon code`, "codes");
        if (tx.get("coupons", `${m}/${code}`)) return conflict(`coupon ${code} already exists`);
        tx.put("coupons", `${m}/${code}`, { ...action.batch, code, used: 0, holds: [] } satisfies CouponRecord);
      }
      return { ok: true, data: { issued: action.codes.length } };
    }
    case "customers.tag": {
      if (action.customerIds.length > cardsPerCommandMax) return invalid(`at most ${cardsPerCommandMax} customers per command`, "customerIds");
      let tagged = 0;
      for (const customerId of action.customerIds) {
        const c = tx.get<CustomerRecord>("customers", key.customer(action.merchantId, customerId));
        if (!c || c.tags.includes(action.tag)) continue;
        tx.put("customers", key.customer(action.merchantId, customerId), { ...c, tags: [...c.tags, action.tag] } satisfies CustomerRecord);
        tagged += 1;
      }
      return { ok: true, data: { tagged } };
    }
    case "notify.requeue":
      if (action.seqs.length > cardsPerCommandMax) return invalid(`at most ${cardsPerCommandMax} events per command`, "seqs");
      return { ok: true, data: { requeued: requeueDead(tx, action.merchantId, action.seqs, now) } };
    case "campaign.send": {
      if (action.customerIds.length > cardsPerCommandMax) return invalid(`at most ${cardsPerCommandMax} customers per command`, "customerIds");
      let events = 0;
      for (const customerId of action.customerIds) events += notifyMessage(tx, action.merchantId, customerId, action.message, now);
      return { ok: true, data: { events } };
    }
    case "draw.award": {
      const m = action.merchantId;
      const draw = action.draw;
      if (tx.get("draws", key.draw(m, draw.id))) return conflict(`draw ${draw.id} was already run`);
      for (const w of draw.winners) {
        const granted = grantPoints(tx, m, w.card, draw.points, "bonus", `draw ${draw.id}: ${draw.reason}`, cmd.actor, now);
        if (!granted.ok) return granted;
      }
      tx.put("draws", key.draw(m, draw.id), { ...draw, at: now, actor: cmd.actor } satisfies DrawRecord);
      return { ok: true, data: { winners: draw.winners.length } };
    }
    case "notify.settings": {
      if (!tx.get("merchants", action.merchantId)) return notFound(`unknown merchant ${action.merchantId}`);
      const saved = saveNotifySettings(tx, action.merchantId, action.settings);
      return saved.ok ? ok : invalid(saved.message, saved.field);
    }
    case "audit.note":
      return ok;
  }
}

function issueCard(tx: Tx, m: string, c: { number: string; kind: CardKind; discountBp?: number; token?: string }, now: number): AdminResult | null {
  if (!luhnValid(c.number)) return invalid(`card ${maskCardNumber(c.number)}: bad check digit`, "number");
  if (c.kind !== "bonus" && c.kind !== "discount" && c.kind !== "gift") return invalid(`card kind must be bonus, discount or gift`, "kind");
  if (c.discountBp !== undefined && (!Number.isSafeInteger(c.discountBp) || c.discountBp < 0 || c.discountBp > 10_000)) {
    return invalid("discount must be 0..10000 basis points", "discountBp");
  }
  if (tx.get("cards", key.card(m, c.number))) return conflict(`card ${maskCardNumber(c.number)} already exists`);
  if (c.token && tx.get("cardIndex", key.token(m, c.token)) !== undefined) return conflict("token already used by another card");
  const card: CardRecord = { number: c.number, kind: c.kind, status: "issued", issuedAt: now };
  if (c.discountBp !== undefined) card.discountBp = c.discountBp;
  if (c.token) {
    card.token = c.token;
    tx.put("cardIndex", key.token(m, c.token), c.number);
  }
  tx.put("cards", key.card(m, c.number), card);
  return null;
}

/**
 * A CSV import chunk: each row is applied whole or rejected whole (with its
 * line number and the reason), so a bad line never leaves half a card and
 * never stops the good ones.
 */
function importCards(tx: Tx, m: string, rows: ImportRow[], now: number): AdminResult {
  if (!tx.get("merchants", m)) return notFound(`unknown merchant ${m}`);
  if (rows.length > cardsPerCommandMax) return invalid(`at most ${cardsPerCommandMax} rows per command`, "rows");
  const rejected: { line: number; reason: string }[] = [];
  let imported = 0;
  for (const row of rows) {
    const buffer = new BufferTx(tx);
    const problem = importRow(buffer, m, row, now);
    if (problem) {
      rejected.push({ line: row.line, reason: problem });
    } else {
      buffer.flushTo(tx);
      imported += 1;
    }
  }
  return { ok: true, data: { imported, rejected } };
}

function importRow(tx: Tx, m: string, row: ImportRow, now: number): string | null {
  const issued = issueCard(tx, m, row, now);
  if (issued && !issued.ok) return issued.message;
  if (!row.customer) return null;
  const phone = normalizePhone(row.customer.phone);
  if (phone === null) return "phone: not a phone number (10-15 digits)";
  if (tx.get<string>("cardIndex", key.phone(m, phone)) !== undefined) return `phone ${maskPhone(phone)} already has a card`;
  const customerId = `C${nextId(tx, m, "customer")}`;
  tx.put("customers", key.customer(m, customerId), {
    id: customerId, ...row.customer, phone, homeLatE6: 0, homeLonE6: 0, createdAt: now, cards: [row.number],
  } satisfies CustomerRecord);
  tx.put("cardIndex", key.phone(m, phone), row.number);
  const card = tx.get<CardRecord>("cards", key.card(m, row.number))!;
  tx.put("cards", key.card(m, row.number), { ...card, status: "active", customerId } satisfies CardRecord);
  return null;
}

function adjustPoints(tx: Tx, actor: string, action: Extract<AdminAction, { a: "points.adjust" }>, now: number): AdminResult {
  const m = action.merchantId;
  const card = tx.get<CardRecord>("cards", key.card(m, action.cardNumber));
  if (!card || card.kind !== "bonus") return notFound("no such bonus card");
  if (!action.reason.trim()) return invalid("a reason is required", "reason");
  if (!Number.isSafeInteger(action.points) || action.points === 0) return invalid("points must be a non-zero integer", "points");
  const rules = tx.get<RulesRecord>("rules", m);
  const merchant = tx.get<MerchantRecord>("merchants", m);
  assert(rules && merchant, "merchant without rules");
  const program = rules.versions[rules.versions.length - 1]!.program;
  if (action.points > 0) return grantPoints(tx, m, card.number, action.points, "adjustment", action.reason, actor, now);
  let account = tx.get<Account>("accounts", key.card(m, card.number)) ?? newAccount(program.tiers[0]!.id);
  // A deduction takes spendable points only (soonest-expiring first): it never
  // creates debt and never takes points a till is holding.
  const take = -action.points;
  const spendable = pointsView(account, now, 0).active;
  if (take > spendable) return conflict(`the card has only ${spendable} spendable points`);
  account = consume(account, take, now).account;
  tx.put("accounts", key.card(m, card.number), account);
  appendLedger(tx, m, card.number, [ledgerItem({ at: now, pts: -take, reason: "adjustment", note: action.reason, actor })]);
  return { ok: true, data: { balance: account.bal } };
}

/**
 * Card replacement (SPEC O1, a lost or damaged card): the new card, issued
 * and unused, takes over the customer, the phone, the points (lots with
 * their activation and expiry, debt, tier and spend) and, through
 * `replacedBy`, the refunds and voids of the old card's checks. The old
 * card is blocked. Both ledgers record the transfer. Refused while a till
 * holds points on the old card (a calculation is open).
 */
function replaceCard(tx: Tx, actor: string, action: Extract<AdminAction, { a: "card.replace" }>, now: number): AdminResult {
  const m = action.merchantId;
  if (!action.reason.trim()) return invalid("a reason is required", "reason");
  const from = tx.get<CardRecord>("cards", key.card(m, action.from));
  const to = tx.get<CardRecord>("cards", key.card(m, action.to));
  if (!from) return notFound("no such card to replace");
  if (!to) return notFound("the new card is not issued");
  if (from.replacedBy) return conflict(`the card was already replaced by ${maskCardNumber(from.replacedBy)}`);
  if (from.kind !== to.kind || from.kind === "gift") return invalid("a bonus or discount card is replaced by a new card of the same kind", "to");
  if (to.status !== "issued" || to.customerId || tx.get("accounts", key.card(m, action.to))) return conflict("the new card must be unused (issued, no customer, no points)");
  const account = tx.get<Account>("accounts", key.card(m, action.from));
  if (account && account.holds.some((h) => h.exp > now)) return conflict("a calculation holds points on the card; confirm or cancel it first");
  if (account) {
    const moved = account.bal;
    if (moved !== 0) appendLedger(tx, m, action.from, [ledgerItem({ at: now, pts: -moved, reason: "transfer", note: `to ${maskCardNumber(action.to)}: ${action.reason}`, actor })]);
    const carried = { ...tx.get<Account>("accounts", key.card(m, action.from))!, holds: [] };
    tx.del("accounts", key.card(m, action.from));
    tx.put("accounts", key.card(m, action.to), carried);
    for (const exp of new Set(carried.lots.map((l) => l.exp))) indexExpiry(tx, m, action.to, exp);
    if (moved !== 0) appendLedger(tx, m, action.to, [ledgerItem({ at: now, pts: moved, reason: "transfer", note: `from ${maskCardNumber(action.from)}: ${action.reason}`, actor })]);
  }
  if (from.customerId) {
    const customer = tx.get<CustomerRecord>("customers", key.customer(m, from.customerId));
    if (customer) {
      tx.put("customers", key.customer(m, customer.id), { ...customer, cards: customer.cards.map((c) => (c === action.from ? action.to : c)) } satisfies CustomerRecord);
      if (tx.get<string>("cardIndex", key.phone(m, customer.phone)) === action.from) tx.put("cardIndex", key.phone(m, customer.phone), action.to);
    }
  }
  const next: CardRecord = { ...to, status: from.customerId ? "active" : "issued", ...(from.customerId ? { customerId: from.customerId } : {}) };
  if (from.discountBp !== undefined && next.discountBp === undefined) next.discountBp = from.discountBp;
  tx.put("cards", key.card(m, action.to), next);
  tx.put("cards", key.card(m, action.from), { ...from, status: "blocked", replacedBy: action.to } satisfies CardRecord);
  return { ok: true, data: { moved: account?.bal ?? 0 } };
}

/** Credits points as a new lot (adjustments, prize draws) with its ledger entry. */
function grantPoints(tx: Tx, m: string, cardNumber: string, points: number, reason: "adjustment" | "bonus", note: string, actor: string, now: number): AdminResult {
  const card = tx.get<CardRecord>("cards", key.card(m, cardNumber));
  if (!card || card.kind !== "bonus") return notFound(`no such bonus card ${maskCardNumber(cardNumber)}`);
  const rules = tx.get<RulesRecord>("rules", m);
  const merchant = tx.get<MerchantRecord>("merchants", m);
  assert(rules && merchant, "merchant without rules");
  const program = rules.versions[rules.versions.length - 1]!.program;
  let account = tx.get<Account>("accounts", key.card(m, cardNumber)) ?? newAccount(program.tiers[0]!.id);
  const exp = roundExpiry(now + program.lotLifetimeMs, program, merchant.tzOffsetMin);
  // The lot is named after the ledger entry this grant is about to get.
  account = addLot(account, { id: `a:${account.seq + 1}`, pts: points, act: now, exp }).account;
  tx.put("accounts", key.card(m, cardNumber), account);
  indexExpiry(tx, m, cardNumber, exp);
  appendLedger(tx, m, cardNumber, [ledgerItem({ at: now, pts: points, reason, note, actor, act: now, exp })]);
  return { ok: true, data: { balance: tx.get<Account>("accounts", key.card(m, cardNumber))!.bal } };
}

function summarize(action: AdminAction): string {
  switch (action.a) {
    case "merchant.put": return `merchant ${action.merchant.id}`;
    case "store.put": return `store ${action.store.merchantId}/${action.store.id}`;
    case "terminal.put": return `terminal ${action.terminal.id} (store ${action.terminal.storeId}${action.terminal.disabled ? ", disabled" : ""})`;
    case "terminal.secret": return `terminal ${action.terminalId}: new secret`;
    case "terminal.disabled": return `terminal ${action.terminalId}: ${action.disabled ? "disabled" : "enabled"}`;
    case "rules.publish": return `rules of ${action.merchantId} from ${new Date(action.version.from).toISOString()}: ${action.version.promotions.length} promotions`;
    case "cards.issue": return `${action.cards.length} cards for ${action.merchantId}`;
    case "cards.import": return `import of ${action.rows.length} rows for ${action.merchantId}`;
    case "customer.put": return `customer ${action.merchantId}/${action.customer.id}`;
    case "points.adjust": return `card ${maskCardNumber(action.cardNumber)}: ${action.points > 0 ? "+" : ""}${action.points} points (${action.reason})`;
    case "card.status": return `card ${maskCardNumber(action.cardNumber)}: ${action.status} (${action.reason})`;
    case "card.replace": return `card ${maskCardNumber(action.from)} replaced by ${maskCardNumber(action.to)} (${action.reason})`;
    case "admin.put": return `admin user ${action.user.name}${action.user.disabled ? " (disabled)" : ""}`;
    // Never the secret, and only the webhook's origin (a path or query may hold a token).
    case "notify.settings": return `notifications of ${action.merchantId}: ${action.settings.enabled ? "enabled" : "disabled"}, ${webhookOrigin(action.settings.webhookUrl)}, events ${action.settings.events.join(",") || "none"}`;
    case "audit.note": return `${action.what}: ${action.summary}`;
    case "offers.set": return `${action.offers.offers.length} offers for ${action.merchantId}`;
    case "coupons.issue": return `${action.codes.length} coupons of batch ${action.batch.batch} for ${action.merchantId}`;
    case "notify.requeue": return `${action.seqs.length} dead notifications of ${action.merchantId} requeued`;
    case "campaign.send": return `campaign ${action.campaignId} message to ${action.customerIds.length} customers of ${action.merchantId}`;
    case "customers.tag": return `tag ${action.tag} on ${action.customerIds.length} customers of ${action.merchantId}`;
    case "draw.award": return `draw ${action.draw.id} of ${action.merchantId}: ${action.draw.winners.length} winners of ${action.draw.entrants}, ${action.draw.points} points each`;
  }
}
