// Notifications, engine side (SPEC C2): the outbox is written by the same
// command as the change, only for consenting customers of merchants that
// configured it, and delivery outcomes are journaled state.
import { describe, expect, it } from "vitest";
import type { AuditRecord } from "./admin.js";
import { parseNotifySettings, outboxKey, type NotifySettings, type OutboxCounters, type OutboxEvent } from "./outbox.js";
import { attempt } from "./fields.js";
import { EngineFixture, line, replay } from "./test-support/engine-fixture.js";

const secret = "s3cret-s3cret-s3cret";

function settings(patch: Partial<NotifySettings> = {}): NotifySettings {
  return parseNotifySettings({
    webhookUrl: "https://hooks.example.com/loyalty?token=abc",
    secret,
    events: ["accrual", "redemption", "refund", "welcome", "gift_tender"],
    templates: {
      sms: {
        accrual: "{firstName}, +{points} points at {store}. Balance {balance}.",
        redemption: "{firstName}, {points} points paid {amount}.",
        refund: "Refund of check {check}: {amount}, points {points}.",
        welcome: "Welcome! {points} points on card {card}.",
        gift_tender: "Gift card {card} paid {amount}, {giftBalance} left.",
      },
      email: { accrual: "Dear {firstName}: +{points}." },
    },
    ...patch,
  });
}

function configured(patch: Partial<NotifySettings> = {}): EngineFixture {
  const f = new EngineFixture();
  f.admin({ a: "notify.settings", merchantId: f.merchantId, settings: settings(patch) });
  return f;
}

function pending(f: EngineFixture): OutboxEvent[] {
  return f.tx.scan<OutboxEvent>("outbox", outboxKey.pendingOf(f.merchantId)).map(([, e]) => e);
}

function buy(f: EngineFixture, card: string, redeemPoints = 0) {
  const calc = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 100_000)], redeemPoints }).calculate!;
  return f.send("confirm", { checkId: calc.checkId }).confirm!;
}

describe("the outbox (C2)", () => {
  it("writes accrual and redemption events in the confirm command itself, one per consented channel with a template", () => {
    const f = configured();
    const card = f.bonusCard(0); // Ivan: SMS and e-mail consent
    const before = f.journal.length;
    const confirmed = buy(f, card, 100);
    const events = pending(f);
    // calculate wrote nothing; confirm wrote all three (the redemption first, then the accrual by SMS and by e-mail).
    expect(f.journal.length - before).toBe(2);
    expect(events.map((e) => [e.seq, e.kind, e.channel])).toEqual([[1, "redemption", "sms"], [2, "accrual", "sms"], [3, "accrual", "email"]]);
    const accrual = events[1]!;
    expect(accrual).toMatchObject({ id: `${f.merchantId}:2`, customerId: "D1", checkId: confirmed.checkId, points: confirmed.pointsAccrued, attempts: 0 });
    expect(accrual.message).toBe(`Ivan, +${confirmed.pointsAccrued} points at Tverskaya 12. Balance ${accrual.balance}.`);
    expect(events[0]!.message).toBe("Ivan, 100 points paid 100.00.");
    expect(accrual.card).toBe(`************${card.slice(-4)}`);
    expect(JSON.stringify(events)).not.toContain(card);
    expect(f.tx.get<OutboxCounters>("meta", outboxKey.counters(f.merchantId))).toEqual({ seq: 3, pending: 3, dead: 0 });
  });

  it("writes nothing for a customer who did not consent, a merchant without settings, disabled settings or a retried operation", () => {
    const f = configured();
    const card = f.bonusCard(6); // unregistered: registered below without consent
    f.send("register", { cardNumber: card, phone: "79170000006", firstName: "Quiet", consentSms: false, consentEmail: false });
    buy(f, card);
    expect(pending(f)).toEqual([]);

    const plain = new EngineFixture();
    buy(plain, plain.bonusCard(0));
    expect(plain.tx.scan("outbox")).toEqual([]);

    const off = configured({ enabled: false });
    buy(off, off.bonusCard(0));
    expect(off.tx.scan("outbox")).toEqual([]);

    const retried = configured();
    const calc = retried.send("calculate", { card: { cardNumber: retried.bonusCard(1) }, lines: [line("grocery", 50_000)] }).calculate!;
    retried.send("confirm", { checkId: calc.checkId, operationId: "confirm-1" });
    retried.send("confirm", { checkId: calc.checkId, operationId: "confirm-1" });
    expect(pending(retried).map((e) => e.kind)).toEqual(["accrual"]); // Maria: SMS only
  });

  it("covers registration, refunds and gift-card tender", () => {
    const f = configured();
    const newcomer = f.bonusCard(5);
    f.send("register", { cardNumber: newcomer, phone: "79170000005", firstName: "Nina", consentSms: true });
    const calc = f.send("calculate", { card: { cardNumber: f.bonusCard(1) }, lines: [line("grocery", 100_000)] }).calculate!;
    const gift = f.giftCard(0);
    f.send("giftCardActivate", { cardNumber: gift, amountMinor: 30_000 }); // no holder: nobody to tell
    f.send("confirm", { checkId: calc.checkId, giftTenders: [{ cardNumber: gift, amountMinor: 20_000 }] });
    f.send("refund", { checkId: calc.checkId, full: true });
    const events = pending(f);
    expect(events.map((e) => e.kind)).toEqual(["welcome", "accrual", "gift_tender", "refund"]);
    expect(events[0]!.message).toBe(`Welcome! 100 points on card ************${newcomer.slice(-4)}.`);
    expect(events[2]).toMatchObject({ customerId: "D2", amountMinor: 20_000, giftBalanceMinor: 10_000, message: `Gift card ************${gift.slice(-4)} paid 200.00, 100.00 left.` });
    expect(events[3]!.points).toBe(-events[1]!.points);
  });

  it("records delivery outcomes as journaled state, and a replay agrees", () => {
    const f = configured();
    buy(f, f.bonusCard(0), 100); // three events
    f.command({ t: "notify", m: f.merchantId, results: [{ seq: 1, r: "ok" }, { seq: 2, r: "retry", nextAt: f.now + 1_000, error: "HTTP 503" }] });
    expect(pending(f).map((e) => [e.seq, e.attempts, e.error])).toEqual([[2, 1, "HTTP 503"], [3, 0, ""]]);
    f.command({ t: "notify", m: f.merchantId, results: [{ seq: 2, r: "dead", error: "HTTP 410" }, { seq: 3, r: "ok" }, { seq: 1, r: "ok" }] });
    expect(pending(f)).toEqual([]);
    const dead = f.tx.scan<OutboxEvent>("outbox", outboxKey.deadOf(f.merchantId)).map(([, e]) => e);
    expect(dead.map((e) => [e.seq, e.attempts, e.error, e.deadAt])).toEqual([[2, 2, "HTTP 410", f.now]]);
    expect(f.tx.get<OutboxCounters>("meta", outboxKey.counters(f.merchantId))).toEqual({ seq: 3, pending: 0, dead: 1 });
    expect(replay(f.journal).entries()).toEqual(f.tx.entries());

    // After the receiver is fixed, staff requeue the dead letter: pending again, same dedup key, no attempts.
    f.now += 60_000;
    expect(f.command({ t: "admin", actor: "ops", action: { a: "notify.requeue", merchantId: f.merchantId, seqs: [2, 3] } })).toEqual({ ok: true, data: { requeued: 1 } });
    expect(pending(f).map((e) => [e.seq, e.id, e.attempts, e.nextAt, e.error, e.deadAt])).toEqual([[2, `${f.merchantId}:2`, 0, f.now, "", undefined]]);
    expect(f.tx.get<OutboxCounters>("meta", outboxKey.counters(f.merchantId))).toEqual({ seq: 3, pending: 1, dead: 0 });
    expect(replay(f.journal).entries()).toEqual(f.tx.entries());
  });

  it("checks settings field by field and keeps the secret and the webhook path out of the audit log", () => {
    const problem = (patch: object) => {
      const r = attempt(() => parseNotifySettings({ ...settings(), ...patch }));
      return "ok" in r ? r.problem.field : "accepted";
    };
    expect(problem({ webhookUrl: "ftp://x" })).toBe("webhookUrl");
    expect(problem({ webhookUrl: "https://user:pw@x.example" })).toBe("webhookUrl");
    expect(problem({ secret: "short" })).toBe("secret");
    expect(problem({ events: ["accrual", "lottery"] })).toBe("events[1]");
    expect(problem({ templates: { sms: { accrual: "hi {name}" } } })).toBe("templates.sms.accrual");
    expect(problem({ templates: { pigeon: {} } })).toBe("templates.pigeon");
    expect(problem({ events: ["gift_activation"] })).toBe("templates");
    expect(problem({ retryBaseMs: 5_000, retryCapMs: 1_000 })).toBe("retryCapMs");
    expect(problem({})).toBe("accepted");

    const f = configured();
    const audit = f.tx.scan<AuditRecord>("audit").map(([, r]) => r).find((r) => r.action === "notify.settings")!;
    expect(audit.summary).toContain("https://hooks.example.com");
    expect(audit.summary).not.toContain("token=abc");
    expect(audit.summary).not.toContain(secret);
  });
});

describe("campaign messages (C3)", () => {
  it("queue one event per consented channel, none for customers who did not consent or merchants that did not opt in", () => {
    const f = configured({ events: ["accrual", "campaign"] });
    const customers = ["D1", "D2", "D3", "D4", "D5"];
    const r = f.command({ t: "admin", actor: "marketing", action: { a: "campaign.send", merchantId: f.merchantId, campaignId: "nov", customerIds: customers, message: "{firstName}, coffee week!" } });
    // The demo seed: every customer consents to SMS; D1, D3 and D5 also to e-mail.
    expect(r).toEqual({ ok: true, data: { events: 8 } });
    const events = f.tx.scan<OutboxEvent>("outbox").map(([, e]) => e);
    expect(events.filter((e) => e.kind === "campaign").map((e) => `${e.customerId}:${e.channel}`).sort()).toEqual(
      ["D1:email", "D1:sms", "D2:sms", "D3:email", "D3:sms", "D4:sms", "D5:email", "D5:sms"]);
    expect(events.find((e) => e.customerId === "D2")!.message).toBe("Maria, coffee week!");
    expect(replay(f.journal).entries()).toEqual(f.tx.entries());

    const optedOut = configured();
    expect(optedOut.command({ t: "admin", actor: "m", action: { a: "campaign.send", merchantId: optedOut.merchantId, campaignId: "x", customerIds: customers, message: "hi" } }))
      .toEqual({ ok: true, data: { events: 0 } });
  });
});

