// "What would this basket get under these rules": prices a basket with a
// candidate rules version (or the current one) exactly as Calculate would,
// without writing anything. For marketing staff checking a promotion file
// before they publish it (admin-cli promo dry-run).
import { pointsView } from "./account.js";
import { loadMember, memberPricing, type Member } from "./checkout.js";
import { luhnValid, type PosContext } from "./common.js";
import type { CardRecord, MerchantRecord, RulesVersion, StoreRecord } from "./model.js";
import { key } from "./model.js";
import { priceCheck, type BasketLine, type PricedCheck } from "./pricing.js";
import type { Tx } from "./tx.js";

export interface DryRunInput {
  merchantId: string;
  storeId: string;
  /** Purchase time (weekday, time window, validity). */
  at: number;
  lines: BasketLine[];
  /** A card to price for (tier, tags, birthday); none = a non-member. */
  cardNumber?: string;
  version: RulesVersion;
}

export type DryRunOutcome = { ok: true; check: PricedCheck; tier: string; member: boolean } | { ok: false; message: string };

export function dryRun(tx: Tx, input: DryRunInput): DryRunOutcome {
  const merchant = tx.get<MerchantRecord>("merchants", key.merchant(input.merchantId));
  if (!merchant) return { ok: false, message: `unknown merchant ${input.merchantId}` };
  const store = tx.get<StoreRecord>("stores", key.store(input.merchantId, input.storeId));
  if (!store) return { ok: false, message: `unknown store ${input.storeId}` };
  let member: Member | null = null;
  if (input.cardNumber) {
    if (!luhnValid(input.cardNumber)) return { ok: false, message: "card: not a valid card number (check digit)" };
    const card = tx.get<CardRecord>("cards", key.card(input.merchantId, input.cardNumber));
    if (!card) return { ok: false, message: "card not found" };
    const ctx: PosContext = { merchantId: input.merchantId, storeId: input.storeId, terminalId: "", cashierId: "" };
    member = loadMember(tx, ctx, card);
  }
  const program = input.version.program;
  const pricingMember = memberPricing(program, member);
  const available = member?.account ? pointsView(member.account, input.at, 0).active : 0;
  const outcome = priceCheck({
    version: input.version, at: input.at, tzOffsetMin: merchant.tzOffsetMin, storeId: store.id, region: store.region,
    lines: input.lines, member: pricingMember,
  }, available, { kind: "none" });
  if (!outcome.ok) return { ok: false, message: "the basket cannot be priced" };
  return { ok: true, check: outcome.check, tier: pricingMember?.tier.id ?? "", member: member !== null };
}
