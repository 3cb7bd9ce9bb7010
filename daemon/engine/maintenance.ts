// Scheduled jobs, journaled like everything else (SPEC E1: "expiry runs on
// schedule and is journaled"). The scheduler (service.ts) finds due keys in
// the time-ordered "due" table (one kind prefix per job) and sends them, without
// the prefix, in the command; the engine
// re-checks each against `now`, so a replay does exactly the same.
//
// - sweep-holds: calculations whose hold ran out become "cancelled" and their
//   hold leaves the account (reads already ignored it).
// - expire-lots: lots past their expiry leave the account with a ledger entry.
// - forget-idempotency: answers older than the retention period are dropped.
// - reevaluate-tiers: downgrades cards whose rolling 12-month spend fell
//   below their tier (upgrades happen at once on purchase).
import { assert } from "../assert.js";
import { expireLots, spend12m, withoutHold } from "./account.js";
import { appendLedger, ledgerItem } from "./common.js";
import type { Account, CheckRecord, MerchantRecord, RulesRecord } from "./model.js";
import { releaseCoupons } from "./coupons.js";
import { dueKinds, key, type DueKind } from "./model.js";
import { localMonthIndex, tierForSpend, tierRank } from "./rules.js";
import type { ReadTx, Tx } from "./tx.js";

export type MaintenanceJob = "sweep-holds" | "expire-lots" | "forget-idempotency" | "reevaluate-tiers";

/** The "due" entries each time-driven job works through. */
export const dueKindOfJob: Readonly<Record<Exclude<MaintenanceJob, "reevaluate-tiers">, DueKind>> = {
  "sweep-holds": dueKinds.hold, "expire-lots": dueKinds.lots, "forget-idempotency": dueKinds.idempotency,
};

export interface MaintenanceCommand {
  t: "maint";
  job: MaintenanceJob;
  /** Job keys (time-prefixed, without the due kind) for the first three jobs; account keys (merchant/card) for tiers. */
  keys: string[];
}

/** Keys one maintenance command handles: bounds the work of one apply. */
export const maintenanceBatchMax = 500;

function dueAt(jobKey: string): number {
  return Number(jobKey.slice(0, 15));
}

/** The job keys of `job` due at `now`, oldest first, at most maintenanceBatchMax: what the scheduler sends. */
export function dueJobKeys(tx: ReadTx, job: keyof typeof dueKindOfJob, now: number): string[] {
  const prefix = key.due(dueKindOfJob[job], "");
  // Job keys start with the due time as 15 digits, so every key due at `now`
  // sorts before this one. Keys only: the entries' values (stored answers,
  // for forget-idempotency) are large and not needed to schedule them.
  const before = prefix + String(now + 1).padStart(15, "0");
  const keys: string[] = [];
  for (const k of tx.scanKeys("due", prefix, maintenanceBatchMax, before)) {
    const jobKey = k.slice(prefix.length);
    assert(dueAt(jobKey) <= now, `due key ${k} past ${now} listed as due`);
    keys.push(jobKey);
  }
  return keys;
}

export function applyMaintenance(tx: Tx, cmd: MaintenanceCommand, now: number): { done: number } {
  assert(cmd.keys.length <= maintenanceBatchMax, "maintenance batch too large");
  let done = 0;
  for (const k of cmd.keys) {
    if (cmd.job === "reevaluate-tiers") {
      if (reevaluateTier(tx, k, now)) done += 1;
      continue;
    }
    if (dueAt(k) > now) continue;
    const dueKey = key.due(dueKindOfJob[cmd.job], k);
    if (cmd.job === "sweep-holds") {
      if (tx.get("due", dueKey) === undefined) continue;
      tx.del("due", dueKey);
      const [, m, id] = k.split("/") as [string, string, string];
      const check = tx.get<CheckRecord>("checks", key.check(m, id));
      if (check?.state !== "calculated" || check.expiresAt > now) continue;
      tx.put("checks", key.check(m, id), { ...check, state: "cancelled" } satisfies CheckRecord);
      releaseCoupons(tx, m, check);
      if (check.card && check.redeem > 0) {
        const account = tx.get<Account>("accounts", key.card(m, check.card));
        if (account) tx.put("accounts", key.card(m, check.card), withoutHold(account, id, now));
      }
      done += 1;
    } else if (cmd.job === "expire-lots") {
      if (tx.get("due", dueKey) === undefined) continue;
      tx.del("due", dueKey);
      const [, m, card] = k.split("/") as [string, string, string];
      const accountKey = key.card(m, card);
      const account = tx.get<Account>("accounts", accountKey);
      if (!account) continue;
      const { account: next, expired } = expireLots(account, now);
      if (expired.length === 0) continue;
      tx.put("accounts", accountKey, next);
      appendLedger(tx, m, card, expired.map((lot) => ledgerItem({ at: now, pts: -lot.pts, reason: "expiry", note: lot.id, exp: lot.exp })));
      done += 1;
    } else {
      const idemKey = k.slice(16);
      tx.del("due", dueKey);
      tx.del("idempotency", idemKey);
      done += 1;
    }
  }
  return { done };
}

function reevaluateTier(tx: Tx, accountKey: string, now: number): boolean {
  const m = accountKey.slice(0, accountKey.indexOf("/"));
  const account = tx.get<Account>("accounts", accountKey);
  const rules = tx.get<RulesRecord>("rules", m);
  const merchant = tx.get<MerchantRecord>("merchants", m);
  if (!account || !rules || !merchant) return false;
  const program = rules.versions[rules.versions.length - 1]!.program;
  const earned = tierForSpend(program, spend12m(account, localMonthIndex(now, merchant.tzOffsetMin)));
  if (tierRank(program, earned.id) >= tierRank(program, account.tier)) return false;
  tx.put("accounts", accountKey, { ...account, tier: earned.id } satisfies Account);
  return true;
}
