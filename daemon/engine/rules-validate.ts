// Validation of a rules version (program settings, tiers, promotions) as it
// arrives from staff: a JSON or YAML file sent by admin-cli. Every check names
// the field with its path (`promotions[2].effect.bp`), so the person who wrote
// the file knows what to fix. Unknown fields are errors too: a misspelt
// `exlusive` silently ignored would change what a promotion does.
//
// The engine runs this on every `rules.publish` (journaled, so replay runs it
// again with the same outcome); admin-cli runs it offline for `promo validate`.
import { attempt, bool, fail, id, int, list, object, text, type FieldProblem, type Obj } from "./fields.js";
import type { Program, Promotion, PromotionConditions, PromotionEffect, RulesVersion, TierRule } from "./model.js";

export type { FieldProblem } from "./fields.js";

/** Promotions per rules version: each is evaluated on every Calculate. */
export const promotionsMax = 200;
/** Tiers per program. */
export const tiersMax = 20;
/** Groups in one list (exclusions, conditions). */
export const groupsMax = 200;

const ids = (v: unknown, field: string) => list(v, field, groupsMax, id);

const tierFields = ["id", "name", "spendMinMinor", "accrualBp", "discountBp"] as const;

function tier(v: unknown, field: string): TierRule {
  const o = object(v, field, tierFields);
  return {
    id: id(o.id, `${field}.id`), name: text(o.name, `${field}.name`),
    spendMinMinor: int(o.spendMinMinor, `${field}.spendMinMinor`, 0),
    accrualBp: int(o.accrualBp, `${field}.accrualBp`, 0, 10_000), discountBp: int(o.discountBp, `${field}.discountBp`, 0, 10_000),
  };
}

const day = 86_400_000;
const programFields = [
  "pointValueMinor", "redeemCapBp", "activationDelayMs", "lotLifetimeMs", "expiryRounding", "holdTtlMs", "welcomePoints",
  "expiringSoonMs", "noEarnGroups", "noRedeemGroups", "tiers", "phoneIdentify", "giftLifetimeMs",
] as const;

function program(v: unknown, field: string): Program {
  const o = object(v, field, programFields);
  const f = (k: string) => (field ? `${field}.${k}` : k);
  for (const k of programFields) if (!(k in o)) fail(f(k), "is required");
  const rounding = o.expiryRounding;
  if (rounding !== "none" && rounding !== "day" && rounding !== "month") fail(f("expiryRounding"), "must be none, day or month");
  const tiers = list(o.tiers, f("tiers"), tiersMax, tier);
  if (tiers.length === 0) fail(f("tiers"), "at least one tier is required");
  if (tiers[0]!.spendMinMinor !== 0) fail(`${f("tiers")}[0].spendMinMinor`, "the first tier must start at 0");
  for (let i = 1; i < tiers.length; i += 1) {
    if (tiers[i]!.spendMinMinor <= tiers[i - 1]!.spendMinMinor) fail(`${f("tiers")}[${i}].spendMinMinor`, "must be greater than the previous tier's");
    if (tiers.slice(0, i).some((t) => t.id === tiers[i]!.id)) fail(`${f("tiers")}[${i}].id`, "duplicate tier id");
  }
  return {
    pointValueMinor: int(o.pointValueMinor, f("pointValueMinor"), 1, 1_000_000),
    redeemCapBp: int(o.redeemCapBp, f("redeemCapBp"), 0, 10_000),
    activationDelayMs: int(o.activationDelayMs, f("activationDelayMs"), 0, 365 * day),
    lotLifetimeMs: int(o.lotLifetimeMs, f("lotLifetimeMs"), 60_000, 10 * 365 * day),
    expiryRounding: rounding,
    holdTtlMs: int(o.holdTtlMs, f("holdTtlMs"), 1_000, day),
    welcomePoints: int(o.welcomePoints, f("welcomePoints"), 0, 1_000_000),
    expiringSoonMs: int(o.expiringSoonMs, f("expiringSoonMs"), 0, 365 * day),
    noEarnGroups: ids(o.noEarnGroups, f("noEarnGroups")),
    noRedeemGroups: ids(o.noRedeemGroups, f("noRedeemGroups")),
    tiers,
    phoneIdentify: bool(o.phoneIdentify, f("phoneIdentify")),
    giftLifetimeMs: int(o.giftLifetimeMs, f("giftLifetimeMs"), day, 10 * 365 * day),
  };
}

const conditionFields = [
  "stores", "regions", "groups", "bundle", "weekdays", "minuteFrom", "minuteTo", "tiers", "tags", "minBasketMinor",
  "birthdayWindowDays", "membersOnly",
] as const;

function conditions(v: unknown, field: string): PromotionConditions {
  const o = object(v ?? {}, field, conditionFields);
  const c: PromotionConditions = {};
  const f = (k: string) => `${field}.${k}`;
  if (o.stores !== undefined) c.stores = ids(o.stores, f("stores"));
  if (o.regions !== undefined) c.regions = ids(o.regions, f("regions"));
  if (o.groups !== undefined) c.groups = ids(o.groups, f("groups"));
  if (o.bundle !== undefined) c.bundle = ids(o.bundle, f("bundle"));
  if (o.tiers !== undefined) c.tiers = ids(o.tiers, f("tiers"));
  if (o.tags !== undefined) c.tags = ids(o.tags, f("tags"));
  if (o.weekdays !== undefined) c.weekdays = list(o.weekdays, f("weekdays"), 7, (d, df) => int(d, df, 0, 6));
  if (o.minuteFrom !== undefined || o.minuteTo !== undefined) {
    c.minuteFrom = int(o.minuteFrom, f("minuteFrom"), 0, 1_439);
    c.minuteTo = int(o.minuteTo, f("minuteTo"), 1, 1_440);
    if (c.minuteTo <= c.minuteFrom) fail(f("minuteTo"), "must be after minuteFrom");
  }
  if (o.minBasketMinor !== undefined) c.minBasketMinor = int(o.minBasketMinor, f("minBasketMinor"), 0);
  if (o.birthdayWindowDays !== undefined) c.birthdayWindowDays = int(o.birthdayWindowDays, f("birthdayWindowDays"), 0, 31);
  if (o.membersOnly !== undefined) c.membersOnly = bool(o.membersOnly, f("membersOnly"));
  return c;
}

function effect(v: unknown, field: string): PromotionEffect {
  const kind = (v as Obj | null)?.kind;
  const f = (k: string) => `${field}.${k}`;
  switch (kind) {
    case "points_multiplier": {
      const o = object(v, field, ["kind", "multiplierPct"]);
      return { kind, multiplierPct: int(o.multiplierPct, f("multiplierPct"), 100, 10_000) };
    }
    case "fixed_points": {
      const o = object(v, field, ["kind", "points"]);
      return { kind, points: int(o.points, f("points"), 1, 1_000_000) };
    }
    case "percent_discount": {
      const o = object(v, field, ["kind", "bp"]);
      return { kind, bp: int(o.bp, f("bp"), 1, 10_000) };
    }
    case "fixed_discount": {
      const o = object(v, field, ["kind", "amountMinor"]);
      return { kind, amountMinor: int(o.amountMinor, f("amountMinor"), 1, 100_000_000) };
    }
    default:
      return fail(f("kind"), "must be one of points_multiplier, fixed_points, percent_discount, fixed_discount");
  }
}

const promotionFields = ["id", "name", "priority", "exclusive", "validFrom", "validTo", "conditions", "effect"] as const;

function promotion(v: unknown, field: string): Promotion {
  const o = object(v, field, promotionFields);
  const f = (k: string) => `${field}.${k}`;
  const p: Promotion = {
    id: id(o.id, f("id")), name: text(o.name, f("name")), priority: int(o.priority ?? 0, f("priority"), -1_000_000, 1_000_000),
    exclusive: bool(o.exclusive ?? false, f("exclusive")),
    validFrom: int(o.validFrom ?? 0, f("validFrom"), 0), validTo: int(o.validTo ?? Number.MAX_SAFE_INTEGER, f("validTo"), 0),
    conditions: conditions(o.conditions, f("conditions")), effect: effect(o.effect, f("effect")),
  };
  if (p.validTo <= p.validFrom) fail(f("validTo"), "must be after validFrom");
  return p;
}

/** Validates and normalises a promotions list (defaults filled in). */
export function parsePromotions(v: unknown, field = "promotions"): { ok: true; promotions: Promotion[] } | { ok: false; problem: FieldProblem } {
  return attempt(() => {
    const promotions = list(v, field, promotionsMax, promotion);
    promotions.forEach((p, i) => {
      if (promotions.findIndex((q) => q.id === p.id) !== i) fail(`${field}[${i}].id`, `duplicate promotion id ${p.id}`);
    });
    return { ok: true as const, promotions };
  });
}

/** Validates a program (every field required). */
export function parseProgram(v: unknown, field = "program"): { ok: true; program: Program } | { ok: false; problem: FieldProblem } {
  return attempt(() => ({ ok: true as const, program: program(v, field) }));
}

/** Validates a whole rules version as the engine stores it. */
export function checkRulesVersion(v: RulesVersion): FieldProblem | null {
  const p = parseProgram(v.program);
  if (!p.ok) return p.problem;
  const q = parsePromotions(v.promotions);
  if (!q.ok) return q.problem;
  if (!Number.isSafeInteger(v.from) || v.from < 0) return { field: "from", message: "must be a time in ms" };
  return null;
}
