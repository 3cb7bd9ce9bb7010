// Enrolment at the till: Register a card (P7: bind a phone, create the
// customer, welcome bonus once per card) and gift-card activation (E5).
import type { loyalty } from "../../protocol/codec.js";
import { maskCardNumber } from "../observability/mask.js";
import { addLot, newAccount } from "./account.js";
import { indexExpiry, nextId } from "./checkout.js";
import {
  E, actorOf, appendLedger, balancesOf, decline, invalid, ledgerItem, loadMerchant, luhnValid, normalizePhone, versionAt,
  type PosContext, type Resp,
} from "./common.js";
import type { Account, CardRecord, CustomerRecord } from "./model.js";
import { key } from "./model.js";
import { notifyGiftActivation, notifyWelcome } from "./outbox.js";
import { roundExpiry } from "./rules.js";
import type { Tx } from "./tx.js";
import { checkAmount, checkId, checkText } from "./validate.js";

export function register(tx: Tx, ctx: PosContext, req: loyalty.v1.RegisterRequest, now: number): Resp {
  const bad = checkId(req.operationId, "operation_id", true) ?? checkText(req.firstName, "first_name") ?? checkText(req.lastName, "last_name") ?? checkText(req.email, "email");
  if (bad) return bad;
  if (!luhnValid(req.cardNumber)) return invalid("card_number", "not a valid card number (check digit)");
  const phone = normalizePhone(req.phone);
  if (phone === null) return invalid("phone", "not a phone number (10-15 digits)");
  if (req.birthDate && !/^\d{4}-\d{2}-\d{2}$/.test(req.birthDate)) return invalid("birth_date", "must be YYYY-MM-DD");
  const view = loadMerchant(tx, ctx);
  const program = versionAt(view, now).program;
  const m = ctx.merchantId;
  const card = tx.get<CardRecord>("cards", key.card(m, req.cardNumber));
  if (!card || card.kind === "gift") return decline(E.ERROR_CODE_NOT_FOUND, "card not found", { what: "card" });
  if (card.status === "blocked") return decline(E.ERROR_CODE_CARD_BLOCKED, "the card is blocked");
  if (card.status === "expired") return decline(E.ERROR_CODE_CARD_NOT_ACTIVE, "the card has expired");
  if (card.customerId) return decline(E.ERROR_CODE_ALREADY_EXISTS, "the card is already registered", { what: "card" });
  if (tx.get<string>("cardIndex", key.phone(m, phone)) !== undefined) {
    return decline(E.ERROR_CODE_ALREADY_EXISTS, "this phone number already has a card", { what: "phone" });
  }
  const customerId = `C${nextId(tx, m, "customer")}`;
  const customer: CustomerRecord = {
    id: customerId, phone, firstName: req.firstName ?? "", lastName: req.lastName ?? "", email: req.email ?? "",
    birthDate: req.birthDate ?? "", consentSms: req.consentSms ?? false, consentEmail: req.consentEmail ?? false, tags: [],
    homeLatE6: 0, homeLonE6: 0, createdAt: now, cards: [card.number],
  };
  tx.put("customers", key.customer(m, customerId), customer);
  tx.put("cardIndex", key.phone(m, phone), card.number);
  tx.put("cards", key.card(m, card.number), { ...card, status: "active", customerId } satisfies CardRecord);

  let welcome = 0;
  let balances = balancesOf(program, undefined, card, now);
  if (card.kind === "bonus") {
    let account = tx.get<Account>("accounts", key.card(m, card.number)) ?? newAccount(program.tiers[0]!.id);
    if (!account.welcomeGranted && program.welcomePoints > 0) {
      welcome = program.welcomePoints;
      const exp = roundExpiry(now + program.lotLifetimeMs, program, view.merchant.tzOffsetMin);
      account = addLot(account, { id: `w:${card.number}`, pts: welcome, act: now, exp }).account;
      indexExpiry(tx, m, card.number, exp);
    }
    account = { ...account, welcomeGranted: true };
    tx.put("accounts", key.card(m, card.number), account);
    if (welcome > 0) appendLedger(tx, m, card.number, [ledgerItem({ at: now, pts: welcome, reason: "welcome", actor: actorOf(ctx), act: now, exp: account.lots.at(-1)!.exp })]);
    balances = balancesOf(program, account, card, now);
  }
  notifyWelcome(tx, ctx, card.number, welcome, now);
  return { register: { cardNumber: card.number, customerId, welcomePoints: welcome, balances } };
}

export function giftCardActivate(tx: Tx, ctx: PosContext, req: loyalty.v1.GiftCardActivateRequest, now: number): Resp {
  const bad = checkId(req.operationId, "operation_id", true) ?? checkId(req.cardNumber, "card_number", true) ?? checkAmount(req.amountMinor, "amount_minor", 1);
  if (bad) return bad;
  const view = loadMerchant(tx, ctx);
  const program = versionAt(view, now).program;
  const card = tx.get<CardRecord>("cards", key.card(ctx.merchantId, req.cardNumber));
  if (!card || card.kind !== "gift") return decline(E.ERROR_CODE_NOT_FOUND, "gift card not found", { what: "gift_card" });
  if (card.status === "blocked") return decline(E.ERROR_CODE_CARD_BLOCKED, "the gift card is blocked");
  if (card.status !== "issued") return decline(E.ERROR_CODE_INVALID_STATE, `the gift card is already ${card.status}`);
  const expiresAt = now + program.giftLifetimeMs;
  tx.put("cards", key.card(ctx.merchantId, card.number), {
    ...card, status: "active", giftBalanceMinor: req.amountMinor, giftExpiresAt: expiresAt,
  } satisfies CardRecord);
  notifyGiftActivation(tx, ctx, card.number, req.amountMinor!, now);
  return { giftCardActivate: { cardNumberMasked: maskCardNumber(card.number), balanceMinor: req.amountMinor, expiresAtMs: expiresAt } };
}
