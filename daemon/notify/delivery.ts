// The notification delivery loop (SPEC C2): reads the outbox the engine writes
// (daemon/engine/outbox.ts) and POSTs each event to the merchant's webhook.
// It runs on the primary only: a replica keeps the same outbox but never
// sends, and starts sending when it is promoted.
//
// Contract:
// - At least once, also across restarts and failovers: an event leaves the
//   outbox only through a journaled `notify` command recorded after a 2xx.
//   A crash between the answer and the record re-sends it; the receiver
//   deduplicates by the Idempotency-Key header (`<merchant>:<seq>`).
// - In order per merchant: events go in outbox order, and a failing event
//   holds back the later ones until it is delivered or becomes a dead letter
//   (too many attempts, too old, or refused for good with a 4xx).
// - Only durable events are sent: a customer is never told about a change a
//   crash could still undo.
// - Retries: network errors, timeouts, 408, 429 and 5xx, after
//   min(cap, base × 2^(n-1)) with equal jitter (half fixed, half random),
//   never sooner than a Retry-After the receiver asked for (capped).
// - The POS path never waits for it: it runs on timers, reads the store like
//   any reader and writes through the single writer like the scheduler.
//
// Clock, randomness and HTTP are injected, so tests drive it step by step.
import { createHmac } from "node:crypto";
import type { MerchantRecord } from "../engine/model.js";
import {
  isExhausted, notifyBatchMax, outboxKey, type DeliveryResult, type NotifyCommand, type NotifySettings, type OutboxCounters, type OutboxEvent,
} from "../engine/outbox.js";
import type { Table } from "../engine/tx.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";

/** What the loop reads: the store (or a MemoryTx in tests). */
export interface OutboxSource {
  scan<T>(table: Table, prefix: string, limit: number): ReadonlyArray<readonly [string, T]>;
  get<T>(table: Table, key: string): T | undefined;
  /** Seq of the last applied command, and of the last durable one. */
  lastSeq(): number;
  durableSeq(): number;
}

export interface HttpAnswer {
  status: number;
  /** The Retry-After header, if any. */
  retryAfter: string | null;
}

/** One POST; rejects on network errors and timeouts. */
export type HttpPost = (url: string, request: { headers: Record<string, string>; body: string; timeoutMs: number }) => Promise<HttpAnswer>;

export interface DeliveryOptions {
  source: OutboxSource;
  /** Records outcomes through the single writer; false when this daemon may not write now (shutting down, fenced). */
  record: (command: NotifyCommand) => Promise<boolean>;
  /** Whether this daemon may deliver at all (a primary that is not fenced). */
  canDeliver: () => boolean;
  post: HttpPost;
  clock: () => number;
  /** [0, 1): the jitter. */
  random: () => number;
  logger: Logger;
  metrics?: Pick<Metrics, "notifyBacklog" | "notifyOldestPendingSeconds" | "notifyDeliveries" | "notifyDeadLetters">;
  pollMs?: number;
  userAgent?: string;
}

/** How often the loop looks for due events when there is nothing in flight. */
export const notifyPollMs = 200;
/** Events one merchant gets per pass (one journaled command records them). */
export const notifyPassMax = Math.min(100, notifyBatchMax);
/** Merchants looked at per pass. */
const merchantsMax = 10_000;
/** How often to look whether the events read are durable yet. */
const durablePollMs = 5;
/** A Retry-After is honoured up to the retry cap, and never beyond this. */
const retryAfterMaxMs = 3_600_000;

/** The JSON body of a delivery: the webhook contract (README "Notifications"). */
export function webhookPayload(e: OutboxEvent): Record<string, unknown> {
  return {
    id: e.id, merchantId: e.m, seq: e.seq, kind: e.kind, channel: e.channel, occurredAt: e.at, customerId: e.customerId, card: e.card,
    points: e.points, balance: e.balance, amountMinor: e.amountMinor, giftBalanceMinor: e.giftBalanceMinor, checkId: e.checkId, storeId: e.storeId,
    message: e.message, attempt: e.attempts + 1,
  };
}

/** `sha256=<hex HMAC-SHA256 of the body with the merchant's secret>`. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** The wait before retry number `retry` (1-based): capped exponential, equal jitter. */
export function backoffMs(retry: number, settings: Pick<NotifySettings, "retryBaseMs" | "retryCapMs">, random: () => number): number {
  const full = Math.min(settings.retryCapMs, settings.retryBaseMs * 2 ** Math.min(retry - 1, 40));
  const half = Math.floor(full / 2);
  return full - half + Math.floor(random() * half);
}

type Attempt = { ok: true } | { ok: false; permanent: boolean; error: string; retryAfterMs: number };

function retryAfterMs(header: string | null, now: number): number {
  if (!header) return 0;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, retryAfterMaxMs) : 0;
}

function networkError(error: unknown): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return "timeout";
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === "string" ? cause.code : error instanceof Error ? error.name : "error";
  return `network: ${code}`;
}

export class NotificationDelivery {
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private stopping = false;
  private pass: Promise<number> | null = null;
  private readonly pollMs: number;

  constructor(private readonly options: DeliveryOptions) {
    this.pollMs = options.pollMs ?? notifyPollMs;
  }

  /** Starts the loop (idempotent: a promotion may call it on a running primary). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.schedule(0);
  }

  /** Stops the loop and waits for a pass in flight (its outcomes may be refused: they are re-sent later). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.pass;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runOnce().then((attempted) => {
        // After progress, look again at once (more may be due); otherwise poll.
        if (!this.stopping) this.schedule(attempted > 0 ? 0 : this.pollMs);
      }, (error: unknown) => {
        // An engine assertion or a store failure: say so and let the rejection
        // end the process, as the scheduler does (restart on durable state).
        this.options.logger.fatal({ err: error }, "notification delivery failed");
        throw error;
      });
    }, ms);
    this.timer.unref();
  }

  /** One pass over every merchant's due events; resolves with how many were attempted. Tests call it directly. */
  runOnce(): Promise<number> {
    this.pass ??= this.deliverDue().finally(() => { this.pass = null; });
    return this.pass;
  }

  private async deliverDue(): Promise<number> {
    const { source, metrics } = this.options;
    const now = this.options.clock();
    let backlog = 0;
    let dead = 0;
    let oldest = now;
    const work: { m: string; settings: NotifySettings; events: OutboxEvent[] }[] = [];
    for (const [m] of source.scan<MerchantRecord>("merchants", "", merchantsMax)) {
      const counters = source.get<OutboxCounters>("meta", outboxKey.counters(m));
      if (!counters) continue;
      backlog += counters.pending;
      dead += counters.dead;
      if (counters.pending === 0) continue;
      const events = source.scan<OutboxEvent>("outbox", outboxKey.pendingOf(m), notifyPassMax).map(([, e]) => e);
      if (events[0]) oldest = Math.min(oldest, events[0].at);
      const settings = source.get<NotifySettings>("meta", outboxKey.settings(m));
      // Disabled: events wait (and show in the backlog) until notifications are enabled again.
      if (settings?.enabled && events.some((e) => e.nextAt <= now)) work.push({ m, settings, events });
    }
    metrics?.notifyBacklog.set(backlog);
    metrics?.notifyDeadLetters.set(dead);
    metrics?.notifyOldestPendingSeconds.set(Math.max(0, now - oldest) / 1000);
    if (work.length === 0 || this.stopping || !this.options.canDeliver()) return 0;
    if (!(await this.durable(source.lastSeq()))) return 0;
    const rounds = await Promise.all(work.map(async (w) => ({ m: w.m, results: await this.deliverMerchant(w.settings, w.events) })));
    let attempted = 0;
    for (const { m, results } of rounds) {
      if (results.length === 0) continue;
      // Refused (shutting down, fenced): nothing is recorded, the events are sent again later.
      if (await this.options.record({ t: "notify", m, results })) attempted += results.length;
    }
    return attempted;
  }

  /** Waits until every command applied so far is durable; false if stopped meanwhile. */
  private async durable(seq: number): Promise<boolean> {
    while (this.options.source.durableSeq() < seq) {
      if (this.stopping) return false;
      await new Promise((resolve) => setTimeout(resolve, durablePollMs));
    }
    return true;
  }

  /** In order; stops at the first event to retry later (it holds back the rest). */
  private async deliverMerchant(settings: NotifySettings, events: OutboxEvent[]): Promise<DeliveryResult[]> {
    const { metrics, logger } = this.options;
    const results: DeliveryResult[] = [];
    for (const event of events) {
      const now = this.options.clock();
      if (this.stopping || event.nextAt > now) break;
      const outcome = await this.attempt(settings, event);
      const at = this.options.clock();
      if (outcome.ok) {
        results.push({ seq: event.seq, r: "ok" });
        metrics?.notifyDeliveries.inc({ result: "delivered" });
        continue;
      }
      if (outcome.permanent || isExhausted(event, settings, at)) {
        results.push({ seq: event.seq, r: "dead", error: outcome.error });
        metrics?.notifyDeliveries.inc({ result: "dead" });
        logger.warn({ merchantId: event.m, event: event.id, kind: event.kind, attempts: event.attempts + 1, error: outcome.error }, "notification became a dead letter");
        continue;
      }
      const wait = Math.max(backoffMs(event.attempts + 1, settings, this.options.random), Math.min(outcome.retryAfterMs, settings.retryCapMs));
      results.push({ seq: event.seq, r: "retry", nextAt: at + wait, error: outcome.error });
      metrics?.notifyDeliveries.inc({ result: "retry" });
      logger.debug({ merchantId: event.m, event: event.id, attempts: event.attempts + 1, error: outcome.error, retryInMs: wait }, "notification delivery failed; will retry");
      break;
    }
    return results;
  }

  private async attempt(settings: NotifySettings, event: OutboxEvent): Promise<Attempt> {
    const body = JSON.stringify(webhookPayload(event));
    const headers = {
      "content-type": "application/json",
      "idempotency-key": event.id,
      "x-loyalty-event": event.kind,
      "x-loyalty-signature": signature(settings.secret, body),
      "user-agent": this.options.userAgent ?? "loyalty-daemon",
    };
    try {
      const answer = await this.options.post(settings.webhookUrl, { headers, body, timeoutMs: settings.timeoutMs });
      if (answer.status >= 200 && answer.status < 300) return { ok: true };
      const retryable = answer.status === 408 || answer.status === 429 || answer.status >= 500;
      return { ok: false, permanent: !retryable, error: `HTTP ${answer.status}`, retryAfterMs: retryAfterMs(answer.retryAfter, this.options.clock()) };
    } catch (error) {
      return { ok: false, permanent: false, error: networkError(error), retryAfterMs: 0 };
    }
  }
}

/** The real HTTP client: Node's fetch, no redirects (a 3xx is an answer, and refused for good), a timeout per attempt. */
export const fetchPost: HttpPost = async (url, request) => {
  const response = await fetch(url, {
    method: "POST", headers: request.headers, body: request.body, redirect: "manual", signal: AbortSignal.timeout(request.timeoutMs),
  });
  // The body is not used; release the connection.
  await response.body?.cancel();
  return { status: response.status, retryAfter: response.headers.get("retry-after") };
};
