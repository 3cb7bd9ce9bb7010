// The admin channel's methods (SPEC O1): what admin-cli calls, one JSON object
// in, one out. Every method checks its parameters (naming the bad field), and
// every call is audited in the journal: a change is an admin command (the
// engine records who/what/when/outcome with it); a read sends an `audit.note`
// command before it answers. All writes go through the service's single
// writer, so they replicate and replay like POS changes and the next POS
// request sees them.
import { createHash, randomBytes } from "node:crypto";
import { isAbsolute } from "node:path";
import type { AdminAction, AdminResult, AuditRecord, ImportRow } from "../engine/admin.js";
import { cardsPerCommandMax } from "../engine/admin.js";
import { pointsView } from "../engine/account.js";
import { normalizePhone } from "../engine/common.js";
import { dryRun } from "../engine/dry-run.js";
import { FieldError, bool, fail, id, int, list, object, text, type Obj } from "../engine/fields.js";
import type {
  Account, CardKind, CardRecord, CustomerRecord, LedgerItem, MerchantRecord, Program, RulesRecord, RulesVersion, StoreRecord, TerminalRecord,
} from "../engine/model.js";
import { key } from "../engine/model.js";
import type { ReportPool } from "../analytics/report-pool.js";
import { segmentNames } from "../analytics/reports/rfm.js";
import { newCouponCode, normalizeCouponCode, type CouponRecord } from "../engine/coupons.js";
import { drawWinners, entrantsDigest, type DrawRecord } from "../engine/draw.js";
import { parseOffers, type OffersRecord } from "../engine/offers.js";
import { outboxKey, parseNotifySettings, type NotifySettings, type OutboxCounters, type OutboxEvent } from "../engine/outbox.js";
import { parseProgram, parsePromotions } from "../engine/rules-validate.js";
import { rulesAt } from "../engine/rules.js";
import { maskCardNumber, maskPhone } from "../observability/mask.js";
import { demoProgram, hashSecret } from "../seed.js";
import type { Store } from "../storage/store.js";
import { AnalyticsApi, type AnalyticsDeps } from "./analytics-api.js";

/** What a method answers: a JSON value, or an error with the HTTP status it maps to. */
export type ApiOutcome =
  | { ok: true; result: unknown }
  | { ok: false; status: 400 | 404 | 409 | 500 | 503; kind: string; message: string; field?: string };

export interface AdminApiDeps {
  store: Store;
  clock: () => number;
  /** Applies an admin command through the single writer; resolves when durable. */
  admin: (action: AdminAction, actor: string) => Promise<AdminResult>;
  /** Process facts for `stats` (version, uptime, connections). */
  serverInfo: () => Record<string, unknown>;
  /** Replication role and control (absent in tests that run no replication). */
  replication?: { status(): unknown; promote(): Promise<{ epoch: number; startSeq: number }>; trimJournal(): Promise<number> };
}

export type Method = (params: Obj, actor: string) => Promise<ApiOutcome>;

const lotsOfCards = cardsPerCommandMax;
const auditPageMax = 1_000;
const ledgerShown = 20;
const day = 86_400_000;

/** A new merchant starts with this program (one tier, no promotions) until staff publish their own. */
export const defaultProgram: Program = {
  ...demoProgram,
  noEarnGroups: ["gift-cards"],
  noRedeemGroups: ["gift-cards"],
  tiers: [{ id: "base", name: "Base", spendMinMinor: 0, accrualBp: 300, discountBp: 0 }],
};

export class AdminApi {
  private readonly methods: Record<string, Method>;

  constructor(private readonly deps: AnalyticsDeps) {
    this.methods = {
      ...new AnalyticsApi(deps).methods(),
      "merchant.put": (p, actor) => this.merchantPut(p, actor),
      "merchant.list": (p, actor) => this.readAudited(actor, "merchant.list", "", () => {
        object(p, "", []);
        return { merchants: this.deps.store.scan<MerchantRecord>("merchants", "", 10_000).map(([, v]) => v) };
      }),
      "store.put": (p, actor) => this.storePut(p, actor),
      "store.list": (p, actor) => {
        const m = id(object(p, "", ["merchantId"]).merchantId, "merchantId");
        return this.readAudited(actor, "store.list", m, () => ({ stores: this.deps.store.scan<StoreRecord>("stores", `${m}/`, 10_000).map(([, v]) => v) }));
      },
      "terminal.create": (p, actor) => this.terminalCreate(p, actor),
      "terminal.rotate": (p, actor) => this.terminalRotate(p, actor),
      "terminal.disable": (p, actor) => this.terminalDisabled(p, actor, true),
      "terminal.enable": (p, actor) => this.terminalDisabled(p, actor, false),
      "terminal.list": (p, actor) => {
        const m = id(object(p, "", ["merchantId"]).merchantId, "merchantId");
        return this.readAudited(actor, "terminal.list", m, () => ({
          terminals: this.deps.store.scan<TerminalRecord>("terminals", "", 10_000).map(([, t]) => t)
            .filter((t) => t.merchantId === m).map((t) => ({ id: t.id, storeId: t.storeId, disabled: t.disabled })),
        }));
      },
      "program.get": (p, actor) => {
        const m = id(object(p, "", ["merchantId", "at"]).merchantId, "merchantId");
        const at = p.at === undefined ? this.deps.clock() : int(p.at, "at", 0);
        return this.readAudited(actor, "program.get", m, () => {
          const rules = this.deps.store.read((tx) => tx.get<RulesRecord>("rules", m));
          if (!rules) fail("merchantId", `unknown merchant ${m}`);
          return rulesAt(rules.versions, at);
        });
      },
      "program.set": (p, actor) => this.programSet(p, actor),
      "promotions.set": (p, actor) => this.promotionsSet(p, actor),
      "promotions.dry-run": (p, actor) => this.promotionsDryRun(p, actor),
      "cards.issue": (p, actor) => this.cardsIssue(p, actor),
      "cards.import": (p, actor) => this.cardsImport(p, actor),
      "card.show": (p, actor) => this.cardShow(p, actor),
      "card.block": (p, actor) => this.cardStatus(p, actor, "blocked"),
      "card.replace": (p, actor) => {
        const o = object(p, "", ["merchantId", "from", "to", "reason"]);
        return this.write({
          a: "card.replace", merchantId: id(o.merchantId, "merchantId"), from: cardNumber(o.from, "from"), to: cardNumber(o.to, "to"), reason: text(o.reason, "reason"),
        }, actor);
      },
      "card.unblock": (p, actor) => this.cardStatus(p, actor, "active"),
      "points.adjust": (p, actor) => {
        const o = object(p, "", ["merchantId", "number", "points", "reason"]);
        const points = int(o.points, "points", -1_000_000_000, 1_000_000_000);
        if (points === 0) fail("points", "must not be 0");
        return this.write({
          a: "points.adjust", merchantId: id(o.merchantId, "merchantId"), cardNumber: cardNumber(o.number, "number"), points,
          reason: text(o.reason, "reason"),
        }, actor);
      },
      "audit.list": (p, actor) => this.auditList(p, actor),
      "offers.set": (p, actor) => {
        const o = object(p, "", ["merchantId", "offers", "receiptMessage"]);
        const parsed = parseOffers(o.offers, o.receiptMessage);
        if (!parsed.ok) fail(parsed.problem.field, parsed.problem.message);
        return this.write({ a: "offers.set", merchantId: id(o.merchantId, "merchantId"), offers: parsed.record }, actor, () => ({ offers: parsed.record.offers.length }));
      },
      "offers.get": (p, actor) => {
        const m = id(object(p, "", ["merchantId"]).merchantId, "merchantId");
        return this.readAudited(actor, "offers.get", m, () => this.deps.store.read((tx) => tx.get<OffersRecord>("offers", m)) ?? { offers: [], receiptMessage: "" });
      },
      "campaign.run": (p, actor) => this.campaignRun(p, actor),
      "coupons.issue": (p, actor) => this.couponsIssue(p, actor),
      "coupon.show": (p, actor) => {
        const o = object(p, "", ["merchantId", "code"]);
        const m = id(o.merchantId, "merchantId");
        const code = normalizeCouponCode(text(o.code, "code", 20));
        if (code === null) fail("code", "not a coupon code (check the characters)");
        return this.readAudited(actor, "coupon.show", `${m}/${code}`, () => {
          const c = this.deps.store.read((tx) => tx.get<CouponRecord>("coupons", `${m}/${code}`));
          if (!c) fail("code", "no such coupon");
          return c;
        });
      },
      "draw.run": (p, actor) => this.drawRun(p, actor),
      "draw.show": (p, actor) => {
        const o = object(p, "", ["merchantId", "id"]);
        const m = id(o.merchantId, "merchantId");
        const drawId = id(o.id, "id");
        return this.readAudited(actor, "draw.show", `${m}/${drawId}`, () => {
          const draw = this.deps.store.read((tx) => tx.get<DrawRecord>("draws", key.draw(m, drawId)));
          if (!draw) fail("id", `no draw ${drawId}`);
          return { ...draw, winners: draw.winners.map((w) => ({ customerId: w.customerId, card: maskCardNumber(w.card) })) };
        });
      },
      "notify.set": (p, actor) => this.notifySet(p, actor),
      "notify.show": (p, actor) => {
        const m = id(object(p, "", ["merchantId"]).merchantId, "merchantId");
        return this.readAudited(actor, "notify.show", m, () => ({ merchantId: m, settings: this.notifySettingsShown(m) }));
      },
      "notify.status": (p, actor) => this.notifyStatus(p, actor),
      "notify.requeue": async (p, actor) => {
        const m = id(object(p, "", ["merchantId"]).merchantId, "merchantId");
        const prefix = outboxKey.deadOf(m);
        let requeued = 0;
        for (;;) {
          const seqs = this.deps.store.scan<OutboxEvent>("outbox", prefix, cardsPerCommandMax).map(([, e]) => e.seq);
          if (seqs.length === 0) return { ok: true, result: { requeued } };
          const r = await this.write({ a: "notify.requeue", merchantId: m, seqs }, actor);
          if (!r.ok) return r;
          const moved = (r.result as { requeued: number }).requeued;
          if (moved === 0) return { ok: true, result: { requeued } };
          requeued += moved;
        }
      },
      "user.add": (p, actor) => this.userAdd(p, actor),
      backup: (p, actor) => this.backup(p, actor),
      // Health reads (no customer data) are not journaled: a journaled note
      // would change the very state a digest measures. The admin server's
      // log line records them.
      stats: async (p) => {
        object(p, "", []);
        return { ok: true, result: { ...this.deps.serverInfo(), store: this.deps.store.stats() } };
      },
      "replica.status": async (p) => {
        object(p, "", []);
        return { ok: true, result: this.deps.replication?.status() ?? { role: "primary", mode: "async", replicas: [] } };
      },
      "replica.promote": async (p, actor) => {
        object(p, "", []);
        if (!this.deps.replication) return { ok: false, status: 409, kind: "conflict", message: "replication is not configured" };
        try {
          const epoch = await this.deps.replication.promote();
          await this.deps.admin({ a: "audit.note", what: "replica.promote", summary: `epoch ${epoch.epoch} from seq ${epoch.startSeq}` }, actor);
          return { ok: true, result: epoch };
        } catch (error) {
          return { ok: false, status: 409, kind: "conflict", message: error instanceof Error ? error.message : String(error) };
        }
      },
      "journal.trim": async (p, actor) => {
        object(p, "", []);
        const deleted = (await this.deps.replication?.trimJournal()) ?? 0;
        await this.deps.admin({ a: "audit.note", what: "journal.trim", summary: `${deleted} entries` }, actor);
        return { ok: true, result: { deleted, journalFirstSeq: this.deps.store.journalFirstSeq() } };
      },
      digest: async (p) => {
        object(p, "", []);
        return { ok: true, result: { digest: this.deps.store.digest(), lastSeq: this.deps.store.lastSeq } };
      },
    };
  }

  get methodNames(): string[] {
    return Object.keys(this.methods).sort();
  }

  /** Runs one call by an authenticated admin user. Never throws for bad input. */
  async call(method: string, params: unknown, actor: string): Promise<ApiOutcome> {
    const fn = Object.hasOwn(this.methods, method) ? this.methods[method] : undefined;
    if (!fn) return { ok: false, status: 404, kind: "unknown_method", message: `unknown method ${method}; known: ${this.methodNames.join(", ")}` };
    try {
      if (typeof params !== "object" || params === null || Array.isArray(params)) fail("", "the body must be a JSON object");
      return await fn(params as Obj, actor);
    } catch (error) {
      if (error instanceof FieldError) {
        return { ok: false, status: 400, kind: "invalid", message: error.field ? `${error.field}: ${error.problem}` : error.problem, field: error.field };
      }
      throw error;
    }
  }

  private async write(action: AdminAction, actor: string, result?: (data: unknown) => unknown): Promise<ApiOutcome> {
    const r = await this.deps.admin(action, actor);
    if (!r.ok) {
      const status = r.kind === "not_found" ? 404 : r.kind === "conflict" ? 409 : r.kind === "unavailable" ? 503 : 400;
      return { ok: false, status, kind: r.kind, message: r.message, ...(r.field ? { field: r.field } : {}) };
    }
    return { ok: true, result: result ? result(r.data) : r.data ?? {} };
  }

  /**
   * A read-only call: audited (who read what) in the journal before it
   * answers. A replica cannot write its journal: there the admin server's
   * log line (user, method) is the only record.
   */
  private async readAudited(actor: string, what: string, summary: string, read: () => unknown): Promise<ApiOutcome> {
    const result = read();
    const noted = await this.deps.admin({ a: "audit.note", what, summary }, actor);
    if (!noted.ok && noted.kind !== "unavailable") return { ok: false, status: 500, kind: "internal", message: noted.message };
    return { ok: true, result };
  }

  private merchantPut(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["id", "name", "tzOffsetMin", "currency"]);
    const merchantId = id(o.id, "id");
    const existing = this.deps.store.read((tx) => tx.get<MerchantRecord>("merchants", merchantId));
    const merchant: MerchantRecord = {
      id: merchantId, name: text(o.name, "name"), tzOffsetMin: int(o.tzOffsetMin ?? existing?.tzOffsetMin ?? 0, "tzOffsetMin", -720, 840),
      currency: currency(o.currency ?? existing?.currency ?? "RUB"), createdAt: existing?.createdAt ?? this.deps.clock(),
    };
    return this.chain(actor, [
      { a: "merchant.put", merchant },
      // A new merchant gets a working default program at once, so its tills can be used before marketing publishes rules.
      ...(existing ? [] : [{ a: "rules.publish" as const, merchantId, version: { from: 0, program: defaultProgram, promotions: [] } }]),
    ], { merchant, created: !existing });
  }

  private storePut(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "id", "name", "region", "lat", "lon"]);
    const store: StoreRecord = {
      merchantId: id(o.merchantId, "merchantId"), id: id(o.id, "id"), name: text(o.name, "name"), region: id(o.region ?? "default", "region"),
      latE6: microdegrees(o.lat, "lat", 90), lonE6: microdegrees(o.lon, "lon", 180),
    };
    return this.write({ a: "store.put", store }, actor, () => ({ store }));
  }

  private terminalCreate(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "storeId", "id"]);
    const terminalId = id(o.id, "id");
    if (this.deps.store.read((tx) => tx.get("terminals", terminalId))) {
      return Promise.resolve({ ok: false, status: 409, kind: "conflict", message: `terminal ${terminalId} exists; rotate its secret instead` });
    }
    const { secret, salt, secretHash } = newSecret();
    return this.write({
      a: "terminal.put", terminal: { id: terminalId, merchantId: id(o.merchantId, "merchantId"), storeId: id(o.storeId, "storeId"), salt, secretHash, disabled: false },
    }, actor, () => ({ terminalId, secret }));
  }

  private terminalRotate(p: Obj, actor: string): Promise<ApiOutcome> {
    const terminalId = id(object(p, "", ["id"]).id, "id");
    const { secret, salt, secretHash } = newSecret();
    return this.write({ a: "terminal.secret", terminalId, salt, secretHash }, actor, () => ({ terminalId, secret }));
  }

  private terminalDisabled(p: Obj, actor: string, disabled: boolean): Promise<ApiOutcome> {
    const terminalId = id(object(p, "", ["id"]).id, "id");
    return this.write({ a: "terminal.disabled", terminalId, disabled }, actor, () => ({ terminalId, disabled }));
  }

  private currentVersion(merchantId: string): RulesVersion {
    const rules = this.deps.store.read((tx) => tx.get<RulesRecord>("rules", merchantId));
    if (!rules) fail("merchantId", `unknown merchant ${merchantId}`);
    return rules.versions[rules.versions.length - 1]!;
  }

  /** Program settings: the given fields over the current program, published as a new version. */
  private programSet(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "program", "from"]);
    const merchantId = id(o.merchantId, "merchantId");
    const current = this.currentVersion(merchantId);
    const patch = object(o.program, "program", Object.keys(defaultProgram));
    const parsed = parseProgram({ ...current.program, ...patch });
    if (!parsed.ok) fail(parsed.problem.field, parsed.problem.message);
    const from = this.from(o.from, current);
    return this.write({ a: "rules.publish", merchantId, version: { from, program: parsed.program, promotions: current.promotions } }, actor,
      () => ({ from, program: parsed.program }));
  }

  private promotionsSet(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "promotions", "from"]);
    const merchantId = id(o.merchantId, "merchantId");
    const current = this.currentVersion(merchantId);
    const parsed = parsePromotions(o.promotions);
    if (!parsed.ok) fail(parsed.problem.field, parsed.problem.message);
    const from = this.from(o.from, current);
    return this.write({ a: "rules.publish", merchantId, version: { from, program: current.program, promotions: parsed.promotions } }, actor,
      () => ({ from, promotions: parsed.promotions.length }));
  }

  private from(v: unknown, current: RulesVersion): number {
    const now = this.deps.clock();
    const from = v === undefined ? Math.max(now, current.from) : int(v, "from", 0);
    if (from < current.from) fail("from", `must not be before the current version (${new Date(current.from).toISOString()})`);
    return from;
  }

  private promotionsDryRun(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "storeId", "lines", "cardNumber", "at", "promotions"]);
    const merchantId = id(o.merchantId, "merchantId");
    const at = o.at === undefined ? this.deps.clock() : int(o.at, "at", 0);
    const rules = this.deps.store.read((tx) => tx.get<RulesRecord>("rules", merchantId));
    if (!rules) fail("merchantId", `unknown merchant ${merchantId}`);
    const current = rulesAt(rules.versions, at);
    let promotions = current.promotions;
    if (o.promotions !== undefined) {
      const parsed = parsePromotions(o.promotions);
      if (!parsed.ok) fail(parsed.problem.field, parsed.problem.message);
      promotions = parsed.promotions;
    }
    const lines = list(o.lines, "lines", 500, (l, f) => {
      const line = object(l, f, ["sku", "group", "qty", "price", "amount"]);
      const qty = int(line.qty ?? 1000, `${f}.qty`, 1, 1_000_000_000);
      const price = int(line.price, `${f}.price`, 0, 1_000_000_000_00);
      return { sku: id(line.sku, `${f}.sku`), grp: id(line.group, `${f}.group`), qty, price, amt: int(line.amount ?? Math.round((price * qty) / 1000), `${f}.amount`, 0) };
    });
    if (lines.length === 0) fail("lines", "at least one line is required");
    const storeId = id(o.storeId, "storeId");
    const number = o.cardNumber === undefined ? undefined : cardNumber(o.cardNumber, "cardNumber");
    return this.readAudited(actor, "promotions.dry-run", `${merchantId}/${storeId}${number ? ` card ${maskCardNumber(number)}` : ""}`, () => {
      const outcome = this.deps.store.read((tx) => dryRun(tx, {
        merchantId, storeId, at, lines, ...(number ? { cardNumber: number } : {}), version: { ...current, promotions },
      }));
      if (!outcome.ok) fail(number ? "cardNumber" : "storeId", outcome.message);
      return { at, member: outcome.member, tier: outcome.tier, ...outcome.check };
    });
  }

  private cardsIssue(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "cards"]);
    const cards = list(o.cards, "cards", lotsOfCards, (c, f) => {
      const card = object(c, f, ["number", "kind", "discountBp", "token"]);
      return {
        number: cardNumber(card.number, `${f}.number`), kind: cardKind(card.kind ?? "bonus", `${f}.kind`),
        ...(card.discountBp === undefined ? {} : { discountBp: int(card.discountBp, `${f}.discountBp`, 0, 10_000) }),
        ...(card.token === undefined ? {} : { token: id(card.token, `${f}.token`) }),
      };
    });
    return this.write({ a: "cards.issue", merchantId: id(o.merchantId, "merchantId"), cards }, actor, () => ({ issued: cards.length }));
  }

  private cardsImport(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "rows"]);
    const rows = list(o.rows, "rows", lotsOfCards, (r, f): ImportRow => {
      const row = object(r, f, ["line", "number", "kind", "discountBp", "token", "customer"]);
      const out: ImportRow = { line: int(row.line, `${f}.line`, 1), number: cardNumber(row.number, `${f}.number`), kind: cardKind(row.kind ?? "bonus", `${f}.kind`) };
      if (row.discountBp !== undefined) out.discountBp = int(row.discountBp, `${f}.discountBp`, 0, 10_000);
      if (row.token !== undefined) out.token = id(row.token, `${f}.token`);
      if (row.customer !== undefined) {
        const c = object(row.customer, `${f}.customer`, ["phone", "firstName", "lastName", "email", "birthDate", "consentSms", "consentEmail", "tags"]);
        const str = (v: unknown, name: string) => (v === undefined || v === "" ? "" : text(v, `${f}.customer.${name}`));
        const birthDate = str(c.birthDate, "birthDate");
        if (birthDate && !/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) fail(`${f}.customer.birthDate`, "must be YYYY-MM-DD");
        out.customer = {
          phone: text(c.phone, `${f}.customer.phone`, 32), firstName: str(c.firstName, "firstName"), lastName: str(c.lastName, "lastName"),
          email: str(c.email, "email"), birthDate, consentSms: bool(c.consentSms ?? false, `${f}.customer.consentSms`),
          consentEmail: bool(c.consentEmail ?? false, `${f}.customer.consentEmail`), tags: list(c.tags ?? [], `${f}.customer.tags`, 20, id),
        };
      }
      return out;
    });
    return this.write({ a: "cards.import", merchantId: id(o.merchantId, "merchantId"), rows }, actor);
  }

  private cardShow(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "number", "phone", "token"]);
    const m = id(o.merchantId, "merchantId");
    const given = ["number", "phone", "token"].filter((k) => o[k] !== undefined);
    if (given.length !== 1) fail("number", "give exactly one of number, phone or token");
    const now = this.deps.clock();
    let summary: string;
    let number: string | undefined;
    if (o.number !== undefined) {
      number = cardNumber(o.number, "number");
      summary = `card ${maskCardNumber(number)}`;
    } else if (o.phone !== undefined) {
      const phone = normalizePhone(text(o.phone, "phone", 32));
      if (phone === null) fail("phone", "not a phone number (10-15 digits)");
      summary = `phone ${maskPhone(phone)}`;
      number = this.deps.store.read((tx) => tx.get<string>("cardIndex", key.phone(m, phone)));
    } else {
      const token = id(o.token, "token");
      summary = "card by token";
      number = this.deps.store.read((tx) => tx.get<string>("cardIndex", key.token(m, token)));
    }
    const found = number === undefined ? null : this.deps.store.read((tx) => {
      const card = tx.get<CardRecord>("cards", key.card(m, number));
      if (!card) return null;
      const account = tx.get<Account>("accounts", key.card(m, number));
      const customer = card.customerId ? tx.get<CustomerRecord>("customers", key.customer(m, card.customerId)) : undefined;
      const ledger = tx.scan<LedgerItem>("activity", key.ledgerOf(m, number), ledgerShown).map(([, item]) => item);
      const rules = tx.get<RulesRecord>("rules", m);
      const soon = rules ? rulesAt(rules.versions, now).program.expiringSoonMs : 30 * day;
      const points = account ? { ...pointsView(account, now, soon), balance: account.bal, tier: account.tier, holds: account.holds.length } : null;
      return { card, customer: customer ?? null, points, ledger };
    });
    return this.readAudited(actor, "card.show", summary, () => found).then((outcome) =>
      found ? outcome : { ok: false, status: 404, kind: "not_found", message: "no such card", field: given[0]! });
  }

  private cardStatus(p: Obj, actor: string, status: "active" | "blocked"): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "number", "reason"]);
    return this.write({
      a: "card.status", merchantId: id(o.merchantId, "merchantId"), cardNumber: cardNumber(o.number, "number"), status, reason: text(o.reason, "reason"),
    }, actor, () => ({ status }));
  }

  private auditList(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["from", "to", "actor", "limit"]);
    const now = this.deps.clock();
    const from = o.from === undefined ? now - 7 * day : int(o.from, "from", 0);
    const to = o.to === undefined ? now + 1 : int(o.to, "to", 0);
    const who = o.actor === undefined ? undefined : text(o.actor, "actor", 64);
    const limit = int(o.limit ?? 100, "limit", 1, 10_000);
    return this.readAudited(actor, "audit.list", `${new Date(from).toISOString()}..${new Date(to).toISOString()}`, () => {
      const records: AuditRecord[] = [];
      let after = key.timePrefix(from);
      for (;;) {
        const page = this.deps.store.scan<AuditRecord>("audit", "", auditPageMax, after);
        for (const [, r] of page) {
          if (r.at >= to || records.length >= limit) return { records };
          if (who === undefined || r.actor === who) records.push(r);
        }
        if (page.length < auditPageMax) return { records };
        after = page[page.length - 1]![0];
      }
    });
  }

  /** Notification settings (C2): the given fields over the current ones; a first call needs the webhook, secret, events and templates. */
  private notifySet(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "enabled", "webhookUrl", "secret", "events", "templates", "maxAttempts", "maxAgeMs", "retryBaseMs", "retryCapMs", "timeoutMs"]);
    const merchantId = id(o.merchantId, "merchantId");
    const { merchantId: _, ...patch } = o;
    const current = this.deps.store.read((tx) => tx.get<NotifySettings>("meta", outboxKey.settings(merchantId)));
    const settings = parseNotifySettings({ ...current, ...patch });
    return this.write({ a: "notify.settings", merchantId, settings }, actor, () => ({ merchantId, settings: shownSettings(settings) }));
  }

  private notifySettingsShown(merchantId: string): Record<string, unknown> | null {
    const settings = this.deps.store.read((tx) => tx.get<NotifySettings>("meta", outboxKey.settings(merchantId)));
    return settings ? shownSettings(settings) : null;
  }

  /** The outbox of one merchant: counts, the next events due and the dead letters (oldest first). */
  private notifyStatus(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "limit"]);
    const m = id(o.merchantId, "merchantId");
    const limit = int(o.limit ?? 20, "limit", 1, 1_000);
    return this.readAudited(actor, "notify.status", m, () => {
      const counters = this.deps.store.read((tx) => tx.get<OutboxCounters>("meta", outboxKey.counters(m))) ?? { seq: 0, pending: 0, dead: 0 };
      const settings = this.deps.store.read((tx) => tx.get<NotifySettings>("meta", outboxKey.settings(m)));
      const brief = ([, e]: readonly [string, OutboxEvent]) => ({
        id: e.id, kind: e.kind, channel: e.channel, customerId: e.customerId, at: e.at, attempts: e.attempts, nextAt: e.nextAt, error: e.error,
        ...(e.deadAt === undefined ? {} : { deadAt: e.deadAt }),
      });
      const pending = this.deps.store.scan<OutboxEvent>("outbox", outboxKey.pendingOf(m), limit).map(brief);
      return {
        merchantId: m, configured: settings !== undefined, enabled: settings?.enabled ?? false, events: counters.seq, pending: counters.pending,
        dead: counters.dead, oldestPendingAt: pending[0]?.at ?? null, next: pending,
        deadLetters: this.deps.store.scan<OutboxEvent>("outbox", outboxKey.deadOf(m), limit).map(brief),
      };
    });
  }

  private userAdd(p: Obj, actor: string): Promise<ApiOutcome> {
    const name = id(object(p, "", ["name"]).name, "name");
    const { secret, salt, secretHash } = newSecret();
    return this.write({ a: "admin.put", user: { name, salt, secretHash, disabled: false, createdAt: this.deps.clock() } }, actor,
      () => ({ user: name, token: adminToken(name, secret) }));
  }

  private async backup(p: Obj, actor: string): Promise<ApiOutcome> {
    const dir = text(object(p, "", ["dir"]).dir, "dir", 4096);
    if (!isAbsolute(dir)) fail("dir", "must be an absolute path on the daemon's machine");
    await this.deps.admin({ a: "audit.note", what: "backup", summary: dir }, actor);
    try {
      const started = Date.now();
      const done = await this.deps.store.backup(`${dir}/lmdb`);
      return { ok: true, result: { dir, seq: done.seq, bytes: done.bytes, ms: Date.now() - started } };
    } catch (error) {
      return { ok: false, status: 409, kind: "conflict", message: `backup failed: ${error instanceof Error ? error.message : String(error)}`, field: "dir" };
    }
  }

  /**
   * Customers of a merchant matching a segment: tier (of their first card),
   * tag, consent. Reads every customer of the merchant in pages.
   */
  private selectCustomers(m: string, filter: { tier?: string; tag?: string; consentSms?: boolean }): { customer: CustomerRecord; card: CardRecord }[] {
    const out: { customer: CustomerRecord; card: CardRecord }[] = [];
    let after: string | undefined;
    for (;;) {
      const page = this.deps.store.scan<CustomerRecord>("customers", `${m}/`, 1_000, after);
      this.deps.store.read((tx) => {
        for (const [, c] of page) {
          const card = c.cards[0] ? tx.get<CardRecord>("cards", key.card(m, c.cards[0])) : undefined;
          if (!card || card.status !== "active") continue;
          if (filter.tag && !c.tags.includes(filter.tag)) continue;
          if (filter.consentSms && !c.consentSms) continue;
          if (filter.tier) {
            const account = tx.get<Account>("accounts", key.card(m, card.number));
            const rules = tx.get<RulesRecord>("rules", m);
            const base = rules?.versions[rules.versions.length - 1]?.program.tiers[0]?.id ?? "";
            if ((account?.tier ?? base) !== filter.tier) continue;
          }
          out.push({ customer: c, card });
        }
      });
      if (page.length < 1_000) return out;
      after = page[page.length - 1]![0];
    }
  }

  /**
   * A campaign (SPEC C3): select customers by segment, tag them
   * `campaign:<id>`, and publish an offer aimed at that tag, so the tills
   * show it to exactly them. `dryRun` only counts.
   */
  private async campaignRun(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "id", "tier", "tag", "segment", "dryRun", "offer", "message"]);
    const m = id(o.merchantId, "merchantId");
    const campaignId = id(o.id, "id");
    const filter = { ...(o.tier === undefined ? {} : { tier: id(o.tier, "tier") }), ...(o.tag === undefined ? {} : { tag: id(o.tag, "tag") }) };
    let selected = this.selectCustomers(m, filter);
    if (o.segment !== undefined) {
      const inSegment = await this.rfmSegment(m, text(o.segment, "segment", 64));
      if (!(inSegment instanceof Set)) return inSegment;
      selected = selected.filter((s) => inSegment.has(s.customer.id));
    }
    if (o.dryRun === true) {
      await this.deps.admin({ a: "audit.note", what: "campaign.dry-run", summary: `${m}/${campaignId}: ${selected.length} customers` }, actor);
      return { ok: true, result: { campaign: campaignId, customers: selected.length, dryRun: true } };
    }
    if (o.offer === undefined && o.message === undefined) fail("offer", "a campaign attaches an offer, sends a message, or both");
    const tag = `campaign:${campaignId}`;
    const ids = selected.map((s) => s.customer.id);
    let offers: OffersRecord | null = null;
    if (o.offer !== undefined) {
      const offer = object(o.offer, "offer", ["title", "text", "validFrom", "validTo", "onReceipt"]);
      const current = this.deps.store.read((tx) => tx.get<OffersRecord>("offers", m)) ?? { offers: [], receiptMessage: "" };
      const parsed = parseOffers([...current.offers.filter((x) => x.id !== campaignId), { id: campaignId, ...offer, tags: [tag] }], current.receiptMessage);
      if (!parsed.ok) fail(parsed.problem.field.replace(/^offers\[\d+\]/, "offer"), parsed.problem.message);
      offers = parsed.record;
    }
    const message = o.message === undefined ? null : text(o.message, "message", 500);
    let events = 0;
    for (let i = 0; i < ids.length; i += cardsPerCommandMax) {
      const chunk = ids.slice(i, i + cardsPerCommandMax);
      if (offers) {
        const tagged = await this.write({ a: "customers.tag", merchantId: m, customerIds: chunk, tag }, actor);
        if (!tagged.ok) return tagged;
      }
      if (message !== null) {
        const sent = await this.write({ a: "campaign.send", merchantId: m, campaignId, customerIds: chunk, message }, actor);
        if (!sent.ok) return sent;
        events += (sent.result as { events: number }).events;
      }
    }
    if (offers) {
      const published = await this.write({ a: "offers.set", merchantId: m, offers }, actor);
      if (!published.ok) return published;
    }
    return { ok: true, result: { campaign: campaignId, customers: ids.length, ...(offers ? { tag, offer: campaignId } : {}), ...(message !== null ? { messages: events } : {}) } };
  }

  /** Customer ids of an RFM segment over the last year, from the report workers. */
  private async rfmSegment(m: string, segment: string): Promise<Set<string> | ApiOutcome> {
    const reports = (this.deps as AdminApiDeps & { reports?: ReportPool }).reports;
    if (!reports) return { ok: false, status: 503, kind: "unavailable", message: "this daemon runs no report workers" };
    if (!(segmentNames as readonly string[]).includes(segment)) fail("segment", `unknown segment; known: ${segmentNames.join(", ")}`);
    const now = this.deps.clock();
    // Report workers read the LMDB file: make it hold every answered change.
    await this.deps.store.checkpoint();
    const outcome = await reports.run(m, "rfm", { from: now - 365 * day, to: now, asOf: now, stores: [], group: {}, listSegment: segment, listMax: 1_000_000, cellMeters: 1_000 } as never);
    if ("error" in outcome) return { ok: false, status: 404, kind: "not_found", message: outcome.error, field: "merchantId" };
    const table = outcome.result.tables.find((t) => t.name === "customers");
    return new Set((table?.rows ?? []).map((r) => String(r.customerId)));
  }

  /** A coupon batch (SPEC E6): random codes with check characters, issued in chunks; answers the codes. */
  private async couponsIssue(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "batch", "count", "effect", "validFrom", "validTo", "uses", "customerId"]);
    const m = id(o.merchantId, "merchantId");
    const count = int(o.count, "count", 1, 1_000_000);
    const e = object(o.effect, "effect", ["kind", "points", "bp", "amountMinor"]);
    const effect: CouponRecord["effect"] =
      e.kind === "points" ? { kind: "points", points: int(e.points, "effect.points", 1, 1_000_000) }
      : e.kind === "percent_discount" ? { kind: "percent_discount", bp: int(e.bp, "effect.bp", 1, 10_000) }
      : e.kind === "fixed_discount" ? { kind: "fixed_discount", amountMinor: int(e.amountMinor, "effect.amountMinor", 1, 100_000_000) }
      : fail("effect.kind", "must be points, percent_discount or fixed_discount");
    const batch = {
      batch: id(o.batch, "batch"), effect, validFrom: int(o.validFrom ?? 0, "validFrom", 0), validTo: int(o.validTo ?? Number.MAX_SAFE_INTEGER, "validTo", 1),
      usesMax: int(o.uses ?? 1, "uses", 1, 1_000_000), customerId: o.customerId === undefined ? "" : id(o.customerId, "customerId"),
    };
    if (batch.validTo <= batch.validFrom) fail("validTo", "must be after validFrom");
    const codes = new Set<string>();
    while (codes.size < count) codes.add(newCouponCode(randomBytes));
    const all = [...codes];
    for (let i = 0; i < all.length; i += cardsPerCommandMax) {
      const r = await this.write({ a: "coupons.issue", merchantId: m, batch, codes: all.slice(i, i + cardsPerCommandMax) }, actor);
      if (!r.ok) return r;
    }
    return { ok: true, result: { batch: batch.batch, issued: all.length, codes: all } };
  }

  /** A prize draw (SPEC E7): entrants by segment, winners from the seed (daemon/engine/draw.ts), points through the journal. */
  private async drawRun(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "id", "seed", "winners", "points", "reason", "tier", "tag"]);
    const m = id(o.merchantId, "merchantId");
    const drawId = id(o.id, "id");
    const seed = text(o.seed, "seed", 200);
    const count = int(o.winners, "winners", 1, 10_000);
    const points = int(o.points, "points", 1, 1_000_000_000);
    const reason = text(o.reason, "reason");
    const filter = { ...(o.tier === undefined ? {} : { tier: id(o.tier, "tier") }), ...(o.tag === undefined ? {} : { tag: id(o.tag, "tag") }) };
    const entrants = this.selectCustomers(m, filter).filter((e) => e.card.kind === "bonus").sort((a, b) => (a.customer.id < b.customer.id ? -1 : a.customer.id > b.customer.id ? 1 : 0));
    const entrantIds = entrants.map((e) => e.customer.id);
    const winners = drawWinners(seed, drawId, entrantIds, count).map((i) => ({ customerId: entrants[i]!.customer.id, card: entrants[i]!.card.number }));
    const r = await this.write({
      a: "draw.award", merchantId: m, draw: { id: drawId, seed, entrants: entrantIds.length, entrantsSha256: entrantsDigest(entrantIds), winners, points, reason },
    }, actor);
    if (!r.ok) return r;
    return {
      ok: true, result: {
        id: drawId, seed, entrants: entrantIds.length, entrantsSha256: entrantsDigest(entrantIds), entrantIds,
        winners: winners.map((w) => ({ customerId: w.customerId, card: maskCardNumber(w.card) })), points,
      },
    };
  }

  /** Several admin commands in order; stops at the first failure. */
  private async chain(actor: string, actions: AdminAction[], result: unknown): Promise<ApiOutcome> {
    for (const action of actions) {
      const outcome = await this.write(action, actor);
      if (!outcome.ok) return outcome;
    }
    return { ok: true, result };
  }
}

/** Settings as shown back: the secret only as a fingerprint, so two operators can compare it without seeing it. */
function shownSettings(settings: NotifySettings): Record<string, unknown> {
  const { secret, ...rest } = settings;
  return { ...rest, secretFingerprint: createHash("sha256").update(secret).digest("hex").slice(0, 12) };
}

/** An admin token names its user: `<user>.<secret>`. */
export function adminToken(user: string, secret: string): string {
  return `${user}.${secret}`;
}

export function parseAdminToken(token: string): { user: string; secret: string } | null {
  const dot = token.indexOf(".");
  if (dot <= 0 || dot === token.length - 1) return null;
  return { user: token.slice(0, dot), secret: token.slice(dot + 1) };
}

/** A random secret with its salt and hash; only the hash is journaled. */
export function newSecret(): { secret: string; salt: string; secretHash: string } {
  const secret = randomBytes(32).toString("base64url");
  const salt = randomBytes(16).toString("hex");
  return { secret, salt, secretHash: hashSecret(salt, secret) };
}

function cardNumber(v: unknown, field: string): string {
  if (typeof v !== "string" || !/^\d{8,19}$/.test(v)) fail(field, "must be a card number of 8-19 digits");
  return v;
}

function cardKind(v: unknown, field: string): CardKind {
  if (v !== "bonus" && v !== "discount" && v !== "gift") fail(field, "must be bonus, discount or gift");
  return v;
}

function currency(v: unknown): string {
  if (typeof v !== "string" || !/^[A-Z]{3}$/.test(v)) fail("currency", "must be a three-letter ISO 4217 code (RUB, EUR)");
  return v;
}

/** Decimal degrees (55.7649) → integer microdegrees (55764900). */
function microdegrees(v: unknown, field: string, max: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || Math.abs(v) > max) fail(field, `must be decimal degrees from -${max} to ${max}`);
  return Math.round(v * 1_000_000);
}
