// Personalised offers (SPEC C1): offers a merchant targets at customer
// segments (tier, tag, store, region), returned at Identify for the cashier
// and printed as receipt lines after Confirm, plus one basket-level message
// for every receipt. A campaign (admin-cli campaign) tags the customers it
// selects, so an offer aimed at that tag reaches exactly them.
//
// All offers of a merchant are one record in the `offers` table (cached
// decoded by the store like the rules), so Identify pays one cached read.
import { attempt, bool, fail, id, int, list, object, text, type FieldProblem } from "./fields.js";
import type { loyalty } from "../../protocol/codec.js";
import type { Tx } from "./tx.js";

export interface OfferRecord {
  id: string;
  title: string;
  text: string;
  validFrom: number;
  validTo: number;
  /** Empty or absent: everyone. Otherwise the customer must match every given list. */
  tiers?: string[];
  tags?: string[];
  stores?: string[];
  regions?: string[];
  /** Also print it on the receipt after Confirm. */
  onReceipt: boolean;
}

export interface OffersRecord {
  offers: OfferRecord[];
  /** Printed on every receipt (members or not); empty: none. */
  receiptMessage: string;
}

/** Offers per merchant: each is checked on every Identify. */
export const offersMax = 100;
/** Offers Identify returns (IdentifyResult.offers: at most 5). */
export const offersShownMax = 5;

export interface Audience {
  tier: string;
  tags: readonly string[];
  storeId: string;
  region: string;
}

function matches(o: OfferRecord, who: Audience, now: number): boolean {
  if (now < o.validFrom || now >= o.validTo) return false;
  if (o.tiers?.length && !o.tiers.includes(who.tier)) return false;
  if (o.tags?.length && !o.tags.some((t) => who.tags.includes(t))) return false;
  if (o.stores?.length && !o.stores.includes(who.storeId)) return false;
  if (o.regions?.length && !o.regions.includes(who.region)) return false;
  return true;
}

/** The offers for this customer here and now, in the merchant's order. */
export function offersFor(tx: Tx, merchantId: string, who: Audience, now: number): OfferRecord[] {
  const record = tx.get<OffersRecord>("offers", merchantId);
  if (!record) return [];
  return record.offers.filter((o) => matches(o, who, now));
}

export function offersPb(offers: readonly OfferRecord[]): loyalty.v1.Offer.$Properties[] {
  return offers.slice(0, offersShownMax).map((o) => ({ id: o.id, title: o.title, text: o.text, validToAtMs: o.validTo }));
}

/**
 * Receipt lines after Confirm: the member's receipt offers, then the
 * basket-level message. `audience` is asked for only when the merchant has
 * offers (it costs reads on the confirm path).
 */
export function receiptOfferLines(tx: Tx, merchantId: string, audience: () => Audience | null, now: number): string[] {
  const record = tx.get<OffersRecord>("offers", merchantId);
  if (!record) return [];
  const who = record.offers.some((o) => o.onReceipt) ? audience() : null;
  const lines = who ? record.offers.filter((o) => o.onReceipt && matches(o, who, now)).slice(0, offersShownMax).map((o) => `${o.title}: ${o.text}`) : [];
  if (record.receiptMessage) lines.push(record.receiptMessage);
  return lines;
}

/** Validates offers as staff send them (names the bad field). */
export function parseOffers(v: unknown, message: unknown): { ok: true; record: OffersRecord } | { ok: false; problem: FieldProblem } {
  return attempt(() => {
    const offers = list(v, "offers", offersMax, (item, f): OfferRecord => {
      const o = object(item, f, ["id", "title", "text", "validFrom", "validTo", "tiers", "tags", "stores", "regions", "onReceipt"]);
      const ids = (x: unknown, name: string) => (x === undefined ? undefined : list(x, `${f}.${name}`, 200, id));
      const offer: OfferRecord = {
        id: id(o.id, `${f}.id`), title: text(o.title, `${f}.title`, 80), text: text(o.text, `${f}.text`, 300),
        validFrom: int(o.validFrom ?? 0, `${f}.validFrom`, 0), validTo: int(o.validTo ?? Number.MAX_SAFE_INTEGER, `${f}.validTo`, 1),
        onReceipt: bool(o.onReceipt ?? false, `${f}.onReceipt`),
      };
      for (const name of ["tiers", "tags", "stores", "regions"] as const) {
        const values = ids(o[name], name);
        if (values) offer[name] = values;
      }
      if (offer.validTo <= offer.validFrom) fail(`${f}.validTo`, "must be after validFrom");
      return offer;
    });
    offers.forEach((o, i) => {
      if (offers.findIndex((x) => x.id === o.id) !== i) fail(`offers[${i}].id`, `duplicate offer id ${o.id}`);
    });
    const receiptMessage = message === undefined || message === "" ? "" : text(message, "receiptMessage", 300);
    return { ok: true as const, record: { offers, receiptMessage } };
  });
}
