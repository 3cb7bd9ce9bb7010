// The workload model: what each check of the load test does, drawn from a
// seeded PRNG so the same --seed gives the same sequence of checks.
//
// Contract
// - Pure: no clock, no I/O. `Workload.plan(index)` must be called with
//   consecutive indices (0, 1, 2, …); the n-th plan depends only on the seed,
//   the configuration and the card lists, never on timing or on answers.
// - Card popularity is Zipf-distributed over the card list (rank 1 = the
//   first card = the hottest), so a few hot cards take a large share of the
//   checks, as regulars do in a real chain. Redeeming checks draw from the
//   cards known to hold points, with their own Zipf sampler.
// - Shares are independent probabilities per check: non-member first (a
//   non-member check has no card, so it neither redeems nor identifies), then
//   redeem, coupon, cancel (the calculation is released instead of
//   confirmed), refund (a confirmed check is partly or fully refunded right
//   after its confirm).

/** Seeded PRNG (mulberry32): 32 bits of state, uniform doubles in [0, 1). Fast and good enough for workload choices. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Zipf-distributed ranks 1..n with P(k) ∝ 1/k^s, by rejection-inversion
 * (Hörmann & Derflinger 1996, as in Apache Commons' ZipfRejectionInversionSampler):
 * O(1) memory and time per sample for any n, so a 10-million-card base needs
 * no table. s = 0 is uniform; s > 0 skews towards low ranks.
 */
export class ZipfSampler {
  private readonly hIntegralX1: number;
  private readonly hIntegralN: number;
  private readonly threshold: number;

  constructor(readonly n: number, readonly s: number, private readonly random: () => number) {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`Zipf n must be a positive integer, got ${n}`);
    if (!(s >= 0) || !Number.isFinite(s)) throw new RangeError(`Zipf exponent must be ≥ 0, got ${s}`);
    this.hIntegralX1 = this.hIntegral(1.5) - 1;
    this.hIntegralN = this.hIntegral(n + 0.5);
    this.threshold = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  /** A rank in 1..n. */
  sample(): number {
    for (;;) {
      const u = this.hIntegralN + this.random() * (this.hIntegralX1 - this.hIntegralN);
      const x = this.hIntegralInverse(u);
      const k = Math.min(this.n, Math.max(1, Math.floor(x + 0.5)));
      if (k - x <= this.threshold || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  /** ∫ x^-s from 1 to x, i.e. (x^(1-s) - 1) / (1 - s), continuous at s = 1 (log x). */
  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return expm1OverX((1 - this.s) * logX) * logX;
  }

  private h(x: number): number {
    return Math.exp(-this.s * Math.log(x));
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.s);
    if (t < -1) t = -1; // numerical guard: the inverse is only defined for t ≥ -1
    return Math.exp(log1pOverX(t) * x);
  }
}

/** expm1(x)/x, 1 at x = 0. */
function expm1OverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x / 2 + (x * x) / 6;
}

/** log1p(x)/x, 1 at x = 0. */
function log1pOverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x / 2 + (x * x) / 3;
}

/** The exact Zipf probabilities P(1..n) for exponent s (for tests and reports). */
export function zipfProbabilities(n: number, s: number): number[] {
  const weights = Array.from({ length: n }, (_, i) => (i + 1) ** -s);
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

// ---------------------------------------------------------------------------
// Baskets
// ---------------------------------------------------------------------------

export interface BasketLine {
  readonly sku: string;
  readonly group: string;
  readonly quantityMilli: number;
  readonly priceMinor: number;
  readonly amountMinor: number;
}

interface CatalogueItem {
  readonly sku: string;
  readonly group: string;
  readonly priceMinor: number;
  /** Sold by weight: quantity in grams, not whole units. */
  readonly weighed: boolean;
  /** Points may pay for it (not in the demo program's no-redeem groups: tobacco, alcohol, gift cards). */
  readonly redeemable: boolean;
}

/**
 * A small supermarket catalogue over the demo seed's product groups, so its
 * promotions (coffee, dairy, the coffee + bakery bundle) and exclusions
 * (tobacco, alcohol) take part in pricing.
 */
export const catalogue: readonly CatalogueItem[] = [
  { sku: "4600000000017", group: "coffee", priceMinor: 35_000, weighed: false, redeemable: true },
  { sku: "4600000000055", group: "coffee", priceMinor: 45_000, weighed: false, redeemable: true },
  { sku: "4600000000024", group: "dairy", priceMinor: 8_990, weighed: false, redeemable: true },
  { sku: "4600000000048", group: "dairy", priceMinor: 8_950, weighed: false, redeemable: true },
  { sku: "4600000000031", group: "grocery", priceMinor: 12_990, weighed: false, redeemable: true },
  { sku: "4600000000086", group: "grocery", priceMinor: 19_900, weighed: true, redeemable: true },
  { sku: "4600000000062", group: "bakery", priceMinor: 5_500, weighed: false, redeemable: true },
  { sku: "4600000000109", group: "bakery", priceMinor: 4_500, weighed: false, redeemable: true },
  { sku: "4600000000079", group: "tobacco", priceMinor: 22_000, weighed: false, redeemable: false },
  { sku: "4600000000093", group: "alcohol", priceMinor: 89_900, weighed: false, redeemable: false },
];

const redeemableItems = catalogue.filter((item) => item.redeemable);

/**
 * `lines` basket lines, each a catalogue item with a quantity of 1–3 units
 * (or 0.2–2.5 kg when weighed). With `redeemable`, the first line is one that
 * points may pay for, so a redeeming check is never refused only because its
 * basket is all tobacco and alcohol (a cashier would not offer points then).
 * The cheapest such line still allows 10 points under the demo program's
 * 50 % cap.
 */
export function basket(random: () => number, lines: number, redeemable = false): BasketLine[] {
  const out: BasketLine[] = [];
  for (let i = 0; i < lines; i += 1) {
    const items = redeemable && i === 0 ? redeemableItems : catalogue;
    const item = items[Math.floor(random() * items.length)]!;
    const quantityMilli = item.weighed ? 200 + Math.floor(random() * 2_300) : 1_000 * (1 + Math.floor(random() * 3));
    // Price per unit (or per kg) × quantity, rounded half up to whole kopecks like a till.
    const amountMinor = Math.floor((item.priceMinor * quantityMilli + 500) / 1_000);
    out.push({ sku: item.sku, group: item.group, quantityMilli, priceMinor: item.priceMinor, amountMinor });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

export interface WorkloadOptions {
  readonly seed: number;
  /** Probability that a check has no card (SPEC P9). */
  readonly nonmemberShare: number;
  /** Probability that a member check spends points (redeemPoints of them). */
  readonly redeemShare: number;
  readonly redeemPoints: number;
  /** Probability that a check carries a coupon code. */
  readonly couponShare: number;
  /** Probability that a calculation is cancelled (hold released) instead of confirmed. */
  readonly cancelShare: number;
  /** Probability that a confirmed check is refunded right after its confirm. */
  readonly refundShare: number;
  readonly basketMin: number;
  readonly basketMax: number;
  /** Zipf exponent of card popularity; 0 = every card equally likely. */
  readonly zipfS: number;
}

export interface CardPools {
  /** Cards for earning checks, hottest first. */
  readonly earn: readonly string[];
  /** Cards holding points to spend, hottest first (may be the same list). */
  readonly redeem: readonly string[];
}

export interface RefundPlan {
  readonly full: boolean;
  /** Lines returned (index, quantity) when not full. */
  readonly lines: readonly { readonly index: number; readonly quantityMilli: number }[];
}

export interface CheckPlan {
  readonly index: number;
  /** Card number, or undefined for a non-member check (no identify). */
  readonly card: string | undefined;
  readonly lines: readonly BasketLine[];
  readonly redeemPoints: number;
  readonly coupon: string | undefined;
  /** How the check ends after calculate. */
  readonly end: "confirm" | "cancel";
  /** Set only when end = "confirm". */
  readonly refund: RefundPlan | undefined;
}

export function validateWorkloadOptions(o: WorkloadOptions): void {
  for (const key of ["nonmemberShare", "redeemShare", "couponShare", "cancelShare", "refundShare"] as const) {
    if (!(o[key] >= 0 && o[key] <= 1)) throw new RangeError(`${key} must be in [0, 1], got ${o[key]}`);
  }
  if (!Number.isSafeInteger(o.basketMin) || o.basketMin < 1 || !Number.isSafeInteger(o.basketMax) || o.basketMax < o.basketMin) {
    throw new RangeError(`basket size must be integers with 1 ≤ min ≤ max, got ${o.basketMin}..${o.basketMax}`);
  }
}

/** Draws the plan of each check in order; see the module contract. */
export class Workload {
  private readonly random: () => number;
  private readonly earnCards: ZipfSampler | undefined;
  private readonly redeemCards: ZipfSampler | undefined;
  private nextIndex = 0;

  /**
   * `fixedBaskets`, when given, replaces the generated baskets (and the basket
   * size options) with a uniform choice among them: for benchmarks that must
   * keep comparing the same few baskets across versions.
   */
  constructor(private readonly options: WorkloadOptions, private readonly cards: CardPools, private readonly fixedBaskets?: readonly (readonly BasketLine[])[]) {
    validateWorkloadOptions(options);
    this.random = mulberry32(options.seed);
    this.earnCards = cards.earn.length > 0 ? new ZipfSampler(cards.earn.length, options.zipfS, this.random) : undefined;
    this.redeemCards = cards.redeem.length > 0 ? new ZipfSampler(cards.redeem.length, options.zipfS, this.random) : undefined;
  }

  plan(index: number): CheckPlan {
    if (index !== this.nextIndex) throw new RangeError(`plans are drawn in order: expected index ${this.nextIndex}, got ${index}`);
    this.nextIndex += 1;
    const o = this.options;
    const r = this.random;
    const member = this.earnCards !== undefined && r() >= o.nonmemberShare;
    const redeem = member && this.redeemCards !== undefined && r() < o.redeemShare;
    let card: string | undefined;
    if (redeem) card = this.cards.redeem[this.redeemCards!.sample() - 1];
    else if (member) card = this.cards.earn[this.earnCards!.sample() - 1];
    let lines: readonly BasketLine[];
    if (this.fixedBaskets !== undefined && this.fixedBaskets.length > 0) lines = this.fixedBaskets[Math.floor(r() * this.fixedBaskets.length)]!;
    else lines = basket(r, o.basketMin + Math.floor(r() * (o.basketMax - o.basketMin + 1)), redeem);
    const coupon = r() < o.couponShare ? `LT${String(Math.floor(r() * 1e8)).padStart(8, "0")}` : undefined;
    const end = r() < o.cancelShare ? "cancel" : "confirm";
    let refund: RefundPlan | undefined;
    if (end === "confirm" && r() < o.refundShare) {
      // Half the refunds return everything; the rest return one line, in part when it has more than one unit.
      if (r() < 0.5) refund = { full: true, lines: [] };
      else {
        const lineIndex = Math.floor(r() * lines.length);
        const line = lines[lineIndex]!;
        const quantityMilli = line.quantityMilli > 1_000 ? 1_000 : line.quantityMilli;
        refund = { full: false, lines: [{ index: lineIndex, quantityMilli }] };
      }
    }
    return { index, card, lines, redeemPoints: redeem ? o.redeemPoints : 0, coupon, end, refund };
  }
}
