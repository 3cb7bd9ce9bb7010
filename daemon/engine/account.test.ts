import { describe, expect, it } from "vitest";
import { addLot, consume, expireLots, newAccount, pointsView, takeBack, withHold } from "./account.js";

const day = 86_400_000;

describe("points lots", () => {
  const base = () => {
    let a = newAccount("bronze");
    a = addLot(a, { id: "late", pts: 100, act: 0, exp: 300 * day }).account;
    a = addLot(a, { id: "soon", pts: 50, act: 0, exp: 100 * day }).account;
    a = addLot(a, { id: "pending", pts: 30, act: 20 * day, exp: 400 * day }).account;
    return a;
  };

  it("separates active, pending and expiring-soon points", () => {
    const v = pointsView(base(), 10 * day, 95 * day);
    expect(v).toMatchObject({ active: 150, pending: 30, expiringSoon: 50 });
    expect(pointsView(base(), 25 * day, 0).active).toBe(180);
  });

  it("spends the soonest-expiring lots first", () => {
    const { account, consumed } = consume(base(), 70, 10 * day);
    expect(consumed).toEqual([{ id: "soon", pts: 50, act: 0, exp: 100 * day }, { id: "late", pts: 20, act: 0, exp: 300 * day }]);
    expect(account.bal).toBe(110);
  });

  it("ignores expired lots for spending until the expiry job removes them", () => {
    const a = base();
    expect(pointsView(a, 150 * day, 0).active).toBe(130);
    const { account, expired } = expireLots(a, 150 * day);
    expect(expired.map((l) => l.id)).toEqual(["soon"]);
    expect(account.bal).toBe(130);
  });

  it("holds reduce what may be spent until they expire", () => {
    const a = withHold(base(), "c1", 120, 11 * day, 10 * day);
    expect(pointsView(a, 10 * day, 0).active).toBe(30);
    expect(pointsView(a, 10 * day, 0, "c1").active).toBe(150);
    expect(pointsView(a, 12 * day, 0).active).toBe(150);
  });

  it("taking back more than is left makes a debt that the next accrual pays first", () => {
    let a = consume(base(), 150, 10 * day).account; // only the pending 30 remain
    const taken = takeBack(a, 100, "pending");
    a = taken.account;
    expect(taken.toDebt).toBe(70);
    expect(a.lots).toEqual([]);
    expect(a.bal).toBe(-70);
    expect(pointsView(a, 30 * day, 0).active).toBe(0);
    const paid = addLot(a, { id: "next", pts: 100, act: 0, exp: 500 * day });
    expect(paid.toDebt).toBe(70);
    expect(paid.account.lots).toEqual([{ id: "next", pts: 30, act: 0, exp: 500 * day }]);
    expect(paid.account.bal).toBe(30);
  });

  it("refuses to spend points that are not there (an assertion, not a decline)", () => {
    expect(() => consume(base(), 151, 10 * day)).toThrow(/short/);
  });
});
