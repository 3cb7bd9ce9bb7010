// Set-up commands: merchants, stores, terminals, rules, cards, customers. The
// demo seed uses them today; the admin channel (a later issue) sends the same
// commands. Like POS operations they are journaled and replayed, so anything
// random (terminal secret salts and hashes, card numbers) is decided by the
// caller and arrives inside the command.
import { assert } from "../assert.js";
import { addLot, newAccount } from "./account.js";
import { indexExpiry } from "./checkout.js";
import { appendLedger, ledgerItem, luhnValid } from "./common.js";
import type {
  Account, CardKind, CardRecord, CustomerRecord, MerchantRecord, Program, RulesRecord, RulesVersion, StoreRecord, TerminalRecord,
} from "./model.js";
import { key } from "./model.js";
import { roundExpiry } from "./rules.js";
import type { Tx } from "./tx.js";

export type AdminAction =
  | { a: "merchant.put"; merchant: MerchantRecord }
  | { a: "store.put"; store: StoreRecord }
  | { a: "terminal.put"; terminal: TerminalRecord }
  | { a: "rules.publish"; merchantId: string; version: RulesVersion }
  | { a: "cards.issue"; merchantId: string; cards: { number: string; kind: CardKind; discountBp?: number; token?: string }[] }
  | { a: "customer.put"; merchantId: string; customer: CustomerRecord }
  | { a: "points.adjust"; merchantId: string; cardNumber: string; points: number; reason: string }
  | { a: "card.status"; merchantId: string; cardNumber: string; status: "active" | "blocked"; reason: string };

export interface AdminCommand {
  t: "admin";
  /** Who did it (staff user, or "seed"). */
  actor: string;
  action: AdminAction;
}

export type AdminResult = { ok: true } | { ok: false; message: string };

/** Rules versions kept per merchant: enough for offline checks of the last 30 days. */
export const rulesVersionsKeep = 50;

export function validateProgram(p: Program): string | null {
  if (!Number.isSafeInteger(p.pointValueMinor) || p.pointValueMinor <= 0) return "pointValueMinor must be a positive integer";
  if (p.redeemCapBp < 0 || p.redeemCapBp > 10_000) return "redeemCapBp must be 0..10000";
  if (p.tiers.length === 0 || p.tiers[0]!.spendMinMinor !== 0) return "the first tier must start at spend 0";
  for (let i = 1; i < p.tiers.length; i += 1) {
    if (p.tiers[i]!.spendMinMinor <= p.tiers[i - 1]!.spendMinMinor) return "tiers must have increasing spendMinMinor";
  }
  if (p.holdTtlMs <= 0 || p.lotLifetimeMs <= 0 || p.activationDelayMs < 0) return "durations must be positive";
  return null;
}

export function applyAdmin(tx: Tx, cmd: AdminCommand, now: number): AdminResult {
  const action = cmd.action;
  switch (action.a) {
    case "merchant.put":
      tx.put("merchants", key.merchant(action.merchant.id), action.merchant);
      return { ok: true };
    case "store.put":
      if (!tx.get("merchants", action.store.merchantId)) return { ok: false, message: "unknown merchant" };
      tx.put("stores", key.store(action.store.merchantId, action.store.id), action.store);
      return { ok: true };
    case "terminal.put":
      if (!tx.get("stores", key.store(action.terminal.merchantId, action.terminal.storeId))) return { ok: false, message: "unknown store" };
      tx.put("terminals", action.terminal.id, action.terminal);
      return { ok: true };
    case "rules.publish": {
      const problem = validateProgram(action.version.program);
      if (problem) return { ok: false, message: problem };
      const current = tx.get<RulesRecord>("rules", action.merchantId) ?? { versions: [] };
      const last = current.versions[current.versions.length - 1];
      if (last && action.version.from < last.from) return { ok: false, message: "a rules version cannot start before the current one" };
      const versions = [...current.versions, action.version].slice(-rulesVersionsKeep);
      tx.put("rules", action.merchantId, { versions } satisfies RulesRecord);
      return { ok: true };
    }
    case "cards.issue": {
      for (const c of action.cards) {
        if (!luhnValid(c.number)) return { ok: false, message: `card ${c.number.slice(-4)}: bad check digit` };
        if (tx.get("cards", key.card(action.merchantId, c.number))) return { ok: false, message: `card ${c.number.slice(-4)} exists` };
      }
      for (const c of action.cards) {
        const card: CardRecord = { number: c.number, kind: c.kind, status: "issued", issuedAt: now };
        if (c.discountBp !== undefined) card.discountBp = c.discountBp;
        if (c.token) {
          card.token = c.token;
          tx.put("cardIndex", key.token(action.merchantId, c.token), c.number);
        }
        tx.put("cards", key.card(action.merchantId, c.number), card);
      }
      return { ok: true };
    }
    case "customer.put": {
      const m = action.merchantId;
      const c = action.customer;
      const owner = tx.get<string>("cardIndex", key.phone(m, c.phone));
      if (owner !== undefined && !c.cards.includes(owner)) return { ok: false, message: "phone bound to another card" };
      for (const number of c.cards) {
        const card = tx.get<CardRecord>("cards", key.card(m, number));
        if (!card) return { ok: false, message: `card ${number.slice(-4)} not issued` };
        tx.put("cards", key.card(m, number), { ...card, customerId: c.id, status: card.status === "issued" ? "active" : card.status } satisfies CardRecord);
      }
      if (c.cards[0]) tx.put("cardIndex", key.phone(m, c.phone), c.cards[0]);
      tx.put("customers", key.customer(m, c.id), c);
      return { ok: true };
    }
    case "card.status": {
      const card = tx.get<CardRecord>("cards", key.card(action.merchantId, action.cardNumber));
      if (!card) return { ok: false, message: "no such card" };
      tx.put("cards", key.card(action.merchantId, action.cardNumber), { ...card, status: action.status } satisfies CardRecord);
      return { ok: true };
    }
    case "points.adjust": {
      const m = action.merchantId;
      const card = tx.get<CardRecord>("cards", key.card(m, action.cardNumber));
      if (!card || card.kind !== "bonus") return { ok: false, message: "no such bonus card" };
      if (!action.reason.trim()) return { ok: false, message: "a reason is required" };
      assert(Number.isSafeInteger(action.points) && action.points > 0, "adjustments are validated before they are journaled");
      const rules = tx.get<RulesRecord>("rules", m);
      const merchant = tx.get<MerchantRecord>("merchants", m);
      assert(rules && merchant, "merchant without rules");
      const program = rules.versions[rules.versions.length - 1]!.program;
      let account = tx.get<Account>("accounts", key.card(m, card.number)) ?? newAccount(program.tiers[0]!.id);
      const exp = roundExpiry(now + program.lotLifetimeMs, program, merchant.tzOffsetMin);
      // The lot is named after the ledger entry this adjustment is about to get.
      account = addLot(account, { id: `a:${account.seq + 1}`, pts: action.points, act: now, exp }).account;
      tx.put("accounts", key.card(m, card.number), account);
      indexExpiry(tx, m, card.number, exp);
      appendLedger(tx, m, card.number, [ledgerItem({ at: now, pts: action.points, reason: "adjustment", note: action.reason, actor: cmd.actor, act: now, exp })]);
      return { ok: true };
    }
  }
}
