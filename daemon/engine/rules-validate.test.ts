import { describe, expect, it } from "vitest";
import { demoProgram, demoPromotions } from "../seed.js";
import { checkRulesVersion, parseProgram, parsePromotions } from "./rules-validate.js";

const problemOf = (v: unknown) => {
  const r = parsePromotions(v);
  return r.ok ? null : r.problem;
};

describe("rules validation", () => {
  it("accepts the demo program and promotions and fills promotion defaults", () => {
    expect(checkRulesVersion({ from: 0, program: demoProgram, promotions: demoPromotions })).toBeNull();
    const r = parsePromotions([{ id: "p", name: "P", effect: { kind: "fixed_points", points: 10 } }]);
    expect(r).toEqual({ ok: true, promotions: [{ id: "p", name: "P", priority: 0, exclusive: false, validFrom: 0, validTo: Number.MAX_SAFE_INTEGER, conditions: {}, effect: { kind: "fixed_points", points: 10 } }] });
  });

  it("names the field of every kind of mistake", () => {
    const base = { id: "p", name: "P", effect: { kind: "percent_discount", bp: 500 } };
    expect(problemOf([base, { ...base, exlusive: true }])?.field).toBe("promotions[1].exlusive");
    expect(problemOf([{ ...base, effect: { kind: "percent_discount", bp: 10_001 } }])?.field).toBe("promotions[0].effect.bp");
    expect(problemOf([{ ...base, effect: { kind: "cashback" } }])?.field).toBe("promotions[0].effect.kind");
    expect(problemOf([{ ...base, conditions: { weekdays: [1, 7] } }])?.field).toBe("promotions[0].conditions.weekdays[1]");
    expect(problemOf([{ ...base, conditions: { minuteFrom: 600, minuteTo: 540 } }])?.field).toBe("promotions[0].conditions.minuteTo");
    expect(problemOf([{ ...base, validFrom: 10, validTo: 5 }])?.field).toBe("promotions[0].validTo");
    expect(problemOf([base, base])).toEqual({ field: "promotions[1].id", message: "duplicate promotion id p" });
    expect(problemOf({})?.message).toBe("must be a list");
  });

  it("checks program settings and tier order", () => {
    const problem = (p: object) => {
      const r = parseProgram({ ...demoProgram, ...p });
      return r.ok ? null : r.problem.field;
    };
    expect(problem({ redeemCapBp: 10_001 })).toBe("program.redeemCapBp");
    expect(problem({ expiryRounding: "week" })).toBe("program.expiryRounding");
    expect(problem({ tiers: [] })).toBe("program.tiers");
    expect(problem({ tiers: [demoProgram.tiers[1], demoProgram.tiers[0]] })).toBe("program.tiers[0].spendMinMinor");
    expect(problem({ tiers: [demoProgram.tiers[0], { ...demoProgram.tiers[1], spendMinMinor: 0 }] })).toBe("program.tiers[1].spendMinMinor");
    expect(problem({ noEarnGroups: ["ok", "not ok"] })).toBe("program.noEarnGroups[1]");
    const { welcomePoints: _, ...missing } = demoProgram;
    const r = parseProgram(missing);
    expect(r.ok ? null : r.problem).toEqual({ field: "program.welcomePoints", message: "is required" });
  });
});
