// Refunds (P5): full or partial return of lines of a confirmed check.
//
// Everything a line carried is returned in proportion to the quantity, using
// cumulative shares (money.ts `cumulativeShare`): after the n-th partial
// refund of a line the totals returned are share(all returned so far), so the
// parts add up to exactly the original when the whole line is back and can
// never exceed it.
// - money back: the line's amount due (after discounts and points);
// - earned points reversed: taken from the check's own lot, then other lots,
//   and what the customer already spent becomes debt;
// - spent points returned: a new lot expiring when the latest lot the check
//   consumed would have expired (the points keep their original life);
// - gift-card tender is refunded to the gift cards first, in tender order.
// The tier spend of the purchase month is reduced by the goods' value returned.
import { loyalty } from "../../protocol/codec.js";
import { assert } from "../assert.js";
import { addLot, addSpend, takeBack } from "./account.js";
import {
  E, actorOf, appendLedger, currentCardNumber, balancesOf, checkStateToPb, decline, invalid, ledgerItem, loadMerchant, versionAt,
  type PosContext, type Resp,
} from "./common.js";
import { indexExpiry, nextId } from "./checkout.js";
import type { Account, CardRecord, CheckLine, CheckRecord, LedgerItem } from "./model.js";
import { key } from "./model.js";
import { notifyRefund } from "./outbox.js";
import { cumulativeShare } from "./money.js";
import { localMonthIndex } from "./rules.js";
import type { Tx } from "./tx.js";
import { checkId } from "./validate.js";

function returnedQuantities(check: CheckRecord, req: loyalty.v1.RefundRequest): number[] | Resp {
  const qty = check.lines.map(() => 0);
  if (req.full) {
    check.lines.forEach((l, i) => { qty[i] = l.qty - l.rq; });
  } else {
    const lines = req.lines ?? [];
    if (lines.length === 0) return invalid("lines", "name the lines to refund, or set full");
    for (let k = 0; k < lines.length; k += 1) {
      const r = lines[k]!;
      const i = r.index ?? 0;
      if (i >= check.lines.length) return invalid(`lines[${k}].index`, "no such line in the check");
      const q = r.quantityMilli ?? 0;
      if (!Number.isSafeInteger(q) || q <= 0) return invalid(`lines[${k}].quantity_milli`, "must be a positive integer");
      qty[i]! += q;
    }
  }
  for (let i = 0; i < qty.length; i += 1) {
    const line = check.lines[i]!;
    if (line.rq + qty[i]! > line.qty) {
      return decline(E.ERROR_CODE_REFUND_EXCEEDED, `line ${i}: refund exceeds what was bought`, {
        index: String(i), refundable_milli: String(line.qty - line.rq),
      });
    }
  }
  if (qty.every((q) => q === 0)) return decline(E.ERROR_CODE_REFUND_EXCEEDED, "nothing left to refund");
  return qty;
}

function delta(line: CheckLine, q: number, of: number): number {
  return cumulativeShare(of, line.rq + q, line.qty) - cumulativeShare(of, line.rq, line.qty);
}

export function refund(tx: Tx, ctx: PosContext, req: loyalty.v1.RefundRequest, now: number): Resp {
  const bad = checkId(req.operationId, "operation_id", true) ?? checkId(req.checkId, "check_id", true) ?? checkId(req.receiptNumber, "receipt_number", false);
  if (bad) return bad;
  const check = tx.get<CheckRecord>("checks", key.check(ctx.merchantId, req.checkId));
  if (!check) return decline(E.ERROR_CODE_NOT_FOUND, "check not found", { what: "check" });
  if (check.state === "refunded") return decline(E.ERROR_CODE_REFUND_EXCEEDED, "the check is already fully refunded");
  if (check.state !== "confirmed") return decline(E.ERROR_CODE_INVALID_STATE, `the check is ${check.state}`);
  const qty = returnedQuantities(check, req);
  if (!Array.isArray(qty)) return qty;

  let money = 0;
  let reversed = 0;
  let returned = 0;
  let goods = 0;
  const lines = check.lines.map((line, i) => {
    const q = qty[i]!;
    if (q === 0) return line;
    money += delta(line, q, line.amt - line.disc - line.rmin);
    reversed += delta(line, q, line.apts);
    returned += delta(line, q, line.rpts);
    goods += delta(line, q, line.amt - line.disc);
    return { ...line, rq: line.rq + q };
  });
  const refundId = `R${nextId(tx, ctx.merchantId, "refund")}`;

  // Gift-card tender first, in tender order.
  let giftLeft = money;
  let giftReturned = 0;
  const gift = check.gift.map((g) => {
    const back = Math.min(giftLeft, g.amt - g.ret);
    giftLeft -= back;
    giftReturned += back;
    if (back > 0) {
      const gc = tx.get<CardRecord>("cards", key.card(ctx.merchantId, g.card));
      assert(gc, `gift card of check ${check.id} missing`);
      tx.put("cards", key.card(ctx.merchantId, g.card), { ...gc, giftBalanceMinor: (gc.giftBalanceMinor ?? 0) + back } satisfies CardRecord);
    }
    return { ...g, ret: g.ret + back };
  });

  const view = loadMerchant(tx, ctx);
  const program = versionAt(view, check.createdAt).program;
  let balances: loyalty.v1.Balances.$Properties | null = null;
  // A card replaced since the purchase: the reversal goes to the card that carries its balance now.
  const card = check.card ? tx.get<CardRecord>("cards", key.card(ctx.merchantId, currentCardNumber(tx, ctx.merchantId, check.card))) : undefined;
  if (card?.kind === "bonus") {
    const cardKey = key.card(ctx.merchantId, card.number);
    let account = tx.get<Account>("accounts", cardKey);
    assert(account, `confirmed check ${check.id} has no account`);
    const ledger: LedgerItem[] = [];
    if (reversed > 0) {
      const taken = takeBack(account, reversed, `c:${check.id}`);
      account = taken.account;
      ledger.push(ledgerItem({
        at: now, pts: -reversed, reason: "refund_reversal", check: check.id, actor: actorOf(ctx),
        note: taken.toDebt > 0 ? `${taken.toDebt} already spent: now debt` : refundId,
      }));
    }
    if (returned > 0) {
      const exp = check.consumed.reduce((m, l) => Math.max(m, l.exp), 0) || now + program.lotLifetimeMs;
      // Points whose life already ended come back expired (activation capped at
      // their expiry): the next expiry job takes them out with a ledger entry.
      const act = Math.min(now, exp);
      account = addLot(account, { id: `r:${refundId}`, pts: returned, act, exp }).account;
      indexExpiry(tx, ctx.merchantId, card.number, exp);
      ledger.push(ledgerItem({ at: now, pts: returned, reason: "refund_return", check: check.id, actor: actorOf(ctx), note: refundId, act, exp }));
    }
    account = addSpend(account, localMonthIndex(check.confirmedAt, view.merchant.tzOffsetMin), -goods, 0);
    tx.put("accounts", cardKey, account);
    appendLedger(tx, ctx.merchantId, card.number, ledger);
    balances = balancesOf(program, account, card, now);
  }

  const done = lines.every((l) => l.rq === l.qty);
  const next: CheckRecord = {
    ...check, lines, gift, state: done ? "refunded" : "confirmed", refundedMinor: check.refundedMinor + money, refunds: check.refunds + 1,
  };
  tx.put("checks", key.check(ctx.merchantId, check.id), next);
  notifyRefund(tx, ctx, next, returned - reversed, money, now);
  return {
    refund: {
      checkId: check.id, refundId, amountRefundedMinor: money, pointsReversed: reversed, pointsReturned: returned,
      giftReturnedMinor: giftReturned, state: checkStateToPb[next.state], balances,
    },
  };
}
