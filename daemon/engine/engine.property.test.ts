// Seeded property test: random interleavings of identify / calculate /
// confirm / cancel / refund / retries / scheduled jobs across cards and
// terminals, with the clock moving. After every step the invariants hold; at
// the end the journal replays into an identical state. fast-check prints the
// seed and the shrunk sequence on failure (reproduce with { seed, path }).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeResponse, ErrorCode, type Operation } from "../../protocol/codec.js";
import { assertAccount } from "./account.js";
import { dueJobKeys } from "./maintenance.js";
import type { Account, CheckRecord, LedgerItem } from "./model.js";
import { EngineFixture, line, replay } from "./test-support/engine-fixture.js";

type Step =
  | { k: "calc"; card: number; terminal: number; amounts: number[]; redeem: number }
  | { k: "confirm"; pick: number; terminal: number }
  | { k: "cancel"; pick: number; terminal: number }
  | { k: "refund"; pick: number; share: number; full: boolean }
  | { k: "retry"; pick: number }
  | { k: "identify"; card: number }
  | { k: "time"; minutes: number }
  | { k: "jobs" };

const cards = 4;
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant("calc" as const), card: fc.integer({ min: -1, max: cards - 1 }), terminal: fc.integer({ min: 0, max: 3 }),
    amounts: fc.array(fc.integer({ min: 1, max: 300_000 }), { minLength: 1, maxLength: 4 }), redeem: fc.integer({ min: -1, max: 400 }) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant("confirm" as const), pick: fc.nat(), terminal: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("cancel" as const), pick: fc.nat(), terminal: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("refund" as const), pick: fc.nat(), share: fc.integer({ min: 1, max: 1000 }), full: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("retry" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("identify" as const), card: fc.integer({ min: 0, max: cards - 1 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("time" as const), minutes: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 60 * 24 * 20 })) }) },
  { weight: 1, arbitrary: fc.constant({ k: "jobs" as const }) },
);

/** Mostly the terminal that calculated the check; sometimes another (even of another store). */
function terminalFor(own: number, pick: number): number {
  return pick < 8 ? own : pick - 8 === 0 ? 1 : 2;
}

const groups = ["grocery", "coffee", "tobacco", "dairy"];

function checkInvariants(f: EngineFixture): void {
  for (let i = 0; i < cards; i += 1) {
    const number = f.bonusCard(i);
    const account = f.tx.get<Account>("accounts", `${f.merchantId}/${number}`);
    if (!account) continue;
    assertAccount(account);
    // P11: every change of the balance has a ledger entry, and the entries add up to the balance.
    const ledger = f.tx.scan<LedgerItem>("activity", `${f.merchantId}/${number}/l/`);
    const sum = ledger.reduce((s, [, e]) => s + e.pts, 0);
    expect(ledger.length).toBe(account.seq);
    expect(sum).toBe(account.bal);
    const view = f.identify(number).balances!;
    expect(view.pointsActive).toBeGreaterThanOrEqual(0);
  }
  for (const [, value] of f.tx.scan("checks")) {
    const check = value as CheckRecord;
    for (const l of check.lines) expect(l.rq).toBeLessThanOrEqual(l.qty);
    expect(check.refundedMinor).toBeLessThanOrEqual(check.total - check.discount - check.redeemMinor);
  }
}

describe("engine under random operation sequences", () => {
  it("keeps every invariant, answers retries identically, and replays to the same state", () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 80, size: "medium" }), (steps) => {
      const f = new EngineFixture();
      const checks: { id: string; terminal: number }[] = [];
      const sent: { op: Operation; message: object; terminal: number; answer: Uint8Array }[] = [];
      const mutate = (op: Operation, message: object, terminal: number) => {
        const withId = { ...message, operationId: f.nextOperationId() };
        const answer = f.sendRaw(op, withId, terminal);
        sent.push({ op, message: withId, terminal, answer });
        return decodeResponse(answer);
      };
      for (const s of steps) {
        switch (s.k) {
          case "calc": {
            const card = s.card >= 0 ? { cardNumber: f.bonusCard(s.card) } : undefined;
            const r = mutate("calculate", {
              card, lines: s.amounts.map((a, i) => line(groups[i % groups.length]!, a, 1000 * (1 + (a % 3)))),
              ...(s.redeem === -1 && card ? { redeemMax: true } : s.redeem > 0 && card ? { redeemPoints: s.redeem } : {}),
            }, s.terminal);
            if (r.calculate?.checkId) checks.push({ id: r.calculate.checkId, terminal: s.terminal });
            break;
          }
          case "confirm":
          case "cancel": {
            if (!checks.length) break;
            const c = checks[s.pick % checks.length]!;
            mutate(s.k, { checkId: c.id }, terminalFor(c.terminal, s.terminal));
            break;
          }
          case "refund": {
            // Mostly checks that can be refunded; sometimes any check.
            const confirmed = checks.filter((c) => f.tx.get<CheckRecord>("checks", `${f.merchantId}/${c.id}`)!.state === "confirmed");
            const pool = confirmed.length && s.pick % 5 !== 0 ? confirmed : checks;
            if (!pool.length) break;
            const id = pool[s.pick % pool.length]!.id;
            const check = f.tx.get<CheckRecord>("checks", `${f.merchantId}/${id}`)!;
            const lines = check.lines.map((l, index) => ({ index, quantityMilli: Math.max(1, Math.floor((l.qty * s.share) / 1000)) }));
            mutate("refund", s.full ? { checkId: id, full: true } : { checkId: id, lines }, 0);
            break;
          }
          case "retry": {
            if (!sent.length) break;
            const original = sent[s.pick % sent.length]!;
            const again = f.sendRaw(original.op, original.message, original.terminal);
            expect(Buffer.from(again).equals(Buffer.from(original.answer))).toBe(true);
            break;
          }
          case "identify":
            f.identify(f.bonusCard(s.card));
            break;
          case "time":
            f.now += s.minutes * 60_000;
            break;
          case "jobs": {
            f.command({ t: "maint", job: "expire-lots", keys: dueJobKeys(f.tx, "expire-lots", f.now) });
            f.command({ t: "maint", job: "sweep-holds", keys: dueJobKeys(f.tx, "sweep-holds", f.now) });
            f.command({ t: "maint", job: "reevaluate-tiers", keys: Array.from({ length: cards }, (_, i) => `${f.merchantId}/${f.bonusCard(i)}`) });
            break;
          }
        }
        checkInvariants(f);
      }
      const copy = replay(f.journal);
      expect(copy.entries()).toEqual(f.tx.entries());
    }), { numRuns: 100 });
  });

  it("two terminals racing for the same points: exactly one spends them", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 60 }), fc.boolean(), (asked, minutesLater, firstIsA) => {
      const f = new EngineFixture();
      const card = { cardNumber: f.bonusCard(0) }; // 500 points
      const ask = (terminal: number, points: number) => f.send("calculate", { card, lines: [line("grocery", 1_000_000)], redeemPoints: points }, { terminal });
      const [a, b] = firstIsA ? [0, 2] : [2, 0];
      const first = ask(a, 500);
      expect(first.calculate?.pointsRedeemed).toBe(500);
      expect(ask(b, asked).error?.code).toBe(ErrorCode.ERROR_CODE_INSUFFICIENT_POINTS);
      const confirmed = f.send("confirm", { checkId: first.calculate!.checkId }, { terminal: a }).confirm!;
      expect(confirmed.balances!.pointsActive).toBe(0);
      // Inside the hold's lifetime or long after it: the points are spent, nothing is left to race for.
      f.now += minutesLater * 60_000;
      expect(ask(b, asked).error?.code).toBe(ErrorCode.ERROR_CODE_INSUFFICIENT_POINTS);
    }), { numRuns: 50 });
  });
});
