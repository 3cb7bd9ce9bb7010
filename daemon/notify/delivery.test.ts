// The delivery loop against the real engine on an in-memory store, with an
// injected clock, randomness and HTTP: backoff schedule, order, dead letters,
// the webhook contract (headers, signature, payload) and metrics.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { outboxKey, parseNotifySettings, type NotifySettings, type OutboxCounters, type OutboxEvent } from "../engine/outbox.js";
import { EngineFixture, line } from "../engine/test-support/engine-fixture.js";
import { createLogger } from "../observability/logger.js";
import { createMetrics } from "../observability/metrics.js";
import { NotificationDelivery, type HttpAnswer } from "./delivery.js";

const secret = "delivery-test-secret";

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A merchant with SMS notifications of accruals and a loop whose HTTP answers come from `answer`. */
function setUp(patch: Partial<NotifySettings> = {}, answer: (sent: Sent, n: number) => HttpAnswer | Error = () => ({ status: 200, retryAfter: null })) {
  const f = new EngineFixture();
  f.admin({
    a: "notify.settings", merchantId: f.merchantId, settings: parseNotifySettings({
      webhookUrl: "http://127.0.0.1:9/hook", secret, events: ["accrual"], templates: { sms: { accrual: "+{points} points" } },
      retryBaseMs: 1_000, retryCapMs: 8_000, maxAttempts: 6, ...patch,
    }),
  });
  const sent: Sent[] = [];
  let canDeliver = true;
  const metrics = createMetrics({ processMetrics: false });
  const loop = new NotificationDelivery({
    source: {
      scan: (table, prefix, limit) => f.tx.scan(table, prefix, limit),
      get: (table, key) => f.tx.get(table, key),
      lastSeq: () => f.journal.length,
      durableSeq: () => f.journal.length,
    },
    record: async (command) => {
      f.command(command);
      return true;
    },
    canDeliver: () => canDeliver,
    post: async (url, request) => {
      const s = { url, headers: request.headers, body: request.body };
      sent.push(s);
      const a = answer(s, sent.length);
      if (a instanceof Error) throw a;
      return a;
    },
    clock: () => f.now,
    random: () => 0.5,
    logger: createLogger({ level: "silent" }),
    metrics,
  });
  const buy = (card = f.bonusCard(1)) => {
    const calc = f.send("calculate", { card: { cardNumber: card }, lines: [line("grocery", 100_000)] }).calculate!;
    f.send("confirm", { checkId: calc.checkId });
  };
  const pending = () => f.tx.scan<OutboxEvent>("outbox", outboxKey.pendingOf(f.merchantId)).map(([, e]) => e);
  const dead = () => f.tx.scan<OutboxEvent>("outbox", outboxKey.deadOf(f.merchantId)).map(([, e]) => e);
  const ids = () => sent.map((s) => s.headers["idempotency-key"]);
  return { f, loop, sent, ids, buy, pending, dead, metrics, setCanDeliver: (v: boolean) => { canDeliver = v; } };
}

describe("notification delivery", () => {
  it("posts signed JSON with the dedup key, and forgets the event after a 2xx", async () => {
    const t = setUp();
    t.buy();
    expect(await t.loop.runOnce()).toBe(1);
    const [s] = t.sent;
    const body = JSON.parse(s!.body) as Record<string, unknown>;
    expect(s!.url).toBe("http://127.0.0.1:9/hook");
    expect(s!.headers).toMatchObject({ "content-type": "application/json", "idempotency-key": `${t.f.merchantId}:1`, "x-loyalty-event": "accrual" });
    expect(s!.headers["x-loyalty-signature"]).toBe(`sha256=${createHmac("sha256", secret).update(s!.body).digest("hex")}`);
    expect(body).toMatchObject({ id: `${t.f.merchantId}:1`, seq: 1, kind: "accrual", channel: "sms", customerId: "D2", points: 30, message: "+30 points", attempt: 1 });
    expect(s!.body).not.toContain(t.f.bonusCard(1));
    expect(t.pending()).toEqual([]);
    expect(t.f.tx.get<OutboxCounters>("meta", outboxKey.counters(t.f.merchantId))).toEqual({ seq: 1, pending: 0, dead: 0 });
    expect(await t.loop.runOnce()).toBe(0);
  });

  it("backs off exponentially with jitter up to the cap, then keeps the event as a dead letter", async () => {
    const t = setUp({}, () => ({ status: 503, retryAfter: null }));
    t.buy();
    const waits: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      await t.loop.runOnce();
      const [e] = t.pending();
      waits.push(e!.nextAt - t.f.now);
      expect(await t.loop.runOnce()).toBe(0); // not due yet: nothing is sent
      t.f.now = e!.nextAt;
    }
    // base 1 s doubling, capped at 8 s; equal jitter at random 0.5 → ¾ of each.
    expect(waits).toEqual([750, 1_500, 3_000, 6_000, 6_000]);
    await t.loop.runOnce(); // the sixth failure is the last
    expect(t.pending()).toEqual([]);
    expect(t.dead().map((e) => [e.attempts, e.error])).toEqual([[6, "HTTP 503"]]);
    expect(t.sent).toHaveLength(6);
    expect((await t.metrics.notifyDeliveries.get()).values.map((v) => [v.labels.result, v.value])).toEqual([["retry", 5], ["dead", 1]]);
  });

  it("delivers in order: a failing event holds back the later ones until it goes through", async () => {
    const t = setUp({}, (_s, n) => (n === 1 ? new Error("connect ECONNREFUSED") : { status: 204, retryAfter: null }));
    t.buy(t.f.bonusCard(1));
    t.buy(t.f.bonusCard(2));
    t.buy(t.f.bonusCard(3));
    await t.loop.runOnce();
    expect(t.ids()).toEqual([`${t.f.merchantId}:1`]);
    expect(t.pending().map((e) => [e.seq, e.attempts])).toEqual([[1, 1], [2, 0], [3, 0]]);
    t.f.now = t.pending()[0]!.nextAt;
    expect(await t.loop.runOnce()).toBe(3);
    expect(t.ids()).toEqual([1, 1, 2, 3].map((n) => `${t.f.merchantId}:${n}`));
    expect(t.pending()).toEqual([]);
  });

  it("gives up at once on a 4xx refusal or an event past its age, and goes on with the next", async () => {
    const t = setUp({ maxAgeMs: 60_000 }, (s) => (s.headers["idempotency-key"]!.endsWith(":1") ? { status: 400, retryAfter: null } : { status: 500, retryAfter: null }));
    t.buy();
    t.f.now += 61_000;
    t.buy();
    await t.loop.runOnce();
    expect(t.dead().map((e) => [e.seq, e.error])).toEqual([[1, "HTTP 400"]]);
    expect(t.pending().map((e) => [e.seq, e.attempts])).toEqual([[2, 1]]);
    t.f.now += 61_000; // the second is now too old: its next failure is its last
    await t.loop.runOnce();
    expect(t.dead().map((e) => e.seq)).toEqual([1, 2]);
    expect(t.f.tx.get<OutboxCounters>("meta", outboxKey.counters(t.f.merchantId))).toEqual({ seq: 2, pending: 0, dead: 2 });
  });

  it("honours Retry-After up to the cap, and sends nothing while it may not deliver", async () => {
    const t = setUp({}, () => ({ status: 429, retryAfter: "5" }));
    t.buy();
    t.setCanDeliver(false);
    expect(await t.loop.runOnce()).toBe(0);
    expect(t.sent).toEqual([]);
    expect((await t.metrics.notifyBacklog.get()).values[0]!.value).toBe(1);
    t.setCanDeliver(true);
    await t.loop.runOnce();
    expect(t.pending()[0]!.nextAt - t.f.now).toBe(5_000);
  });
});
