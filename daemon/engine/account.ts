// Points lots of a bonus card (SPEC E1, P5): accrue, hold, spend, take back,
// expire. Functions return new Account values and never mutate their input
// (values read from a Tx are shared with the store's overlay).
//
// Invariants, asserted by `assertAccount` after every change:
// - bal === sum(lots.pts) - debt
// - every lot has integer pts > 0 and act <= exp
// - debt >= 0, and debt > 0 only when there are no lots (accruals pay it first)
// - holds have integer pts > 0
//
// Spending consumes active lots soonest-expiring first (ties: oldest
// activation, then id), so customers lose as few points to expiry as possible.
import { assert, assertSafeInteger } from "../assert.js";
import type { Account, ConsumedLot, Lot } from "./model.js";

export function newAccount(tier: string): Account {
  return { lots: [], holds: [], debt: 0, bal: 0, tier, spend: [], lastPurchaseAt: 0, welcomeGranted: false, seq: 0 };
}

export function assertAccount(a: Account): void {
  let sum = 0;
  for (const lot of a.lots) {
    assertSafeInteger(lot.pts, "lot points");
    assert(lot.pts > 0, `lot ${lot.id} has non-positive points ${lot.pts}`);
    assert(lot.act <= lot.exp, `lot ${lot.id} activates after it expires`);
    sum += lot.pts;
  }
  assertSafeInteger(a.debt, "debt");
  assert(a.debt >= 0, "debt is negative");
  assert(a.debt === 0 || a.lots.length === 0, "debt coexists with lots");
  assert(a.bal === sum - a.debt, `balance ${a.bal} != lots ${sum} - debt ${a.debt}`);
  for (const h of a.holds) assert(Number.isSafeInteger(h.pts) && h.pts > 0, "hold points must be positive integers");
}

function byExpiry(x: Lot, y: Lot): number {
  return x.exp - y.exp || x.act - y.act || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
}

export interface PointsView {
  /** Spendable now, net of live holds (other than `exceptHold`) and debt; >= 0. */
  active: number;
  pending: number;
  held: number;
  expiringSoon: number;
  debt: number;
}

export function pointsView(a: Account, now: number, expiringSoonMs: number, exceptHold = ""): PointsView {
  let active = 0;
  let pending = 0;
  let soon = 0;
  for (const lot of a.lots) {
    if (lot.exp <= now) continue; // expired; the expiry job removes it with a ledger entry
    if (lot.act > now) { pending += lot.pts; continue; }
    active += lot.pts;
    if (lot.exp <= now + expiringSoonMs) soon += lot.pts;
  }
  let held = 0;
  for (const h of a.holds) if (h.exp > now && h.check !== exceptHold) held += h.pts;
  const spendable = Math.max(0, active - held - a.debt);
  return { active: spendable, pending, held, expiringSoon: Math.min(soon, spendable), debt: a.debt };
}

/**
 * Adds points as a lot; outstanding debt is paid first. A lot with the same
 * id, activation and expiry (points given back to where they came from) is
 * merged, so a void restores the account's lots exactly. Returns what went to debt.
 */
export function addLot(a: Account, lot: Lot): { account: Account; toDebt: number } {
  assert(Number.isSafeInteger(lot.pts) && lot.pts >= 0, "addLot: points must be a non-negative integer");
  const toDebt = Math.min(a.debt, lot.pts);
  const left = lot.pts - toDebt;
  const same = a.lots.findIndex((l) => l.id === lot.id && l.act === lot.act && l.exp === lot.exp);
  const lots = left === 0 ? a.lots
    : same >= 0 ? a.lots.map((l, i) => (i === same ? { ...l, pts: l.pts + left } : l))
    : [...a.lots, { ...lot, pts: left }];
  const account = { ...a, lots, debt: a.debt - toDebt, bal: a.bal + lot.pts };
  assertAccount(account);
  return { account, toDebt };
}

/** Spends `pts` from active lots, soonest-expiring first. Caller checked availability. */
export function consume(a: Account, pts: number, now: number): { account: Account; consumed: ConsumedLot[] } {
  assert(a.debt === 0 || pts === 0, "consume with debt outstanding");
  const consumed: ConsumedLot[] = [];
  const sorted = [...a.lots].sort(byExpiry);
  const lots: Lot[] = [];
  let left = pts;
  for (const lot of sorted) {
    if (left > 0 && lot.act <= now && lot.exp > now) {
      const take = Math.min(left, lot.pts);
      left -= take;
      consumed.push({ id: lot.id, pts: take, act: lot.act, exp: lot.exp });
      if (lot.pts > take) lots.push({ ...lot, pts: lot.pts - take });
    } else {
      lots.push(lot);
    }
  }
  assert(left === 0, `consume: ${left} points short`);
  const account = { ...a, lots, bal: a.bal - pts };
  assertAccount(account);
  return { account, consumed };
}

/**
 * Takes back earned points (a refund or void reverses an accrual): first from
 * the lot that accrual created, then from the other lots soonest-expiring
 * first (pending ones included), and what is left becomes debt.
 */
export function takeBack(a: Account, pts: number, ownLotId: string): { account: Account; toDebt: number } {
  let left = pts;
  const own = a.lots.find((l) => l.id === ownLotId);
  const order = [...(own ? [own] : []), ...[...a.lots].filter((l) => l !== own).sort(byExpiry)];
  const lots: Lot[] = [];
  for (const lot of order) {
    const take = Math.min(left, lot.pts);
    left -= take;
    if (lot.pts > take) lots.push({ ...lot, pts: lot.pts - take });
  }
  lots.sort(byExpiry);
  const account = { ...a, lots, debt: a.debt + left, bal: a.bal - pts };
  assertAccount(account);
  return { account, toDebt: left };
}

/** Removes lots that expired at `now`; returns them for the ledger. */
export function expireLots(a: Account, now: number): { account: Account; expired: Lot[] } {
  const expired = a.lots.filter((l) => l.exp <= now);
  if (expired.length === 0) return { account: a, expired };
  const gone = expired.reduce((s, l) => s + l.pts, 0);
  const account = { ...a, lots: a.lots.filter((l) => l.exp > now), bal: a.bal - gone };
  assertAccount(account);
  return { account, expired };
}

export function withHold(a: Account, check: string, pts: number, exp: number, now: number): Account {
  // Dead holds are dropped on every write so the list stays bounded by live calculations.
  const holds = a.holds.filter((h) => h.check !== check && h.exp > now);
  if (pts > 0) holds.push({ check, pts, exp });
  return { ...a, holds };
}

export function withoutHold(a: Account, check: string, now: number): Account {
  return { ...a, holds: a.holds.filter((h) => h.check !== check && h.exp > now) };
}

/** Adds `minor` to the spend and `purchases` to the count of the local month `month`, keeping 13 months. */
export function addSpend(a: Account, month: number, minor: number, purchases: number): Account {
  const spend = a.spend.map(([m, v, n]) => [m, v, n] as [number, number, number]);
  const entry = spend.find(([m]) => m === month);
  if (entry) {
    entry[1] += minor;
    entry[2] += purchases;
  } else {
    spend.push([month, minor, purchases]);
    spend.sort((x, y) => x[0] - y[0]);
  }
  while (spend.length > 13) spend.shift();
  return { ...a, spend };
}

/** Purchases in the local month `month` and the two before it. */
export function recentPurchases(a: Account, month: number): number {
  let sum = 0;
  for (const [m, , n] of a.spend) if (m > month - 3 && m <= month) sum += n;
  return Math.max(0, sum);
}

/** Spend over the 12 local months ending with `month` (inclusive). */
export function spend12m(a: Account, month: number): number {
  let sum = 0;
  for (const [m, v] of a.spend) if (m > month - 12 && m <= month) sum += v;
  return Math.max(0, sum);
}
