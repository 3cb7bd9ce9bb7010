// Helpers shared by the POS operations: the request context, declines as
// values, card resolution, balances for answers, and the bookkeeping every
// balance change does (ledger entry, history summary).
import { loyalty } from "../../protocol/codec.js";
import { assert } from "../assert.js";
import { pointsView } from "./account.js";
import type { Account, CardRecord, CheckRecord, HistoryEntry, LedgerItem, MerchantRecord, Program, RulesRecord, RulesVersion, StoreRecord } from "./model.js";
import { key } from "./model.js";
import { rulesAt } from "./rules.js";
import type { Table, Tx } from "./tx.js";

const pb = loyalty.v1;
export const E = pb.ErrorCode;
export type Resp = loyalty.v1.Response.$Properties;

/** Who is asking: every POS request carries its terminal, store and cashier. */
export interface PosContext {
  merchantId: string;
  storeId: string;
  terminalId: string;
  cashierId: string;
}

export function decline(code: loyalty.v1.ErrorCode, message: string, details: Record<string, string> = {}): Resp {
  return { error: { code, message, details } };
}

export function invalid(field: string, message: string): Resp {
  return decline(E.ERROR_CODE_INVALID_ARGUMENT, `${field}: ${message}`, { field });
}

export function isDecline(r: Resp): boolean {
  return r.error !== undefined && r.error !== null;
}

/**
 * A Tx that buffers writes over a parent Tx. An operation runs on one; if it
 * declines, the buffer is dropped, so a decline never leaves half an effect.
 */
export class BufferTx implements Tx {
  private readonly writes = new Map<string, { table: Table; key: string; value: unknown }>();
  constructor(private readonly parent: Tx) {}
  get<T>(table: Table, k: string): T | undefined {
    // Most reads of an operation come before its first write: no key string to build then.
    if (this.writes.size > 0) {
      const w = this.writes.get(`${table}\u0000${k}`);
      if (w) return w.value === undefined ? undefined : (w.value as T);
    }
    return this.parent.get<T>(table, k);
  }
  put(table: Table, k: string, value: unknown): void {
    assert(value !== undefined, "put undefined");
    this.writes.set(`${table}\u0000${k}`, { table, key: k, value });
  }
  del(table: Table, k: string): void {
    this.writes.set(`${table}\u0000${k}`, { table, key: k, value: undefined });
  }
  flushTo(target: Tx): void {
    for (const w of this.writes.values()) {
      if (w.value === undefined) target.del(w.table, w.key);
      else target.put(w.table, w.key, w.value);
    }
    this.writes.clear();
  }
}

export interface MerchantView {
  merchant: MerchantRecord;
  store: StoreRecord;
  rules: RulesRecord;
}

export function loadMerchant(tx: Tx, ctx: PosContext): MerchantView {
  const merchant = tx.get<MerchantRecord>("merchants", key.merchant(ctx.merchantId));
  const store = tx.get<StoreRecord>("stores", key.store(ctx.merchantId, ctx.storeId));
  const rules = tx.get<RulesRecord>("rules", key.merchant(ctx.merchantId));
  // The terminal authenticated against these records; their absence is corruption.
  assert(merchant && store && rules, `merchant ${ctx.merchantId} or store ${ctx.storeId} or rules missing`);
  return { merchant, store, rules };
}

export function versionAt(view: MerchantView, at: number): RulesVersion {
  return rulesAt(view.rules.versions, at);
}

/** Luhn check digit validation: catches most typos in a keyed-in card number. */
export function luhnValid(number: string): boolean {
  // 8 to 19 ASCII digits; checked in the one pass over the characters (every
  // card reference of every check comes through here).
  if (number.length < 8 || number.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < number.length; i += 1) {
    let d = number.charCodeAt(number.length - 1 - i) - 48;
    if (d < 0 || d > 9) return false;
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The card that now carries `number`'s balance: itself, or the end of its replacement chain. */
export function currentCardNumber(tx: Tx, merchantId: string, number: string): string {
  let n = number;
  for (let hops = 0; hops < 16; hops += 1) {
    const next = tx.get<CardRecord>("cards", key.card(merchantId, n))?.replacedBy;
    if (!next) return n;
    n = next;
  }
  return n;
}

export function normalizePhone(phone: string): string | null {
  const digits = phone.replace(/[\s()+-]/g, "");
  return /^\d{10,15}$/.test(digits) ? digits : null;
}

export type Resolved = { card: CardRecord } | { error: Resp };

/** Resolves a CardRef to a card of this merchant. Blocked cards are declined here. */
export function resolveCard(tx: Tx, ctx: PosContext, program: Program, ref: loyalty.v1.CardRef.$Properties | null | undefined, field: string): Resolved {
  let number: string | undefined;
  if (ref?.cardNumber) {
    if (!luhnValid(ref.cardNumber)) return { error: invalid(`${field}.card_number`, "not a valid card number (check digit)") };
    number = ref.cardNumber;
  } else if (ref?.token) {
    if (ref.token.length > 128) return { error: invalid(`${field}.token`, "too long") };
    number = tx.get<string>("cardIndex", key.token(ctx.merchantId, ref.token));
  } else if (ref?.phone) {
    if (!program.phoneIdentify) return { error: decline(E.ERROR_CODE_FORBIDDEN, "identification by phone is not allowed by this program") };
    const phone = normalizePhone(ref.phone);
    if (phone === null) return { error: invalid(`${field}.phone`, "not a phone number (10-15 digits)") };
    number = tx.get<string>("cardIndex", key.phone(ctx.merchantId, phone));
  } else {
    return { error: invalid(field, "one of card_number, token or phone is required") };
  }
  const card = number === undefined ? undefined : tx.get<CardRecord>("cards", key.card(ctx.merchantId, number));
  if (!card) return { error: decline(E.ERROR_CODE_NOT_FOUND, "card not found", { what: "card" }) };
  if (card.status === "blocked") return { error: decline(E.ERROR_CODE_CARD_BLOCKED, "the card is blocked") };
  if (card.status === "expired") return { error: decline(E.ERROR_CODE_CARD_NOT_ACTIVE, "the card has expired") };
  return { card };
}

export function balancesOf(program: Program, account: Account | undefined, card: CardRecord, now: number): loyalty.v1.Balances.$Properties {
  const gift = card.kind === "gift" ? card.giftBalanceMinor ?? 0 : 0;
  if (!account) return { giftBalanceMinor: gift, expiringSoonAtMs: now + program.expiringSoonMs };
  const v = pointsView(account, now, program.expiringSoonMs);
  return {
    pointsActive: v.active, pointsPending: v.pending, pointsExpiringSoon: v.expiringSoon,
    expiringSoonAtMs: now + program.expiringSoonMs, pointsHeld: v.held, pointsDebt: v.debt, giftBalanceMinor: gift,
  };
}

export function actorOf(ctx: PosContext): string {
  return `${ctx.terminalId}/${ctx.cashierId}`;
}

/**
 * Appends balance changes to the card's ledger (P11): one entry each, under
 * the account's next sequence numbers. The account (already written by the
 * caller) gets its sequence advanced.
 */
export function appendLedger(tx: Tx, merchantId: string, cardNumber: string, items: LedgerItem[]): void {
  if (items.length === 0) return;
  const accountKey = key.card(merchantId, cardNumber);
  const account = tx.get<Account>("accounts", accountKey);
  assert(account, `ledger entry for card without account ${cardNumber.slice(-4)}`);
  let seq = account.seq;
  for (const item of items) {
    seq += 1;
    tx.put("activity", key.ledgerEntry(merchantId, cardNumber, seq), item);
  }
  tx.put("accounts", accountKey, { ...account, seq } satisfies Account);
}

export function ledgerItem(partial: Partial<LedgerItem> & Pick<LedgerItem, "at" | "pts" | "reason">): LedgerItem {
  return { check: "", promo: "", note: "", actor: "", act: 0, exp: 0, ...partial };
}

/** Lists a confirmed check in its card's history (P6); a void takes it out again. */
export function indexHistory(tx: Tx, merchantId: string, check: CheckRecord): void {
  if (!check.card) return;
  tx.put("activity", key.historyEntry(merchantId, check.card, check.confirmedAt, check.id), { id: check.id, at: check.confirmedAt } satisfies HistoryEntry);
}

export function unindexHistory(tx: Tx, merchantId: string, check: CheckRecord): void {
  if (check.card) tx.del("activity", key.historyEntry(merchantId, check.card, check.confirmedAt, check.id));
}

export function maskName(first: string, last: string): string {
  if (!first && !last) return "";
  const initial = last ? ` ${[...last][0]!.toUpperCase()}.` : "";
  return `${first}${initial}`.trim();
}

export const checkStateToPb: Record<CheckRecord["state"], loyalty.v1.CheckState> = {
  calculated: pb.CheckState.CHECK_STATE_CALCULATED,
  confirmed: pb.CheckState.CHECK_STATE_CONFIRMED,
  cancelled: pb.CheckState.CHECK_STATE_CANCELLED,
  refunded: pb.CheckState.CHECK_STATE_REFUNDED,
};
