// Read-only POS operations: Identify (P1), History (P6), Ledger (P11) and the
// gift-card balance inquiry (E5). They never write; the service runs them on a
// read view without going through group commit.
import { loyalty } from "../../protocol/codec.js";
import { assert } from "../assert.js";
import { maskCardNumber } from "../observability/mask.js";
import { historyLimitDefault, historyLimitMax, ledgerLimitDefault, ledgerLimitMax } from "../../protocol/limits.js";
import { localMonthIndex, tierById } from "./rules.js";
import { recentPurchases, spend12m } from "./account.js";
import {
  E, balancesOf, checkStateToPb, decline, loadMerchant, maskName, resolveCard, versionAt, type PosContext, type Resp,
} from "./common.js";
import type { Account, CardRecord, CheckRecord, CustomerRecord, HistoryEntry, LedgerItem, LedgerReasonName } from "./model.js";
import { key } from "./model.js";
import { offersFor, offersPb } from "./offers.js";
import type { ReadTx, Tx } from "./tx.js";
import { checkId } from "./validate.js";

const pb = loyalty.v1;
const dayMs = 86_400_000;

const kindToPb = { bonus: pb.CardKind.CARD_KIND_BONUS, discount: pb.CardKind.CARD_KIND_DISCOUNT, gift: pb.CardKind.CARD_KIND_GIFT } as const;
const statusToPb = {
  issued: pb.CardStatus.CARD_STATUS_ISSUED, active: pb.CardStatus.CARD_STATUS_ACTIVE,
  blocked: pb.CardStatus.CARD_STATUS_BLOCKED, expired: pb.CardStatus.CARD_STATUS_EXPIRED,
} as const;
const reasonToPb: Record<LedgerReasonName, loyalty.v1.LedgerReason> = {
  accrual: pb.LedgerReason.LEDGER_REASON_ACCRUAL, redemption: pb.LedgerReason.LEDGER_REASON_REDEMPTION,
  refund_reversal: pb.LedgerReason.LEDGER_REASON_REFUND_REVERSAL, refund_return: pb.LedgerReason.LEDGER_REASON_REFUND_RETURN,
  void: pb.LedgerReason.LEDGER_REASON_VOID, expiry: pb.LedgerReason.LEDGER_REASON_EXPIRY, welcome: pb.LedgerReason.LEDGER_REASON_WELCOME,
  adjustment: pb.LedgerReason.LEDGER_REASON_ADJUSTMENT, bonus: pb.LedgerReason.LEDGER_REASON_BONUS,
  transfer: pb.LedgerReason.LEDGER_REASON_TRANSFER, coupon: pb.LedgerReason.LEDGER_REASON_COUPON,
};

/**
 * Identify's purchase summary. Bonus cards answer from their account (the
 * record identify reads anyway): purchases in the current and the previous
 * two local months. Other cards count their newest history entries within
 * 90 days, at most 50 (a bounded scan, off the points path).
 */
const recentWindowMs = 90 * dayMs;
const recentEntriesMax = 50;

function purchaseSummary(tx: ReadTx, ctx: PosContext, card: CardRecord, account: Account | undefined, now: number, tzOffsetMin: number) {
  if (account) return { lastPurchaseAtMs: account.lastPurchaseAt, recentPurchaseCount: recentPurchases(account, localMonthIndex(now, tzOffsetMin)) };
  const recent = tx.scan<HistoryEntry>("activity", key.historyOf(ctx.merchantId, card.number), recentEntriesMax);
  return { lastPurchaseAtMs: recent[0]?.[1].at ?? 0, recentPurchaseCount: recent.filter(([, e]) => e.at >= now - recentWindowMs).length };
}

export function identify(tx: ReadTx, ctx: PosContext, req: loyalty.v1.IdentifyRequest, now: number): Resp {
  const view = loadMerchant(tx, ctx);
  const program = versionAt(view, now).program;
  const resolved = resolveCard(tx, ctx, program, req.card, "card");
  if ("error" in resolved) return resolved.error;
  const card = resolved.card;
  const account = card.kind === "bonus" ? tx.get<Account>("accounts", key.card(ctx.merchantId, card.number)) : undefined;
  const customer = card.customerId ? tx.get<CustomerRecord>("customers", key.customer(ctx.merchantId, card.customerId)) : undefined;
  const tier = card.kind === "gift" ? null : tierById(program, account?.tier ?? program.tiers[0]!.id);
  return {
    identify: {
      cardNumber: card.number,
      kind: kindToPb[card.kind],
      status: statusToPb[card.status],
      holderNameMasked: customer ? maskName(customer.firstName, customer.lastName) : "",
      tier: tier?.id ?? "",
      tierName: tier?.name ?? "",
      balances: balancesOf(program, account, card, now),
      discountBp: card.kind === "discount" ? card.discountBp ?? tier?.discountBp ?? 0 : 0,
      ...purchaseSummary(tx, ctx, card, account, now, view.merchant.tzOffsetMin),
      rollingYearSpendMinor: account ? spend12m(account, localMonthIndex(now, view.merchant.tzOffsetMin)) : 0,
      offers: card.kind === "gift" ? [] : offersPb(offersFor(tx, ctx.merchantId, { tier: tier?.id ?? "", tags: customer?.tags ?? [], storeId: ctx.storeId, region: view.store.region }, now)),
    },
  };
}

export function history(tx: ReadTx, ctx: PosContext, req: loyalty.v1.HistoryRequest, now: number): Resp {
  const view = loadMerchant(tx, ctx);
  const resolved = resolveCard(tx, ctx, versionAt(view, now).program, req.card, "card");
  if ("error" in resolved) return resolved.error;
  const limit = Math.min(req.limit || historyLimitDefault, historyLimitMax);
  const entries = tx.scan<HistoryEntry>("activity", key.historyOf(ctx.merchantId, resolved.card.number), limit);
  return {
    history: {
      checks: entries.map(([, e]) => {
        const c = tx.get<CheckRecord>("checks", key.check(ctx.merchantId, e.id));
        assert(c, `history lists a missing check ${e.id}`);
        return {
          checkId: c.id, atMs: e.at, storeId: c.store, state: checkStateToPb[c.state], totalMinor: c.total, discountMinor: c.discount,
          pointsAccrued: c.accrue, pointsRedeemed: c.redeem, refundedMinor: c.refundedMinor, receiptNumber: c.receipt,
        };
      }),
    },
  };
}

export function ledger(tx: ReadTx, ctx: PosContext, req: loyalty.v1.LedgerRequest, now: number): Resp {
  const view = loadMerchant(tx, ctx);
  const program = versionAt(view, now).program;
  const resolved = resolveCard(tx, ctx, program, req.card, "card");
  if ("error" in resolved) return resolved.error;
  const limit = Math.min(req.limit || ledgerLimitDefault, ledgerLimitMax);
  const k = key.card(ctx.merchantId, resolved.card.number);
  const entries = tx.scan<LedgerItem>("activity", key.ledgerOf(ctx.merchantId, resolved.card.number), limit);
  return {
    ledger: {
      entries: entries.map(([, i]) => ({
        atMs: i.at, points: i.pts, reason: reasonToPb[i.reason], checkId: i.check, promotionId: i.promo, note: i.note, actor: i.actor,
        activatesAtMs: i.act, expiresAtMs: i.exp,
      })),
      balances: balancesOf(program, tx.get<Account>("accounts", k), resolved.card, now),
    },
  };
}

export function giftCardBalance(tx: Tx, ctx: PosContext, req: loyalty.v1.GiftCardBalanceRequest): Resp {
  const bad = checkId(req.cardNumber, "card_number", true);
  if (bad) return bad;
  const card = tx.get<CardRecord>("cards", key.card(ctx.merchantId, req.cardNumber));
  if (!card || card.kind !== "gift") return decline(E.ERROR_CODE_NOT_FOUND, "gift card not found", { what: "gift_card" });
  return {
    giftCardBalance: {
      cardNumberMasked: maskCardNumber(card.number), status: statusToPb[card.status], balanceMinor: card.giftBalanceMinor ?? 0,
      expiresAtMs: card.giftExpiresAt ?? 0,
    },
  };
}

export { kindToPb, statusToPb };
