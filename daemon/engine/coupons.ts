// Coupons (SPEC E6): batches of unique, unguessable codes granting points or
// a discount, optionally bound to a customer, single- or limited-use, valid
// in a window; validated in Calculate with a reason when rejected, held by
// the calculation like points (so two terminals racing for a single-use
// coupon cannot both get it), consumed in Confirm, released when the
// calculation is cancelled or expires, given back when a check is voided.
//
// Codes: 9 random Crockford base-32 characters and a check character (the
// Crockford mod-37 check symbol), so a mistyped character or two swapped
// neighbours are caught at the till ("XXXX-XXXXX-C" is fine: dashes and
// spaces are ignored, O reads as 0, I and L as 1).
//
// A valid coupon enters pricing as a promotion `coupon:<code>` with the
// highest priority and no conditions, so discounts are spread over lines,
// explained on the receipt and stored in the check's promotions exactly like
// the chain's own promotions; the check's coupons are those promotions.
import { loyalty } from "../../protocol/codec.js";
import type { CheckRecord, Promotion } from "./model.js";
import type { Tx } from "./tx.js";

export type CouponEffect =
  | { kind: "points"; points: number }
  | { kind: "percent_discount"; bp: number }
  | { kind: "fixed_discount"; amountMinor: number };

export interface CouponRecord {
  code: string;
  batch: string;
  effect: CouponEffect;
  validFrom: number;
  validTo: number;
  usesMax: number;
  used: number;
  /** Bound to this customer ("" = anyone). */
  customerId: string;
  /** Calculations holding a use: released on cancel or when `exp` passes. */
  holds: { check: string; exp: number }[];
}

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const checkSymbols = `${alphabet}*~$=U`;
export const couponBodyLength = 9;
const promoPrefix = "coupon:";
/** Above any promotion a merchant may define (rules-validate caps priority at 1,000,000). */
const couponPriority = 2_000_000;

function checkSymbol(body: string): string {
  let v = 0;
  for (const ch of body) v = (v * 32 + alphabet.indexOf(ch)) % 37;
  return checkSymbols[v]!;
}

/** A new code from `random` bytes (crypto randomness at the admin channel). */
export function newCouponCode(random: (n: number) => Buffer): string {
  const bytes = random(couponBodyLength);
  let body = "";
  for (const b of bytes) body += alphabet[b & 31];
  return body + checkSymbol(body);
}

/** The canonical code, or null when it cannot be a code (wrong length, characters or check symbol). */
export function normalizeCouponCode(raw: string): string | null {
  const s = raw.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
  if (s.length !== couponBodyLength + 1) return null;
  const body = s.slice(0, couponBodyLength);
  for (const ch of body) if (!alphabet.includes(ch)) return null;
  return checkSymbol(body) === s[couponBodyLength] ? s : null;
}

const S = loyalty.v1.CouponStatus;

export interface CouponEvaluation {
  results: loyalty.v1.CouponResult.$Properties[];
  /** Promotions for the accepted coupons, in the order scanned. */
  promotions: Promotion[];
}

const couponKey = (m: string, code: string) => `${m}/${code}`;

function liveHolds(c: CouponRecord, now: number, exceptCheck: string): number {
  return c.holds.filter((h) => h.exp > now && h.check !== exceptCheck).length;
}

/** Checks the scanned codes for this customer (or a non-member: customerId null) and check. */
export function evaluateCoupons(tx: Tx, m: string, codes: readonly string[], customerId: string | null, checkId: string, now: number): CouponEvaluation {
  const results: loyalty.v1.CouponResult.$Properties[] = [];
  const promotions: Promotion[] = [];
  const seen = new Set<string>();
  for (const raw of codes) {
    const code = normalizeCouponCode(raw);
    const reject = (status: loyalty.v1.CouponStatus, reason: string) => results.push({ code: raw, status, reason });
    if (code === null) { reject(S.COUPON_STATUS_UNKNOWN, "not a coupon code (check the characters)"); continue; }
    if (seen.has(code)) { reject(S.COUPON_STATUS_NOT_APPLICABLE, "scanned twice"); continue; }
    seen.add(code);
    const c = tx.get<CouponRecord>("coupons", couponKey(m, code));
    if (!c) { reject(S.COUPON_STATUS_UNKNOWN, "no such coupon"); continue; }
    if (now < c.validFrom || now >= c.validTo) { reject(S.COUPON_STATUS_EXPIRED, now < c.validFrom ? "not valid yet" : "expired"); continue; }
    if (c.used >= c.usesMax) { reject(S.COUPON_STATUS_USED, "already used"); continue; }
    if (c.used + liveHolds(c, now, checkId) >= c.usesMax) { reject(S.COUPON_STATUS_USED, "in use on another open check"); continue; }
    if (c.customerId && c.customerId !== customerId) { reject(S.COUPON_STATUS_NOT_APPLICABLE, "issued to another customer"); continue; }
    if (c.effect.kind === "points" && customerId === null) { reject(S.COUPON_STATUS_NOT_APPLICABLE, "a points coupon needs a card"); continue; }
    results.push({ code, status: S.COUPON_STATUS_ACCEPTED, reason: "" });
    const effect: Promotion["effect"] = c.effect.kind === "points" ? { kind: "fixed_points", points: c.effect.points } : c.effect;
    promotions.push({
      id: `${promoPrefix}${code}`, name: `Coupon ${code}`, priority: couponPriority, exclusive: false, validFrom: c.validFrom, validTo: c.validTo,
      conditions: c.effect.kind === "points" ? { membersOnly: true } : {}, effect,
    });
  }
  return { results, promotions };
}

/** Fills in what each accepted coupon gave, from the priced check's promotions. */
export function couponResultsPb(evaluation: CouponEvaluation, applied: CheckRecord["promos"]): loyalty.v1.CouponResult.$Properties[] {
  return evaluation.results.map((r) => {
    if (r.status !== S.COUPON_STATUS_ACCEPTED) return r;
    const p = applied.find((a) => a.id === `${promoPrefix}${r.code}`);
    return p ? { ...r, discountMinor: p.discount, points: p.points } : { ...r, status: S.COUPON_STATUS_NOT_APPLICABLE, reason: "nothing on this basket to apply it to" };
  });
}

function couponsOf(check: Pick<CheckRecord, "promos">): string[] {
  return check.promos.filter((p) => p.id.startsWith(promoPrefix)).map((p) => p.id.slice(promoPrefix.length));
}

function update(tx: Tx, m: string, code: string, change: (c: CouponRecord) => CouponRecord): void {
  const c = tx.get<CouponRecord>("coupons", couponKey(m, code));
  if (c) tx.put("coupons", couponKey(m, code), change(c));
}

/** A calculation holds one use of each coupon it applied, until `exp`. */
export function holdCoupons(tx: Tx, m: string, check: Pick<CheckRecord, "id" | "promos">, exp: number, now: number): void {
  for (const code of couponsOf(check)) {
    update(tx, m, code, (c) => ({ ...c, holds: [...c.holds.filter((h) => h.exp > now && h.check !== check.id), { check: check.id, exp }] }));
  }
}

/** A cancelled, expired or recalculated calculation lets its coupons go. */
export function releaseCoupons(tx: Tx, m: string, check: Pick<CheckRecord, "id" | "promos">): void {
  for (const code of couponsOf(check)) update(tx, m, code, (c) => ({ ...c, holds: c.holds.filter((h) => h.check !== check.id) }));
}

/** Confirm consumes the held uses. */
export function consumeCoupons(tx: Tx, m: string, check: Pick<CheckRecord, "id" | "promos">): void {
  for (const code of couponsOf(check)) update(tx, m, code, (c) => ({ ...c, used: c.used + 1, holds: c.holds.filter((h) => h.check !== check.id) }));
}

/** A voided check gives its coupons' uses back. */
export function restoreCoupons(tx: Tx, m: string, check: Pick<CheckRecord, "promos">): void {
  for (const code of couponsOf(check)) update(tx, m, code, (c) => ({ ...c, used: Math.max(0, c.used - 1) }));
}
