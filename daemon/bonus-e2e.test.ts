// Gift cards and coupons end to end through the POS client and the real
// daemon in one process (SPEC E5, E6): the required cases.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loyalty } from "../protocol/codec.js";
import { newCouponCode } from "./engine/coupons.js";
import { startInProcessDaemon, type InProcessDaemon } from "./test-support/in-process-daemon.js";
import { seededBytes } from "./engine/test-support/engine-fixture.js";

const line = (group: string, amountMinor: number) => ({ sku: `${group}-1`, group, quantityMilli: 1000, priceMinor: amountMinor, amountMinor });
const S = loyalty.v1.CouponStatus;

let d: InProcessDaemon;
beforeEach(async () => { d = await startInProcessDaemon(); });
afterEach(async () => { await d.close(); });

describe("gift cards and coupons end to end", () => {
  it("a gift card sold, partly spent across two checks, then a check refunded back onto it", async () => {
    const pos = await d.client(0);
    const card = d.credentials.cards.filter((c) => c.kind === "gift")[0]!.cardNumber;
    // Sold: activated with its amount; selling it earns nothing (the gift-card group earns no points).
    const sale = await pos.calculate({ card: { cardNumber: d.credentials.cards[0]!.cardNumber }, lines: [line("gift-cards", 100_000)] });
    expect(sale.pointsAccrued).toBe(0);
    await pos.confirm({ checkId: sale.checkId });
    expect((await pos.giftCardActivate({ cardNumber: card, amountMinor: 100_000 })).balanceMinor).toBe(100_000);

    const first = await pos.calculate({ lines: [line("grocery", 30_000)] });
    expect((await pos.confirm({ checkId: first.checkId, giftTenders: [{ cardNumber: card, amountMinor: 30_000 }] })).giftTenders[0]!.balanceMinor).toBe(70_000);
    const second = await pos.calculate({ lines: [line("grocery", 50_000), line("bakery", 20_000)] });
    const paid = await pos.confirm({ checkId: second.checkId, giftTenders: [{ cardNumber: card, amountMinor: 45_000 }] });
    expect(paid).toMatchObject({ amountDueMinor: 70_000 });
    expect(paid.giftTenders[0]!.balanceMinor).toBe(25_000);
    expect((await pos.giftCardBalance({ cardNumber: card })).balanceMinor).toBe(25_000);

    // Refund the bakery line of the second check: its money goes back to the gift card first.
    const refund = await pos.refund({ checkId: second.checkId, lines: [{ index: 1, quantityMilli: 1000 }] });
    expect(refund.giftReturnedMinor).toBe(20_000);
    expect((await pos.giftCardBalance({ cardNumber: card })).balanceMinor).toBe(45_000);
  });

  it("a single-use coupon scanned by two racing terminals is used exactly once", async () => {
    const code = newCouponCode(seededBytes(11));
    const issued = await d.service.admin({
      a: "coupons.issue", merchantId: "demo", codes: [code],
      batch: { batch: "race", effect: { kind: "fixed_discount", amountMinor: 5_000 }, validFrom: 0, validTo: Number.MAX_SAFE_INTEGER, usesMax: 1, customerId: "" },
    }, "test");
    expect(issued.ok).toBe(true);
    const [a, b] = await Promise.all([d.client(0), d.client(3)]);
    const scan = (pos: typeof a) => pos.calculate({ lines: [line("grocery", 20_000)], coupons: [code] });
    const [ra, rb] = await Promise.all([scan(a), scan(b)]);
    const accepted = [ra, rb].filter((r) => r.coupons[0]!.status === S.COUPON_STATUS_ACCEPTED);
    expect(accepted).toHaveLength(1);
    expect([ra, rb].find((r) => r !== accepted[0])!.coupons[0]).toMatchObject({ status: S.COUPON_STATUS_USED });
    const winner = accepted[0] === ra ? a : b;
    expect((await winner.confirm({ checkId: accepted[0]!.checkId })).amountDueMinor).toBe(15_000);
    const again = await a.calculate({ lines: [line("grocery", 20_000)], coupons: [code] });
    expect(again.coupons[0]).toMatchObject({ status: S.COUPON_STATUS_USED, reason: "already used" });
  });
});
