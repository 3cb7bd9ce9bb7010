// End to end through the POS client, the real uWS server, the service, the
// engine and LMDB, in one process with a clock the test moves: every POS
// operation, the typed errors a cashier meets, racing terminals, retries, and
// the journal of the real store replaying to the same digest.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../protocol/codec.js";
import { PosError } from "../protocol/client.js";
import { applyCommand } from "./engine/apply.js";
import { iterateJournal, replayJournal } from "./storage/replay.js";
import { openStore } from "./storage/store.js";
import { startInProcessDaemon, type InProcessDaemon } from "./test-support/in-process-daemon.js";

const E = ErrorCode;
const line = (group: string, amountMinor: number, quantityMilli = 1000) => ({ sku: `${group}-1`, group, quantityMilli, priceMinor: amountMinor, amountMinor });

async function codeOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PosError) return error.code;
    throw error;
  }
  throw new Error("expected a typed error, got an answer");
}

let d: InProcessDaemon;
beforeEach(async () => { d = await startInProcessDaemon(); });
afterEach(async () => { await d.close(); });

const bonus = (i: number) => d.credentials.cards.filter((c) => c.kind === "bonus")[i]!.cardNumber;
const gift = (i: number) => d.credentials.cards.filter((c) => c.kind === "gift")[i]!.cardNumber;

describe("POS operations end to end", () => {
  it("a whole check: identify, calculate with points, confirm, history, ledger, partial refund", async () => {
    const pos = await d.client(0);
    expect(pos.helloResult?.limits).toMatchObject({ holdTtlMs: 15 * 60_000, idempotencyRetentionMs: 7 * 86_400_000 });
    const card = bonus(0);
    const who = await pos.identify({ card: { phone: "79160000000" } });
    expect(who).toMatchObject({ cardNumber: card, holderNameMasked: "Ivan P.", tier: "bronze" });
    expect(who.balances?.pointsActive).toBe(500);
    const calc = await pos.calculate({ card: { cardNumber: card }, lines: [line("grocery", 60_000), line("dairy", 20_000)], redeemPoints: 200 });
    expect(calc).toMatchObject({ pointsRedeemed: 200, totalMinor: 80_000, discountMinor: 1_000 });
    const done = await pos.confirm({ checkId: calc.checkId, receiptNumber: "F-1" });
    expect(done).toMatchObject({ checkId: calc.checkId, pointsRedeemed: 200, pointsAccrued: calc.pointsAccrued });
    expect(done.balances).toMatchObject({ pointsActive: 300, pointsPending: calc.pointsAccrued });
    const history = await pos.history({ card: { cardNumber: card } });
    expect(history.checks[0]).toMatchObject({ checkId: calc.checkId, receiptNumber: "F-1" });
    const refund = await pos.refund({ checkId: calc.checkId, lines: [{ index: 0, quantityMilli: 1000 }] });
    expect(refund.pointsReturned).toBeGreaterThan(0);
    const ledger = await pos.ledger({ card: { cardNumber: card } });
    expect(ledger.entries.map((e) => e.reason).slice(0, 4)).toEqual([4, 3, 1, 2]);
  });

  it("register, offline posting, void, and a gift card sold then used as tender", async () => {
    const pos = await d.client(1);
    const reg = await pos.register({ cardNumber: bonus(6), phone: "79995550101", firstName: "Anna", lastName: "K" });
    expect(reg.welcomePoints).toBe(100);
    const offline = await pos.postOffline({ card: { cardNumber: bonus(6) }, lines: [line("grocery", 10_000)], purchasedAtMs: d.now - 3_600_000, receiptNumber: "OFF-1" });
    expect(offline.pointsAccrued).toBe(3);
    const calc = await pos.calculate({ card: { cardNumber: bonus(6) }, lines: [line("grocery", 40_000)], redeemPoints: 100 });
    await pos.confirm({ checkId: calc.checkId });
    const voided = await pos.cancel({ checkId: calc.checkId, reason: "wrong basket" });
    expect(voided).toMatchObject({ pointsReturned: 100, pointsReversed: calc.pointsAccrued });
    expect((await pos.identify({ card: { cardNumber: bonus(6) } })).balances?.pointsActive).toBe(100);

    const card = gift(0);
    expect((await pos.giftCardActivate({ cardNumber: card, amountMinor: 50_000 })).balanceMinor).toBe(50_000);
    const paid = await pos.calculate({ lines: [line("grocery", 30_000)] });
    const tender = await pos.confirm({ checkId: paid.checkId, giftTenders: [{ cardNumber: card, amountMinor: 30_000 }] });
    expect(tender.giftTenders[0]).toMatchObject({ amountMinor: 30_000, balanceMinor: 20_000 });
    expect((await pos.giftCardBalance({ cardNumber: card })).balanceMinor).toBe(20_000);
  });

  it("answers the typed errors a cashier meets", async () => {
    const pos = await d.client(0);
    expect(await codeOf(pos.identify({ card: { cardNumber: "4111111111111111" } }))).toBe(E.ERROR_CODE_NOT_FOUND);
    await d.service.admin({ a: "card.status", merchantId: "demo", cardNumber: bonus(1), status: "blocked", reason: "stolen" }, "test");
    expect(await codeOf(pos.identify({ card: { cardNumber: bonus(1) } }))).toBe(E.ERROR_CODE_CARD_BLOCKED);
    expect(await codeOf(pos.calculate({ card: { cardNumber: bonus(0) }, lines: [line("grocery", 10_000)], redeemPoints: 51 }))).toBe(E.ERROR_CODE_INSUFFICIENT_POINTS);
    const calc = await pos.calculate({ card: { cardNumber: bonus(0) }, lines: [line("grocery", 10_000)], redeemPoints: 50 });
    d.now += 15 * 60_000;
    expect(await codeOf(pos.confirm({ checkId: calc.checkId }))).toBe(E.ERROR_CODE_HOLD_EXPIRED);
    const first = pos.calculate({ lines: [line("grocery", 100)] });
    await first;
    expect(await codeOf(pos.calculate({ operationId: first.operationId, lines: [line("grocery", 200)] }))).toBe(E.ERROR_CODE_CONFLICT);
  });
});

describe("correctness under concurrency and retries", () => {
  it("two terminals racing to spend the same points: exactly one succeeds", async () => {
    const [a, b] = await Promise.all([d.client(0), d.client(3)]);
    const ask = (pos: typeof a) => pos.calculate({ card: { cardNumber: bonus(0) }, lines: [line("grocery", 200_000)], redeemPoints: 500 });
    const results = await Promise.allSettled([ask(a), ask(b)]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won.length).toBe(1);
    expect(lost.length).toBe(1);
    expect((lost[0]!.reason as PosError).code).toBe(E.ERROR_CODE_INSUFFICIENT_POINTS);
  });

  it("a confirm re-sent with the same operation id answers the same and earns once", async () => {
    const pos = await d.client(0);
    const calc = await pos.calculate({ card: { cardNumber: bonus(2) }, lines: [line("grocery", 100_000)] });
    const request = { operationId: "till-1-confirm-42", checkId: calc.checkId, receiptNumber: "F-42" };
    const [x, y] = await Promise.all([pos.confirm(request), pos.confirm(request)]);
    expect(y).toEqual(x);
    expect(x.balances?.pointsPending).toBe(30);
    expect((await pos.identify({ card: { cardNumber: bonus(2) } })).balances?.pointsPending).toBe(30);
  });

  it("the scheduler releases abandoned holds and expires points, as journaled commands", async () => {
    const pos = await d.client(0);
    const calc = await pos.calculate({ card: { cardNumber: bonus(0) }, lines: [line("grocery", 200_000)], redeemPoints: 500 });
    expect((await pos.identify({ card: { cardNumber: bonus(0) } })).balances?.pointsActive).toBe(0);
    d.now += 16 * 60_000;
    const before = d.store.lastSeq;
    expect(await d.service.runMaintenance()).toBeGreaterThan(0);
    expect(d.store.lastSeq).toBeGreaterThan(before);
    expect(await codeOf(pos.confirm({ checkId: calc.checkId }))).toBe(E.ERROR_CODE_INVALID_STATE);
    d.now += 400 * 86_400_000;
    await d.service.runMaintenance();
    const ledger = await pos.ledger({ card: { cardNumber: bonus(0) } });
    expect(ledger.entries[0]).toMatchObject({ points: -500, reason: 6 });
  });

  it("the real store's journal replays into an empty store with the same digest", async () => {
    const pos = await d.client(0);
    for (let i = 0; i < 20; i += 1) {
      const calc = await pos.calculate({ card: { cardNumber: bonus(i % 5) }, lines: [line("coffee", 10_000 + i), line("tobacco", 5_000)], redeemPoints: i % 3 === 0 ? 10 : 0 });
      await pos.confirm({ checkId: calc.checkId });
      if (i % 4 === 0) await pos.refund({ checkId: calc.checkId, full: true });
    }
    await d.store.idle();
    const dir = mkdtempSync(join(tmpdir(), "loyalty-replay-"));
    try {
      const copy = await openStore({ path: dir, durability: "none", mapSizeBytes: 64 * 1024 * 1024, pendingCommandsMax: 10_000 });
      const digest = await replayJournal(iterateJournal(d.store), copy, applyCommand as never);
      expect(digest).toBe(d.store.digest());
      await copy.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
