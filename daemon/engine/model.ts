// Records the engine keeps in its tables (see tx.ts for the table list) and
// the keys they live under. Short field names are deliberate for the records
// written on every check (accounts, checks): they are msgpack-encoded on the
// POS hot path. Everything is integers and strings: no floats, no Dates.

export interface MerchantRecord {
  id: string;
  name: string;
  /** Fixed offset of the merchant's local time from UTC, minutes (Moscow: 180). Days, weekdays and time windows use it. */
  tzOffsetMin: number;
  currency: string;
  createdAt: number;
}

export interface StoreRecord {
  id: string;
  merchantId: string;
  name: string;
  region: string;
  /** Microdegrees (degrees × 10^6) so coordinates stay integers. */
  latE6: number;
  lonE6: number;
}

export interface TerminalRecord {
  id: string;
  merchantId: string;
  storeId: string;
  /** sha256(salt || secret), hex. Secrets are random 32-byte tokens, so a fast hash suffices; see service.ts. */
  secretHash: string;
  salt: string;
  disabled: boolean;
}

export type CardKind = "bonus" | "discount" | "gift";
export type CardStatus = "issued" | "active" | "blocked" | "expired";

export interface CardRecord {
  number: string;
  kind: CardKind;
  status: CardStatus;
  customerId?: string;
  /** Discount cards: fixed percent in basis points (absent: by tier). */
  discountBp?: number;
  /** Gift cards. */
  giftBalanceMinor?: number;
  giftExpiresAt?: number;
  token?: string;
  issuedAt: number;
  /** Replaced by this card (lost or damaged): its balance and customer moved there; refunds and voids of its checks go there too. */
  replacedBy?: string;
}

export interface CustomerRecord {
  id: string;
  phone: string;
  firstName: string;
  lastName: string;
  email: string;
  /** YYYY-MM-DD or "". */
  birthDate: string;
  consentSms: boolean;
  consentEmail: boolean;
  tags: string[];
  /** Home location in microdegrees, for the territorial report; 0/0 when unknown. */
  homeLatE6: number;
  homeLonE6: number;
  createdAt: number;
  cards: string[];
}

/** A lot of points: what one accrual left unspent. */
export interface Lot {
  /** Where it came from: "c:<checkId>", "w:<cardNumber>" (welcome), "a:<ledgerSeq>" (adjustment), "r:<refundId>". */
  id: string;
  /** Remaining points, > 0. */
  pts: number;
  /** Spendable from this time (the return window). */
  act: number;
  /** Expires at this time (exclusive). */
  exp: number;
}

export interface Hold {
  check: string;
  pts: number;
  exp: number;
}

/**
 * A bonus card's points. Invariant (asserted after every change):
 * bal === sum(lots.pts) - debt, every lot has pts > 0, debt >= 0, and debt > 0
 * only when there are no lots (accruals pay debt first).
 */
export interface Account {
  lots: Lot[];
  holds: Hold[];
  debt: number;
  bal: number;
  tier: string;
  /** Per local month: [monthIndex, spend in minor units, purchases], oldest first, at most 13 entries. */
  spend: [number, number, number][];
  lastPurchaseAt: number;
  welcomeGranted: boolean;
  /** Ledger entries written for this card so far (the newest entry's sequence number). */
  seq: number;
}

export type CheckStateName = "calculated" | "confirmed" | "cancelled" | "refunded";

export interface CheckLine {
  sku: string;
  grp: string;
  qty: number;
  price: number;
  amt: number;
  /** Discount in minor units. */
  disc: number;
  /** Points redeemed on this line and the money they paid. */
  rpts: number;
  rmin: number;
  /** Points accrued on this line. */
  apts: number;
  promos: string[];
  /** Quantity refunded so far. */
  rq: number;
}

export interface AppliedPromotionRecord {
  id: string;
  name: string;
  reason: string;
  discount: number;
  points: number;
}

export interface ConsumedLot {
  id: string;
  pts: number;
  act: number;
  exp: number;
}

export interface CheckRecord {
  id: string;
  state: CheckStateName;
  store: string;
  terminal: string;
  cashier: string;
  card: string;
  /** Operation that created it (calculate/post_offline). */
  op: string;
  createdAt: number;
  /** Hold/calculation expiry. */
  expiresAt: number;
  confirmedAt: number;
  receipt: string;
  lines: CheckLine[];
  total: number;
  discount: number;
  redeem: number;
  redeemMinor: number;
  accrue: number;
  promos: AppliedPromotionRecord[];
  receiptLines: string[];
  gift: { card: string; amt: number; ret: number }[];
  consumed: ConsumedLot[];
  refundedMinor: number;
  refunds: number;
  offline: boolean;
}

/** A purchase in a card's history index; the check record has the rest. */
export interface HistoryEntry {
  id: string;
  at: number;
}

export type LedgerReasonName =
  | "accrual" | "redemption" | "refund_reversal" | "refund_return" | "void" | "expiry"
  | "welcome" | "adjustment" | "bonus" | "transfer" | "coupon";

export interface LedgerItem {
  at: number;
  pts: number;
  reason: LedgerReasonName;
  check: string;
  promo: string;
  note: string;
  actor: string;
  act: number;
  exp: number;
}


/**
 * What an operation_id was used for. The answer itself (the encoded Response
 * body) is the value of the operation's "due" entry, i/<timePrefix(x)>/<key>:
 * that table is written in time order, so a large answer lands on the page
 * being appended to, and the record here, written at a random place (ids are
 * random), stays small. Both are forgotten together.
 */
export interface IdempotencyRecord {
  /** Content hash of the operation (hex). */
  h: string;
  /** The answer's error code (0 = success). */
  c: number;
  at: number;
  /** When it is forgotten: the due time of its "due" entry, which holds the answer. */
  x: number;
}

// ---------------------------------------------------------------------------
// Program and promotions
// ---------------------------------------------------------------------------

export interface TierRule {
  id: string;
  name: string;
  /** Rolling 12-month spend (minor) from which this tier applies. */
  spendMinMinor: number;
  /** Points value earned, as basis points of the eligible amount. */
  accrualBp: number;
  /** Discount cards: percent by tier. */
  discountBp: number;
}

export interface Program {
  /** Money one point pays for, minor units (100 = one point pays 1.00). */
  pointValueMinor: number;
  /** At most this share of the eligible check may be paid with points. */
  redeemCapBp: number;
  /** Points become spendable after this many ms (the return window). */
  activationDelayMs: number;
  /** Points expire this long after activation. */
  lotLifetimeMs: number;
  /** Round expiry up to the end of the local day or month. */
  expiryRounding: "none" | "day" | "month";
  /** A calculation's hold lives this long. */
  holdTtlMs: number;
  welcomePoints: number;
  /** Identify reports points expiring within this horizon. */
  expiringSoonMs: number;
  /** Groups that earn nothing / cannot be paid with points. */
  noEarnGroups: string[];
  noRedeemGroups: string[];
  /** Lowest tier first; the first tier must have spendMinMinor 0. */
  tiers: TierRule[];
  /** Whether a phone number may identify a card at the till. */
  phoneIdentify: boolean;
  /** Gift cards expire this long after activation. */
  giftLifetimeMs: number;
}

export type PromotionEffect =
  | { kind: "points_multiplier"; multiplierPct: number }   // 200 = x2 the base rate on matched lines
  | { kind: "fixed_points"; points: number }               // once per check
  | { kind: "percent_discount"; bp: number }               // on matched lines
  | { kind: "fixed_discount"; amountMinor: number };        // spread over matched lines

export interface PromotionConditions {
  stores?: string[];
  regions?: string[];
  /** Lines in these groups are the matched lines; absent: every line. */
  groups?: string[];
  /** All of these groups must be in the basket (bundles: "buy these together"). */
  bundle?: string[];
  /** Local weekdays, 0 = Sunday. */
  weekdays?: number[];
  /** Local time window in minutes from midnight, [from, to). */
  minuteFrom?: number;
  minuteTo?: number;
  tiers?: string[];
  tags?: string[];
  minBasketMinor?: number;
  /** Applies within this many days around the customer's birthday. */
  birthdayWindowDays?: number;
  membersOnly?: boolean;
}

export interface Promotion {
  id: string;
  name: string;
  /** Higher first; ties by id. */
  priority: number;
  /** When it applies, no lower-priority promotion applies to the check. */
  exclusive: boolean;
  validFrom: number;
  validTo: number;
  conditions: PromotionConditions;
  effect: PromotionEffect;
}

export interface RulesVersion {
  /** Valid for purchases at or after this time (until the next version). */
  from: number;
  program: Program;
  promotions: Promotion[];
}

export interface RulesRecord {
  /** Oldest first. Offline checks are priced by the version valid at purchase time. */
  versions: RulesVersion[];
}

/** Merchant-wide counters: ids are assigned in apply order, so replay assigns the same ones. */
export interface CountersRecord {
  check: number;
  customer: number;
  refund: number;
}

/**
 * The kinds of entries in the "due" table, each the prefix of its keys. After
 * the prefix, a key is the job key a maintenance command carries: a fixed-width
 * due time first (key.timePrefix), so each kind's entries sort by due time.
 */
export const dueKinds = { hold: "h", lots: "e", idempotency: "i" } as const;
export type DueKind = (typeof dueKinds)[keyof typeof dueKinds];

export const key = {
  merchant: (m: string) => m,
  store: (m: string, s: string) => `${m}/${s}`,
  card: (m: string, n: string) => `${m}/${n}`,
  phone: (m: string, phone: string) => `${m}/p/${phone}`,
  token: (m: string, token: string) => `${m}/t/${token}`,
  customer: (m: string, c: string) => `${m}/${c}`,
  check: (m: string, id: string) => `${m}/${id}`,
  idempotency: (m: string, terminal: string, op: string) => `${m}/${terminal}/${op}`,
  /** Fixed-width decimal time so keys sort by time. */
  timePrefix: (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(15, "0"),
  /** Fixed-width and inverted, so a forward scan lists the newest first. */
  newestFirst: (n: number) => String(9_000_000_000_000_000 - Math.floor(n)).padStart(16, "0"),
  /** A job key: the due time, then what is due. */
  holdDue: (expiresAt: number, m: string, checkId: string) => `${key.timePrefix(expiresAt)}/${m}/${checkId}`,
  lotsDue: (exp: number, m: string, card: string) => `${key.timePrefix(exp)}/${m}/${card}`,
  idempotencyDue: (expiresAt: number, idemKey: string) => `${key.timePrefix(expiresAt)}/${idemKey}`,
  /** Where a job key is stored in the "due" table. */
  due: (kind: DueKind, jobKey: string) => `${kind}/${jobKey}`,
  historyEntry: (m: string, card: string, at: number, checkId: string) => `${key.historyOf(m, card)}${key.newestFirst(at)}/${checkId}`,
  ledgerEntry: (m: string, card: string, seq: number) => `${key.ledgerOf(m, card)}${key.newestFirst(seq)}`,
  draw: (m: string, drawId: string) => `${m}/${drawId}`,
  /** Audit records sort by time; the counter orders calls within one millisecond. */
  audit: (at: number, n: number) => `${key.timePrefix(at)}/${String(n).padStart(12, "0")}`,
  /** Prefixes of one card's history and ledger entries (the slash keeps card 12 apart from 123). */
  historyOf: (m: string, card: string) => `${m}/${card}/h/`,
  ledgerOf: (m: string, card: string) => `${m}/${card}/l/`,
};
