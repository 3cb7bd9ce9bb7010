// The check lifecycle at the till: Calculate (P2) → Confirm (P3), Cancel (P4),
// and offline posting (P10). Refunds are in refund.ts.
//
// A calculation is stored as a check in state "calculated" with a hold on the
// points it will spend, so two terminals can never spend the same points: the
// second calculation sees the first one's hold. Holds die by themselves at
// `expiresAt` (every read ignores dead holds); the sweep job removes them.
import { loyalty } from "../../protocol/codec.js";
import { assert } from "../assert.js";
import { maskCardNumber } from "../observability/mask.js";
import { addLot, addSpend, consume, newAccount, pointsView, spend12m, takeBack, withHold, withoutHold } from "./account.js";
import {
  E, actorOf, appendLedger, balancesOf, currentCardNumber, decline, indexHistory, invalid, ledgerItem, loadMerchant, resolveCard, unindexHistory, versionAt,
  type MerchantView, type PosContext, type Resp,
} from "./common.js";
import type { Account, CardRecord, CheckRecord, CountersRecord, CustomerRecord, LedgerItem, Program, RulesVersion } from "./model.js";
import { dueKinds, key } from "./model.js";
import { consumeCoupons, couponResultsPb, evaluateCoupons, holdCoupons, releaseCoupons, restoreCoupons } from "./coupons.js";
import { receiptOfferLines, type Audience } from "./offers.js";
import { notifyCheck } from "./outbox.js";
import { priceCheck, type BasketLine, type PricedCheck, type RedeemRequest } from "./pricing.js";
import { localDay, localMonthIndex, roundExpiry, tierById, tierForSpend, tierRank } from "./rules.js";
import type { Tx } from "./tx.js";
import { basketLines, checkAmount, checkCoupons, checkId, checkText } from "./validate.js";

/** An offline check may be posted this long after the sale. */
export const offlineAgeMaxMs = 30 * 86_400_000;
/** Tolerated till clock skew for offline purchase times in the future. */
export const offlineSkewMaxMs = 5 * 60_000;
export const giftTendersMax = 10;

export function nextId(tx: Tx, merchantId: string, what: keyof CountersRecord): number {
  const counters = tx.get<CountersRecord>("meta", merchantId) ?? { check: 0, customer: 0, refund: 0 };
  const next = { ...counters, [what]: counters[what] + 1 };
  tx.put("meta", merchantId, next);
  return next[what];
}

export interface Member {
  card: CardRecord;
  account: Account | undefined;
  customer: CustomerRecord | undefined;
}

export function memberPricing(program: Program, member: Member | null) {
  if (member === null) return null;
  const account = member.account;
  const tier = tierById(program, account?.tier ?? program.tiers[0]!.id);
  const discountBp = member.card.kind === "discount" ? member.card.discountBp ?? tier.discountBp : 0;
  return {
    kind: member.card.kind, tier, tags: member.customer?.tags ?? [], birthDate: member.customer?.birthDate ?? "", discountBp,
  };
}

export function loadMember(tx: Tx, ctx: PosContext, card: CardRecord): Member {
  return {
    card,
    account: card.kind === "bonus" ? tx.get<Account>("accounts", key.card(ctx.merchantId, card.number)) : undefined,
    customer: card.customerId ? tx.get<CustomerRecord>("customers", key.customer(ctx.merchantId, card.customerId)) : undefined,
  };
}

/** Prices a basket for this terminal's store at `at` (the purchase time). */
function priceFor(
  view: MerchantView, version: RulesVersion, ctx: PosContext, at: number, lines: BasketLine[], member: Member | null,
  available: number, redeem: RedeemRequest,
) {
  return priceCheck({
    version, at, tzOffsetMin: view.merchant.tzOffsetMin, storeId: ctx.storeId, region: view.store.region,
    lines, member: memberPricing(version.program, member),
  }, available, redeem);
}

function pricedLinesPb(check: Pick<PricedCheck, "lines">): loyalty.v1.LineResult.$Properties[] {
  return check.lines.map((l, index) => ({
    index, discountMinor: l.disc, pointsRedeemed: l.rpts, pointsRedeemedMinor: l.rmin, pointsAccrued: l.apts,
    amountDueMinor: l.amt - l.disc - l.rmin, promotionIds: l.promos,
  }));
}

function promotionsPb(check: Pick<PricedCheck, "promos">): loyalty.v1.AppliedPromotion.$Properties[] {
  return check.promos.map((p) => ({ id: p.id, name: p.name, reason: p.reason, discountMinor: p.discount, points: p.points }));
}

function accountOf(program: Program, member: Member): Account {
  return member.account ?? newAccount(program.tiers[0]!.id);
}

export function calculate(tx: Tx, ctx: PosContext, req: loyalty.v1.CalculateRequest, now: number): Resp {
  const lines = basketLines(req.lines);
  if (!Array.isArray(lines)) return lines;
  const bad = checkId(req.operationId, "operation_id", true) ?? checkCoupons(req.coupons) ?? checkAmount(req.redeemPoints, "redeem_points") ?? checkId(req.checkId, "check_id", false);
  if (bad) return bad;
  const view = loadMerchant(tx, ctx);
  const version = versionAt(view, now);
  const program = version.program;

  let member: Member | null = null;
  if (req.card) {
    const resolved = resolveCard(tx, ctx, program, req.card, "card");
    if ("error" in resolved) return resolved.error;
    if (resolved.card.kind === "gift") return invalid("card", "a gift card is a means of payment: send it as a gift tender in Confirm");
    member = loadMember(tx, ctx, resolved.card);
  }
  const wantsPoints = req.redeemMax || (req.redeemPoints ?? 0) > 0;
  if (wantsPoints && (member === null || member.card.kind !== "bonus")) return invalid("redeem_points", "spending points needs a bonus card");

  let previous: CheckRecord | undefined;
  if (req.checkId) {
    previous = tx.get<CheckRecord>("checks", key.check(ctx.merchantId, req.checkId));
    if (!previous) return decline(E.ERROR_CODE_NOT_FOUND, "check not found", { what: "check" });
    if (previous.terminal !== ctx.terminalId) return decline(E.ERROR_CODE_FORBIDDEN, "the check belongs to another terminal");
    if (previous.state !== "calculated") return decline(E.ERROR_CODE_INVALID_STATE, `the check is ${previous.state}`);
    if (previous.card !== (member?.card.number ?? "")) return invalid("card", "a recalculation must keep the check's card");
  }
  const checkNo = previous?.id ?? "";
  const available = member?.account ? pointsView(member.account, now, program.expiringSoonMs, checkNo).active : 0;
  const redeem: RedeemRequest = req.redeemMax ? { kind: "max" } : (req.redeemPoints ?? 0) > 0 ? { kind: "points", points: req.redeemPoints! } : { kind: "none" };
  const coupons = evaluateCoupons(tx, ctx.merchantId, req.coupons ?? [], member ? member.card.customerId ?? "" : null, checkNo, now);
  const priceVersion = coupons.promotions.length > 0 ? { ...version, promotions: [...version.promotions, ...coupons.promotions] } : version;
  const outcome = priceFor(view, priceVersion, ctx, now, lines, member, available, redeem);
  if (!outcome.ok) {
    return decline(E.ERROR_CODE_INSUFFICIENT_POINTS, `at most ${outcome.redeemableMax} points can be spent on this check`, {
      available: String(available), redeemable_max: String(outcome.redeemableMax),
    });
  }
  const priced = outcome.check;
  const id = checkNo || String(nextId(tx, ctx.merchantId, "check"));
  const expiresAt = now + program.holdTtlMs;
  const check: CheckRecord = {
    id, state: "calculated", store: ctx.storeId, terminal: ctx.terminalId, cashier: ctx.cashierId, card: member?.card.number ?? "",
    op: "calculate", createdAt: now, expiresAt, confirmedAt: 0, receipt: "", lines: priced.lines, total: priced.total,
    discount: priced.discount, redeem: priced.redeem, redeemMinor: priced.redeemMinor, accrue: priced.accrue, promos: priced.promos,
    receiptLines: priced.receiptLines, gift: [], consumed: [], refundedMinor: 0, refunds: 0, offline: false,
  };
  tx.put("checks", key.check(ctx.merchantId, id), check);
  if (previous) releaseCoupons(tx, ctx.merchantId, previous);
  holdCoupons(tx, ctx.merchantId, check, expiresAt, now);
  if (previous) tx.del("due", key.due(dueKinds.hold, key.holdDue(previous.expiresAt, ctx.merchantId, id)));
  tx.put("due", key.due(dueKinds.hold, key.holdDue(expiresAt, ctx.merchantId, id)), 1);

  let balances: loyalty.v1.Balances.$Properties | undefined;
  if (member?.card.kind === "bonus") {
    const account = accountOf(program, member);
    const held = priced.redeem > 0 || previous ? withHold(account, id, priced.redeem, expiresAt, now) : account;
    if (held !== account) tx.put("accounts", key.card(ctx.merchantId, member.card.number), held);
    balances = balancesOf(program, held, member.card, now);
  } else if (member) {
    balances = balancesOf(program, undefined, member.card, now);
  }
  return {
    calculate: {
      checkId: id, lines: pricedLinesPb(priced), totalMinor: priced.total, discountMinor: priced.discount,
      pointsRedeemed: priced.redeem, pointsRedeemedMinor: priced.redeemMinor, amountDueMinor: priced.total - priced.discount - priced.redeemMinor,
      pointsAccrued: priced.accrue, pointsRedeemableMax: priced.redeemableMax, promotions: promotionsPb(priced),
      coupons: couponResultsPb(coupons, priced.promos),
      receiptLines: priced.receiptLines, holdExpiresAtMs: expiresAt, balances: balances ?? null,
    },
  };
}

/**
 * Earns a check's points on the card: a lot that activates after the return
 * window, spend for the tier, an upgrade at once when the spend reaches it.
 */
function accrueOnAccount(
  account: Account, program: Program, view: MerchantView, check: CheckRecord, at: number,
): { account: Account; ledger: LedgerItem[] } {
  const tz = view.merchant.tzOffsetMin;
  const ledger: LedgerItem[] = [];
  let next = account;
  if (check.accrue > 0) {
    const act = at + program.activationDelayMs;
    const exp = roundExpiry(act + program.lotLifetimeMs, program, tz);
    const added = addLot(next, { id: `c:${check.id}`, pts: check.accrue, act, exp });
    next = added.account;
    ledger.push(ledgerItem({
      at, pts: check.accrue, reason: "accrual", check: check.id, promo: check.promos.map((p) => p.id).join(","),
      note: added.toDebt > 0 ? `${added.toDebt} paid outstanding debt` : "", act, exp,
    }));
  }
  const month = localMonthIndex(at, tz);
  next = addSpend(next, month, check.total - check.discount, 1);
  const earned = tierForSpend(program, spend12m(next, localMonthIndex(Math.max(at, next.lastPurchaseAt), tz)));
  if (tierRank(program, earned.id) > tierRank(program, next.tier)) next = { ...next, tier: earned.id };
  next = { ...next, lastPurchaseAt: Math.max(next.lastPurchaseAt, at) };
  return { account: next, ledger };
}

function giftTenders(tx: Tx, ctx: PosContext, tenders: loyalty.v1.GiftTender.$Properties[], due: number, now: number): { cards: CardRecord[]; amounts: number[] } | Resp {
  if (tenders.length > giftTendersMax) return invalid("gift_tenders", `at most ${giftTendersMax}`);
  const cards: CardRecord[] = [];
  const amounts: number[] = [];
  let sum = 0;
  for (let i = 0; i < tenders.length; i += 1) {
    const t = tenders[i]!;
    const bad = checkId(t.cardNumber, `gift_tenders[${i}].card_number`, true) ?? checkAmount(t.amountMinor, `gift_tenders[${i}].amount_minor`, 1);
    if (bad) return bad;
    const card = tx.get<CardRecord>("cards", key.card(ctx.merchantId, t.cardNumber!));
    if (!card || card.kind !== "gift") return decline(E.ERROR_CODE_NOT_FOUND, "gift card not found", { what: "gift_card", index: String(i) });
    if (card.status === "blocked") return decline(E.ERROR_CODE_CARD_BLOCKED, "the gift card is blocked", { index: String(i) });
    if (card.status !== "active" || (card.giftExpiresAt ?? 0) <= now) return decline(E.ERROR_CODE_CARD_NOT_ACTIVE, "the gift card is not active", { index: String(i) });
    if (cards.some((c) => c.number === card.number)) return invalid(`gift_tenders[${i}]`, "the same gift card twice");
    if ((card.giftBalanceMinor ?? 0) < t.amountMinor!) {
      return decline(E.ERROR_CODE_INSUFFICIENT_FUNDS, "the gift card balance is too low", { index: String(i), balance_minor: String(card.giftBalanceMinor ?? 0) });
    }
    cards.push(card);
    amounts.push(t.amountMinor!);
    sum += t.amountMinor!;
  }
  if (sum > due) return invalid("gift_tenders", "gift tenders exceed the amount due");
  return { cards, amounts };
}

export function confirm(tx: Tx, ctx: PosContext, req: loyalty.v1.ConfirmRequest, now: number): Resp {
  const bad = checkId(req.operationId, "operation_id", true) ?? checkId(req.checkId, "check_id", true) ?? checkId(req.receiptNumber, "receipt_number", false);
  if (bad) return bad;
  const check = tx.get<CheckRecord>("checks", key.check(ctx.merchantId, req.checkId));
  if (!check) return decline(E.ERROR_CODE_NOT_FOUND, "check not found", { what: "check" });
  if (check.store !== ctx.storeId) return decline(E.ERROR_CODE_FORBIDDEN, "the check belongs to another store");
  if (check.state !== "calculated") return decline(E.ERROR_CODE_INVALID_STATE, `the check is already ${check.state}`);
  if (check.expiresAt <= now) return decline(E.ERROR_CODE_HOLD_EXPIRED, "the calculation expired; calculate again");
  const view = loadMerchant(tx, ctx);
  const program = versionAt(view, check.createdAt).program;
  const due = check.total - check.discount - check.redeemMinor;
  const gift = giftTenders(tx, ctx, req.giftTenders ?? [], due, now);
  if (!("cards" in gift)) return gift;

  let balances: loyalty.v1.Balances.$Properties | null = null;
  let tier = "";
  let consumed: CheckRecord["consumed"] = [];
  if (check.card) {
    const card = tx.get<CardRecord>("cards", key.card(ctx.merchantId, check.card));
    assert(card, `check ${check.id} names a missing card`);
    if (card.status === "blocked") return decline(E.ERROR_CODE_CARD_BLOCKED, "the card is blocked");
    if (card.kind === "bonus") {
      let account = tx.get<Account>("accounts", key.card(ctx.merchantId, card.number)) ?? newAccount(program.tiers[0]!.id);
      const ledger: LedgerItem[] = [];
      if (check.redeem > 0) {
        const available = pointsView(account, now, program.expiringSoonMs, check.id).active;
        if (available < check.redeem) {
          return decline(E.ERROR_CODE_INSUFFICIENT_POINTS, "the points are no longer available; calculate again", { available: String(available) });
        }
        const spent = consume(account, check.redeem, now);
        account = spent.account;
        consumed = spent.consumed;
        ledger.push(ledgerItem({ at: now, pts: -check.redeem, reason: "redemption", check: check.id, actor: actorOf(ctx) }));
      }
      account = withoutHold(account, check.id, now);
      const earned = accrueOnAccount(account, program, view, check, now);
      account = earned.account;
      for (const item of earned.ledger) ledger.push({ ...item, actor: actorOf(ctx) });
      tx.put("accounts", key.card(ctx.merchantId, card.number), account);
      appendLedger(tx, ctx.merchantId, card.number, ledger);
      if (check.accrue > 0) indexExpiry(tx, ctx.merchantId, card.number, earned.ledger[0]!.exp);
      balances = balancesOf(program, account, card, now);
      tier = account.tier;
    } else {
      balances = balancesOf(program, undefined, card, now);
    }
    if (card.status === "issued") tx.put("cards", key.card(ctx.merchantId, card.number), { ...card, status: "active" } satisfies CardRecord);
  }
  const giftResults: loyalty.v1.GiftTenderResult.$Properties[] = [];
  gift.cards.forEach((card, i) => {
    const balance = (card.giftBalanceMinor ?? 0) - gift.amounts[i]!;
    tx.put("cards", key.card(ctx.merchantId, card.number), { ...card, giftBalanceMinor: balance } satisfies CardRecord);
    giftResults.push({ cardNumberMasked: maskCardNumber(card.number), amountMinor: gift.amounts[i]!, balanceMinor: balance });
  });
  const confirmed: CheckRecord = {
    ...check, state: "confirmed", confirmedAt: now, receipt: req.receiptNumber ?? "", cashier: ctx.cashierId, terminal: ctx.terminalId,
    consumed, gift: gift.cards.map((c, i) => ({ card: c.number, amt: gift.amounts[i]!, ret: 0 })),
  };
  tx.put("checks", key.check(ctx.merchantId, check.id), confirmed);
  consumeCoupons(tx, ctx.merchantId, check);
  tx.del("due", key.due(dueKinds.hold, key.holdDue(check.expiresAt, ctx.merchantId, check.id)));
  indexHistory(tx, ctx.merchantId, confirmed);
  notifyCheck(tx, ctx, confirmed, now);
  return {
    confirm: {
      checkId: check.id, pointsAccrued: check.accrue, pointsRedeemed: check.redeem, amountDueMinor: due, giftTenders: giftResults,
      receiptLines: [...check.receiptLines, ...receiptOfferLines(tx, ctx.merchantId, () => (check.card ? audienceOf(tx, ctx, view, check.card, tier) : null), now)],
      balances, confirmedAtMs: now, tier,
    },
  };
}

/** Who a receipt offer is for: the check's card holder at this store. */
function audienceOf(tx: Tx, ctx: PosContext, view: MerchantView, cardNumber: string, tier: string): Audience {
  const card = tx.get<CardRecord>("cards", key.card(ctx.merchantId, cardNumber));
  const customer = card?.customerId ? tx.get<CustomerRecord>("customers", key.customer(ctx.merchantId, card.customerId)) : undefined;
  return { tier, tags: customer?.tags ?? [], storeId: ctx.storeId, region: view.store.region };
}

/** Lets the expiry job find cards with lots expiring at `exp` without scanning every account. */
export function indexExpiry(tx: Tx, merchantId: string, cardNumber: string, exp: number): void {
  tx.put("due", key.due(dueKinds.lots, key.lotsDue(exp, merchantId, cardNumber)), 1);
}

/** Gives back exactly the lots a confirm consumed (debt is paid first). */
export function restoreConsumed(account: Account, consumed: CheckRecord["consumed"]): Account {
  let next = account;
  for (const lot of consumed) next = addLot(next, { ...lot }).account;
  return next;
}

export function cancel(tx: Tx, ctx: PosContext, req: loyalty.v1.CancelRequest, now: number): Resp {
  const bad = checkId(req.operationId, "operation_id", true) ?? checkId(req.checkId, "check_id", true) ?? checkText(req.reason, "reason");
  if (bad) return bad;
  const check = tx.get<CheckRecord>("checks", key.check(ctx.merchantId, req.checkId));
  if (!check) return decline(E.ERROR_CODE_NOT_FOUND, "check not found", { what: "check" });
  if (check.store !== ctx.storeId) return decline(E.ERROR_CODE_FORBIDDEN, "the check belongs to another store");
  const view = loadMerchant(tx, ctx);
  const program = versionAt(view, check.createdAt).program;
  // A void after a card replacement reverses on the card that carries the balance now.
  const cardNumber = check.card ? currentCardNumber(tx, ctx.merchantId, check.card) : "";
  const cardKey = key.card(ctx.merchantId, cardNumber);
  const card = cardNumber ? tx.get<CardRecord>("cards", cardKey) : undefined;
  const cancelled: CheckRecord = { ...check, state: "cancelled" };

  if (check.state === "calculated") {
    let released = 0;
    let balances: loyalty.v1.Balances.$Properties | null = null;
    if (card?.kind === "bonus") {
      const account = tx.get<Account>("accounts", cardKey);
      if (account) {
        released = account.holds.find((h) => h.check === check.id && h.exp > now)?.pts ?? 0;
        const next = withoutHold(account, check.id, now);
        tx.put("accounts", cardKey, next);
        balances = balancesOf(program, next, card, now);
      }
    }
    tx.put("checks", key.check(ctx.merchantId, check.id), cancelled);
    releaseCoupons(tx, ctx.merchantId, check);
    tx.del("due", key.due(dueKinds.hold, key.holdDue(check.expiresAt, ctx.merchantId, check.id)));
    return { cancel: { checkId: check.id, state: loyalty.v1.CheckState.CHECK_STATE_CANCELLED, pointsReleased: released, balances } };
  }
  if (check.state !== "confirmed") return decline(E.ERROR_CODE_INVALID_STATE, `the check is already ${check.state}`);
  const tz = view.merchant.tzOffsetMin;
  if (localDay(check.confirmedAt, tz) !== localDay(now, tz)) {
    return decline(E.ERROR_CODE_INVALID_STATE, "a confirmed check can be voided only on the day it was confirmed; use refund");
  }
  if (check.refunds > 0) return decline(E.ERROR_CODE_INVALID_STATE, "the check was partly refunded; refund the rest instead");

  let balances: loyalty.v1.Balances.$Properties | null = null;
  if (card?.kind === "bonus") {
    let account = tx.get<Account>("accounts", cardKey);
    assert(account, `confirmed check ${check.id} has no account`);
    const ledger: LedgerItem[] = [];
    if (check.accrue > 0) {
      account = takeBack(account, check.accrue, `c:${check.id}`).account;
      ledger.push(ledgerItem({ at: now, pts: -check.accrue, reason: "void", check: check.id, actor: actorOf(ctx), note: req.reason ?? "" }));
    }
    if (check.redeem > 0) {
      account = restoreConsumed(account, check.consumed);
      ledger.push(ledgerItem({ at: now, pts: check.redeem, reason: "void", check: check.id, actor: actorOf(ctx), note: req.reason ?? "" }));
    }
    account = addSpend(account, localMonthIndex(check.confirmedAt, tz), -(check.total - check.discount), -1);
    tx.put("accounts", cardKey, account);
    appendLedger(tx, ctx.merchantId, cardNumber, ledger);
    balances = balancesOf(program, account, card, now);
  }
  for (const g of check.gift) {
    const gc = tx.get<CardRecord>("cards", key.card(ctx.merchantId, g.card));
    assert(gc, `gift card of check ${check.id} missing`);
    tx.put("cards", key.card(ctx.merchantId, g.card), { ...gc, giftBalanceMinor: (gc.giftBalanceMinor ?? 0) + g.amt - g.ret } satisfies CardRecord);
  }
  tx.put("checks", key.check(ctx.merchantId, check.id), cancelled);
  restoreCoupons(tx, ctx.merchantId, check);
  unindexHistory(tx, ctx.merchantId, check);
  return {
    cancel: { checkId: check.id, state: loyalty.v1.CheckState.CHECK_STATE_CANCELLED, pointsReturned: check.redeem, pointsReversed: check.accrue, balances },
  };
}

export function postOffline(tx: Tx, ctx: PosContext, req: loyalty.v1.PostOfflineRequest, now: number): Resp {
  const lines: BasketLine[] | Resp = basketLines(req.lines);
  if (!Array.isArray(lines)) return lines;
  const bad = checkId(req.operationId, "operation_id", true) ?? checkId(req.receiptNumber, "receipt_number", false);
  if (bad) return bad;
  const at = req.purchasedAtMs ?? 0;
  if (!Number.isSafeInteger(at) || at > now + offlineSkewMaxMs || at < now - offlineAgeMaxMs) {
    return invalid("purchased_at_ms", "must be within the last 30 days and not in the future");
  }
  const view = loadMerchant(tx, ctx);
  const version: RulesVersion = versionAt(view, at);
  const program = version.program;
  let member: Member | null = null;
  if (req.card) {
    const resolved = resolveCard(tx, ctx, program, req.card, "card");
    if ("error" in resolved) return resolved.error;
    if (resolved.card.kind === "gift") return invalid("card", "a gift card is a means of payment, not a loyalty card");
    member = loadMember(tx, ctx, resolved.card);
  }
  const outcome = priceFor(view, version, ctx, at, lines, member, 0, { kind: "none" });
  assert(outcome.ok, "pricing without redemption cannot decline");
  const priced = outcome.check;
  const id = String(nextId(tx, ctx.merchantId, "check"));
  const check: CheckRecord = {
    id, state: "confirmed", store: ctx.storeId, terminal: ctx.terminalId, cashier: ctx.cashierId, card: member?.card.number ?? "",
    op: "post_offline", createdAt: at, expiresAt: at, confirmedAt: at, receipt: req.receiptNumber ?? "", lines: priced.lines,
    total: priced.total, discount: priced.discount, redeem: 0, redeemMinor: 0, accrue: priced.accrue, promos: priced.promos,
    receiptLines: priced.receiptLines, gift: [], consumed: [], refundedMinor: 0, refunds: 0, offline: true,
  };
  let balances: loyalty.v1.Balances.$Properties | null = null;
  if (member) {
    if (member.card.kind === "bonus") {
      const earned = accrueOnAccount(accountOf(program, member), program, view, check, at);
      tx.put("accounts", key.card(ctx.merchantId, member.card.number), earned.account);
      appendLedger(tx, ctx.merchantId, member.card.number, earned.ledger.map((l) => ({ ...l, actor: actorOf(ctx), note: "offline check" })));
      if (check.accrue > 0) indexExpiry(tx, ctx.merchantId, member.card.number, earned.ledger[0]!.exp);
      balances = balancesOf(program, earned.account, member.card, now);
    } else {
      balances = balancesOf(program, undefined, member.card, now);
    }
    if (member.card.status === "issued") tx.put("cards", key.card(ctx.merchantId, member.card.number), { ...member.card, status: "active" } satisfies CardRecord);
  }
  tx.put("checks", key.check(ctx.merchantId, id), check);
  indexHistory(tx, ctx.merchantId, check);
  notifyCheck(tx, ctx, check, now);
  return { postOffline: { checkId: id, pointsAccrued: priced.accrue, lines: pricedLinesPb(priced), balances } };
}
