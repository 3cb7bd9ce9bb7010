// Pricing a basket under a merchant's rules (SPEC E3, E4): which promotions
// apply, the discount on each line, the accrual rate of each line, and why.
// Pure: no state, no clock (the purchase time comes in), no I/O.
//
// Order of evaluation (documented for the chain's marketing staff):
// 1. Promotions sorted by priority (higher first), then id. Each applies when
//    all of its conditions hold; an exclusive one that applies stops every
//    promotion after it.
// 2. Discounts apply in that order, each on what earlier ones left of a line;
//    a line never goes below zero.
// 3. Point multipliers do not stack: a line earns at the highest multiplier
//    among the promotions that matched it.
// 4. Discount cards (E4) give their percent on every line that is not in a
//    no-redeem group, after promotions, and earn no points.
import { allocate, applyBp, mulDivFloor } from "./money.js";
import type { AppliedPromotionRecord, CardKind, Program, Promotion, RulesVersion, TierRule } from "./model.js";
import { assert } from "../assert.js";

export interface PricingLine {
  grp: string;
  amt: number;
}

export interface PricingMember {
  kind: CardKind;
  tier: TierRule;
  tags: readonly string[];
  /** YYYY-MM-DD or "". */
  birthDate: string;
  /** Discount cards: the percent the card gives. */
  discountBp: number;
}

export interface PricingInput {
  version: RulesVersion;
  at: number;
  tzOffsetMin: number;
  storeId: string;
  region: string;
  lines: readonly PricingLine[];
  /** null for a non-member check. */
  member: PricingMember | null;
}

export interface PricedLine {
  disc: number;
  /** Accrual rate in basis points of the amount (0: earns nothing). */
  rateBp: number;
  /** The promotion whose multiplier set rateBp, if any. */
  multiplierPromo: string;
  redeemable: boolean;
  promos: string[];
}

export interface Pricing {
  lines: PricedLine[];
  applied: AppliedPromotionRecord[];
  /** Points granted per check by fixed-points promotions. */
  fixedPoints: number;
}

const dayMs = 86_400_000;

export function localDay(at: number, tzOffsetMin: number): number {
  return Math.floor((at + tzOffsetMin * 60_000) / dayMs);
}

export function localWeekday(at: number, tzOffsetMin: number): number {
  // Day 0 (1970-01-01) was a Thursday.
  return (((localDay(at, tzOffsetMin) + 4) % 7) + 7) % 7;
}

export function localMinute(at: number, tzOffsetMin: number): number {
  const local = at + tzOffsetMin * 60_000;
  return Math.floor((((local % dayMs) + dayMs) % dayMs) / 60_000);
}

/** Local calendar month as an index (year*12 + month0). */
export function localMonthIndex(at: number, tzOffsetMin: number): number {
  const d = new Date(localDay(at, tzOffsetMin) * dayMs);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

/** Start of the local day after `at`, as UTC ms. */
export function endOfLocalDay(at: number, tzOffsetMin: number): number {
  return (localDay(at, tzOffsetMin) + 1) * dayMs - tzOffsetMin * 60_000;
}

/** Start of the local month after `at`, as UTC ms. */
export function endOfLocalMonth(at: number, tzOffsetMin: number): number {
  const month = localMonthIndex(at, tzOffsetMin) + 1;
  return Date.UTC(Math.floor(month / 12), month % 12, 1) - tzOffsetMin * 60_000;
}

export function roundExpiry(exp: number, program: Program, tzOffsetMin: number): number {
  if (program.expiryRounding === "day") return endOfLocalDay(exp - 1, tzOffsetMin);
  if (program.expiryRounding === "month") return endOfLocalMonth(exp - 1, tzOffsetMin);
  return exp;
}

/** Days between the local date of `at` and the nearest birthday (any year). */
export function daysFromBirthday(birthDate: string, at: number, tzOffsetMin: number): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  if (!match) return Number.POSITIVE_INFINITY;
  const month = Number(match[2]) - 1;
  const day = Number(match[3]);
  const today = localDay(at, tzOffsetMin);
  const year = new Date(today * dayMs).getUTCFullYear();
  let best = Number.POSITIVE_INFINITY;
  for (const y of [year - 1, year, year + 1]) {
    const birthday = Math.floor(Date.UTC(y, month, day) / dayMs);
    best = Math.min(best, Math.abs(birthday - today));
  }
  return best;
}

/** The rules version valid at `at`: the newest one whose `from` is not after it. */
export function rulesAt(versions: readonly RulesVersion[], at: number): RulesVersion {
  assert(versions.length > 0, "a merchant always has rules");
  let chosen = versions[0]!;
  for (const v of versions) if (v.from <= at) chosen = v;
  return chosen;
}

/** The tier for a rolling 12-month spend: the highest whose threshold it reaches. */
export function tierForSpend(program: Program, spend12m: number): TierRule {
  let chosen = program.tiers[0]!;
  for (const t of program.tiers) if (spend12m >= t.spendMinMinor) chosen = t;
  return chosen;
}

export function tierById(program: Program, id: string): TierRule {
  return program.tiers.find((t) => t.id === id) ?? program.tiers[0]!;
}

export function tierRank(program: Program, id: string): number {
  return program.tiers.findIndex((t) => t.id === id);
}

function describe(p: Promotion): string {
  const e = p.effect;
  const what =
    e.kind === "points_multiplier" ? `x${(e.multiplierPct / 100).toString()} points`
    : e.kind === "fixed_points" ? `${e.points} bonus points`
    : e.kind === "percent_discount" ? `${(e.bp / 100).toString()}% off`
    : `${e.amountMinor} off`;
  const c = p.conditions;
  const where: string[] = [];
  if (c.bundle?.length) where.push(`when buying ${c.bundle.join(" + ")} together`);
  if (c.groups?.length) where.push(`on ${c.groups.join(", ")}`);
  if (c.weekdays?.length) where.push(`on weekdays ${c.weekdays.join(",")}`);
  if (c.minuteFrom !== undefined || c.minuteTo !== undefined) where.push("in its time window");
  if (c.tiers?.length) where.push(`for ${c.tiers.join("/")} tier`);
  if (c.tags?.length) where.push(`for customers tagged ${c.tags.join("/")}`);
  if (c.birthdayWindowDays !== undefined) where.push("around the customer's birthday");
  if (c.minBasketMinor) where.push(`for baskets from ${c.minBasketMinor}`);
  if (c.stores?.length || c.regions?.length) where.push("in participating stores");
  return [what, ...where].join(" ");
}

function conditionsHold(p: Promotion, input: PricingInput, total: number, groups: ReadonlySet<string>): boolean {
  const c = p.conditions;
  const { at, tzOffsetMin, member } = input;
  if (at < p.validFrom || at >= p.validTo) return false;
  if (c.stores?.length && !c.stores.includes(input.storeId)) return false;
  if (c.regions?.length && !c.regions.includes(input.region)) return false;
  if (c.weekdays?.length && !c.weekdays.includes(localWeekday(at, tzOffsetMin))) return false;
  const minute = localMinute(at, tzOffsetMin);
  if (c.minuteFrom !== undefined && minute < c.minuteFrom) return false;
  if (c.minuteTo !== undefined && minute >= c.minuteTo) return false;
  if (c.minBasketMinor !== undefined && total < c.minBasketMinor) return false;
  if (c.bundle?.length && !c.bundle.every((g) => groups.has(g))) return false;
  if (c.groups?.length && !c.groups.some((g) => groups.has(g))) return false;
  const needsMember = c.membersOnly || c.tiers?.length || c.tags?.length || c.birthdayWindowDays !== undefined;
  if (needsMember && member === null) return false;
  if (member !== null) {
    if (c.tiers?.length && !c.tiers.includes(member.tier.id)) return false;
    if (c.tags?.length && !c.tags.some((t) => member.tags.includes(t))) return false;
    if (c.birthdayWindowDays !== undefined && daysFromBirthday(member.birthDate, at, tzOffsetMin) > c.birthdayWindowDays) return false;
  }
  return true;
}

function matchedLines(p: Promotion, lines: readonly PricingLine[]): number[] {
  const scope = p.conditions.groups?.length ? p.conditions.groups : p.conditions.bundle?.length ? p.conditions.bundle : null;
  const out: number[] = [];
  lines.forEach((line, i) => { if (scope === null || scope.includes(line.grp)) out.push(i); });
  return out;
}

/**
 * What pricing derives from a rules version alone: the promotions in the
 * order they are tried, each one's reason text, and the program's group sets.
 * Stored records are never mutated (tx.ts), so this is kept per promotions
 * array and program object; the store hands out the same decoded rules
 * record until the rules change, so every check of a merchant reuses it
 * instead of sorting, formatting and building sets again. Weak keys: an
 * outdated version's entry goes with it.
 */
interface PromotionPlan {
  ordered: readonly Promotion[];
  reasons: readonly string[];
}
interface GroupSets {
  noEarn: ReadonlySet<string>;
  noRedeem: ReadonlySet<string>;
}
const promotionPlans = new WeakMap<readonly Promotion[], PromotionPlan>();
const groupSets = new WeakMap<Program, GroupSets>();

function promotionPlan(promotions: readonly Promotion[]): PromotionPlan {
  let plan = promotionPlans.get(promotions);
  if (plan === undefined) {
    const ordered = [...promotions].sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    plan = { ordered, reasons: ordered.map(describe) };
    promotionPlans.set(promotions, plan);
  }
  return plan;
}

function groupSetsOf(program: Program): GroupSets {
  let sets = groupSets.get(program);
  if (sets === undefined) {
    sets = { noEarn: new Set(program.noEarnGroups), noRedeem: new Set(program.noRedeemGroups) };
    groupSets.set(program, sets);
  }
  return sets;
}

export function priceBasket(input: PricingInput): Pricing {
  const { program, promotions } = input.version;
  const { member } = input;
  const { noEarn, noRedeem } = groupSetsOf(program);
  const earns = member !== null && member.kind === "bonus";
  const baseRate = earns ? member.tier.accrualBp : 0;

  const lines: PricedLine[] = input.lines.map((l) => ({
    disc: 0,
    rateBp: earns && !noEarn.has(l.grp) ? baseRate : 0,
    multiplierPromo: "",
    redeemable: earns && !noRedeem.has(l.grp),
    promos: [],
  }));
  const total = input.lines.reduce((s, l) => s + l.amt, 0);
  const groups = new Set(input.lines.map((l) => l.grp));
  const applied: AppliedPromotionRecord[] = [];
  let fixedPoints = 0;

  const { ordered, reasons } = promotionPlan(promotions);
  for (let k = 0; k < ordered.length; k += 1) {
    const p = ordered[k]!;
    if (!conditionsHold(p, input, total, groups)) continue;
    const matched = matchedLines(p, input.lines);
    const record: AppliedPromotionRecord = { id: p.id, name: p.name, reason: reasons[k]!, discount: 0, points: 0 };
    const e = p.effect;
    if (e.kind === "percent_discount") {
      for (const i of matched) {
        const left = input.lines[i]!.amt - lines[i]!.disc;
        const d = Math.min(left, applyBp(left, e.bp));
        lines[i]!.disc += d;
        record.discount += d;
        if (d > 0) lines[i]!.promos.push(p.id);
      }
    } else if (e.kind === "fixed_discount") {
      const lefts = matched.map((i) => input.lines[i]!.amt - lines[i]!.disc);
      const amount = Math.min(e.amountMinor, lefts.reduce((a, b) => a + b, 0));
      const parts = allocate(amount, lefts);
      matched.forEach((i, k) => {
        lines[i]!.disc += parts[k]!;
        if (parts[k]! > 0) lines[i]!.promos.push(p.id);
      });
      record.discount = amount;
    } else if (e.kind === "points_multiplier") {
      if (!earns) continue;
      for (const i of matched) {
        const line = lines[i]!;
        if (noEarn.has(input.lines[i]!.grp)) continue;
        const rate = mulDivFloor(baseRate, e.multiplierPct, 100);
        if (rate > line.rateBp) {
          line.rateBp = rate;
          line.multiplierPromo = p.id;
        }
        line.promos.push(p.id);
      }
    } else {
      if (!earns) continue;
      fixedPoints += e.points;
      record.points = e.points;
    }
    applied.push(record);
    if (p.exclusive) break;
  }

  if (member !== null && member.kind === "discount" && member.discountBp > 0) {
    for (let i = 0; i < lines.length; i += 1) {
      if (noRedeem.has(input.lines[i]!.grp)) continue;
      const left = input.lines[i]!.amt - lines[i]!.disc;
      lines[i]!.disc += applyBp(left, member.discountBp);
    }
  }
  return { lines, applied, fixedPoints };
}

export { describe as describePromotion };
