// Every admin-cli command: its words, options, help and what it does. The
// table drives parsing and --help (main.ts), so they cannot drift.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { drawWinners, entrantsDigest } from "../daemon/engine/draw.js";
import { withCheckDigit } from "../daemon/seed.js";
import { parsePromotions } from "../daemon/engine/rules-validate.js";
import { notifyKinds } from "../daemon/engine/outbox.js";
import { randomBytes } from "node:crypto";
import type { AdminClient } from "./client.js";
import { UsageError, loadDataFile, promotionsFromFile, timeMs } from "./data-file.js";
import { ImportInterruptedError, importCsv } from "./import-csv.js";
import { keyValues, money, progress, table, type Row } from "./output.js";

export interface OptionSpec {
  type: "string" | "boolean";
  help: string;
  required?: boolean;
}

export type Values = Record<string, string | boolean | undefined>;

export interface Context {
  client(): AdminClient;
  json: boolean;
  out(text: string): void;
}

export interface CommandSpec {
  words: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Resolves with the exit code. */
  run(ctx: Context, v: Values): Promise<number>;
}

/** Exit codes, documented in admin-cli/README.md. */
export const exitCodes = {
  ok: 0,
  /** The daemon refused: invalid value, not found, conflict. */
  refused: 1,
  usage: 2,
  unauthenticated: 3,
  unreachable: 4,
  /** Done, but some lines or items were rejected (imports). */
  partial: 5,
} as const;

const merchant: OptionSpec = { type: "string", help: "merchant id", required: true };
const reason: OptionSpec = { type: "string", help: "why (recorded in the audit log)", required: true };

function str(v: Values, name: string): string {
  const value = v[name];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

function optInt(v: Values, name: string, min: number, max: number): number | undefined {
  const value = v[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^-?\d+$/.test(value)) throw new UsageError(`--${name} must be an integer`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be from ${min} to ${max}`);
  return n;
}

function optNumber(v: Values, name: string): number | undefined {
  const value = v[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || value.trim() === "" || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number`);
  return n;
}

function csvList(v: Values, name: string): string[] | undefined {
  const value = v[name];
  return typeof value === "string" ? value.split(",").map((s) => s.trim()).filter(Boolean) : undefined;
}

function emit(ctx: Context, result: unknown, human: () => string): number {
  ctx.out(ctx.json ? `${JSON.stringify(result, null, 2)}\n` : human());
  return exitCodes.ok;
}

/** A secret kept in a file stays out of shell history and the process list. */
function secretFromFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const secret = text.split(/\r?\n/)[0]!.trim();
  if (!secret) throw new UsageError(`${path}: the first line is empty`);
  return secret;
}

const day = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

interface ProgramView {
  from: number;
  program: Record<string, unknown> & { tiers: Row[] };
  promotions: Row[];
}

function programText(r: ProgramView): string {
  const p = r.program;
  const settings: Row = {
    "valid from": iso(r.from),
    "point value": money(p.pointValueMinor as number),
    "redeem cap": `${(p.redeemCapBp as number) / 100}%`,
    "activation delay": `${(p.activationDelayMs as number) / day} days`,
    "points lifetime": `${(p.lotLifetimeMs as number) / day} days (rounded to ${String(p.expiryRounding)})`,
    "hold ttl": `${(p.holdTtlMs as number) / 60_000} min`,
    "welcome points": p.welcomePoints,
    "no-earn groups": (p.noEarnGroups as string[]).join(", "),
    "no-redeem groups": (p.noRedeemGroups as string[]).join(", "),
    "phone identify": p.phoneIdentify,
  };
  const tiers = p.tiers.map((t) => ({ ...t, from: money(t.spendMinMinor as number), accrual: `${(t.accrualBp as number) / 100}%`, discount: `${(t.discountBp as number) / 100}%` }));
  return `${keyValues(settings)}\nTiers\n${table(tiers, ["id", "name", "from", "accrual", "discount"])}\nPromotions: ${r.promotions.length}\n`;
}

interface NotifySettingsView {
  enabled: boolean;
  webhookUrl: string;
  secretFingerprint: string;
  events: string[];
  templates: Record<string, Record<string, string>>;
  maxAttempts: number;
  maxAgeMs: number;
  retryBaseMs: number;
  retryCapMs: number;
  timeoutMs: number;
}

function notifySettingsText(s: NotifySettingsView | null): string {
  if (!s) return "Notifications are not configured (admin-cli notify set).\n";
  const head = keyValues({
    enabled: s.enabled, webhook: s.webhookUrl, "secret fingerprint": s.secretFingerprint, events: s.events.join(", "),
    retries: `up to ${s.maxAttempts} attempts or ${s.maxAgeMs / 3_600_000} h, backoff ${s.retryBaseMs} ms doubling to ${s.retryCapMs} ms`,
    "attempt timeout": `${s.timeoutMs} ms`,
  });
  const templates = Object.entries(s.templates).flatMap(([channel, byKind]) => Object.entries(byKind).map(([kind, text]) => ({ channel, kind, text })));
  return `${head}Templates\n${table(templates, ["channel", "kind", "text"])}`;
}

async function publishProgram(ctx: Context, merchantId: string, program: Record<string, unknown>, from: unknown): Promise<number> {
  const result = await ctx.client().call<{ from: number }>("program.set", { merchantId, program, ...(from === undefined ? {} : { from: timeMs(from, "--from") }) });
  return emit(ctx, result, () => `Published a new program version, valid from ${iso(result.from)}.\n`);
}

export const commands: CommandSpec[] = [
  {
    words: "merchant put", summary: "create or update a merchant (a new one gets a default program)",
    options: {
      id: { type: "string", help: "merchant id", required: true }, name: { type: "string", help: "display name", required: true },
      "tz-offset-min": { type: "string", help: "local time offset from UTC in minutes (Moscow: 180)" }, currency: { type: "string", help: "ISO 4217 code (default RUB)" },
    },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ created: boolean }>("merchant.put", {
        id: str(v, "id"), name: str(v, "name"), ...(v["tz-offset-min"] === undefined ? {} : { tzOffsetMin: optInt(v, "tz-offset-min", -720, 840) }),
        ...(v.currency === undefined ? {} : { currency: v.currency }),
      });
      return emit(ctx, r, () => `Merchant ${String(v.id)} ${r.created ? "created (with the default program)" : "updated"}.\n`);
    },
  },
  {
    words: "merchant list", summary: "list merchants", options: {},
    run: async (ctx) => {
      const r = await ctx.client().call<{ merchants: Row[] }>("merchant.list");
      return emit(ctx, r, () => table(r.merchants, ["id", "name", "tzOffsetMin", "currency"]));
    },
  },
  {
    words: "store put", summary: "create or update a store with its coordinates",
    options: {
      merchant, id: { type: "string", help: "store id", required: true }, name: { type: "string", help: "display name", required: true },
      region: { type: "string", help: "region id (promotions can target it)" },
      lat: { type: "string", help: "latitude, decimal degrees", required: true }, lon: { type: "string", help: "longitude, decimal degrees", required: true },
    },
    run: async (ctx, v) => {
      const r = await ctx.client().call("store.put", {
        merchantId: str(v, "merchant"), id: str(v, "id"), name: str(v, "name"), ...(v.region ? { region: v.region } : {}), lat: optNumber(v, "lat"), lon: optNumber(v, "lon"),
      });
      return emit(ctx, r, () => `Store ${String(v.id)} saved.\n`);
    },
  },
  {
    words: "store list", summary: "list a merchant's stores", options: { merchant },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ stores: Row[] }>("store.list", { merchantId: str(v, "merchant") });
      const rows = r.stores.map((s) => ({ ...s, lat: (s.latE6 as number) / 1e6, lon: (s.lonE6 as number) / 1e6 }));
      return emit(ctx, r, () => table(rows, ["id", "name", "region", "lat", "lon"]));
    },
  },
  {
    words: "terminal create", summary: "register a till; prints its secret once",
    options: { merchant, store: { type: "string", help: "store id", required: true }, id: { type: "string", help: "terminal id (unique across merchants)", required: true } },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ terminalId: string; secret: string }>("terminal.create", { merchantId: str(v, "merchant"), storeId: str(v, "store"), id: str(v, "id") });
      return emit(ctx, r, () => `Terminal ${r.terminalId} created.\nSecret (shown once; configure it on the till): ${r.secret}\n`);
    },
  },
  {
    words: "terminal rotate-secret", summary: "give a till a new secret; the old one stops working at once",
    options: { id: { type: "string", help: "terminal id", required: true } },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ terminalId: string; secret: string }>("terminal.rotate", { id: str(v, "id") });
      return emit(ctx, r, () => `New secret for ${r.terminalId} (shown once): ${r.secret}\n`);
    },
  },
  ...(["disable", "enable"] as const).map((what): CommandSpec => ({
    words: `terminal ${what}`, summary: what === "disable" ? "refuse a till's connections (stolen, decommissioned)" : "allow a disabled till again",
    options: { id: { type: "string", help: "terminal id", required: true } },
    run: async (ctx, v) => {
      const r = await ctx.client().call(`terminal.${what}`, { id: str(v, "id") });
      return emit(ctx, r, () => `Terminal ${String(v.id)} ${what}d.\n`);
    },
  })),
  {
    words: "terminal list", summary: "list a merchant's terminals", options: { merchant },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ terminals: Row[] }>("terminal.list", { merchantId: str(v, "merchant") });
      return emit(ctx, r, () => table(r.terminals, ["id", "storeId", "disabled"]));
    },
  },
  {
    words: "program show", summary: "the program in force: settings, tiers, promotion count", options: { merchant },
    run: async (ctx, v) => {
      const r = await ctx.client().call<ProgramView>("program.get", { merchantId: str(v, "merchant") });
      return emit(ctx, r, () => programText(r));
    },
  },
  {
    words: "program set", summary: "change program settings (only the given ones); publishes a new version",
    options: {
      merchant, file: { type: "string", help: "JSON/YAML with program fields (pointValueMinor, redeemCapBp, …)" },
      "point-value-minor": { type: "string", help: "money one point pays, minor units (100 = 1.00)" },
      "redeem-cap-pct": { type: "string", help: "at most this % of a check may be paid with points" },
      "activation-days": { type: "string", help: "points become spendable after this many days" },
      "lifetime-days": { type: "string", help: "points expire this many days after they are earned" },
      "welcome-points": { type: "string", help: "points for registering a card" },
      "hold-minutes": { type: "string", help: "how long a calculation holds points" },
      "expiry-rounding": { type: "string", help: "none | day | month" },
      from: { type: "string", help: "valid from (ISO time; default now)" },
    },
    run: async (ctx, v) => {
      const program: Record<string, unknown> = v.file ? { ...(loadDataFile(String(v.file)) as Record<string, unknown>) } : {};
      const set = (field: string, value: number | undefined) => { if (value !== undefined) program[field] = value; };
      set("pointValueMinor", optInt(v, "point-value-minor", 1, 1_000_000));
      const cap = optNumber(v, "redeem-cap-pct");
      if (cap !== undefined) program.redeemCapBp = Math.round(cap * 100);
      const days = (name: string) => { const n = optNumber(v, name); return n === undefined ? undefined : Math.round(n * day); };
      set("activationDelayMs", days("activation-days"));
      set("lotLifetimeMs", days("lifetime-days"));
      set("welcomePoints", optInt(v, "welcome-points", 0, 1_000_000));
      const hold = optNumber(v, "hold-minutes");
      if (hold !== undefined) program.holdTtlMs = Math.round(hold * 60_000);
      if (v["expiry-rounding"] !== undefined) program.expiryRounding = v["expiry-rounding"];
      if (Object.keys(program).length === 0) throw new UsageError("nothing to change: give --file or a setting flag");
      return publishProgram(ctx, str(v, "merchant"), program, v.from);
    },
  },
  {
    words: "groups set", summary: "product groups that earn no points / cannot be paid with points",
    options: {
      merchant, "no-earn": { type: "string", help: "comma-separated groups (replaces the list)" },
      "no-redeem": { type: "string", help: "comma-separated groups (replaces the list)" }, from: { type: "string", help: "valid from (ISO time; default now)" },
    },
    run: async (ctx, v) => {
      const program: Record<string, unknown> = {};
      const noEarn = csvList(v, "no-earn");
      const noRedeem = csvList(v, "no-redeem");
      if (noEarn) program.noEarnGroups = noEarn;
      if (noRedeem) program.noRedeemGroups = noRedeem;
      if (!noEarn && !noRedeem) throw new UsageError("give --no-earn and/or --no-redeem");
      return publishProgram(ctx, str(v, "merchant"), program, v.from);
    },
  },
  {
    words: "tiers set", summary: "replace the tiers from a JSON/YAML list (id, name, spendMinMinor, accrualBp, discountBp)",
    options: { merchant, file: { type: "string", help: "tiers file", required: true }, from: { type: "string", help: "valid from (ISO time; default now)" } },
    run: async (ctx, v) => {
      const data = loadDataFile(str(v, "file"));
      const tiers = Array.isArray(data) ? data : (data as { tiers?: unknown } | null)?.tiers;
      if (!Array.isArray(tiers)) throw new UsageError(`${String(v.file)}: expected a list of tiers (or an object with a "tiers" list)`);
      return publishProgram(ctx, str(v, "merchant"), { tiers }, v.from);
    },
  },
  {
    words: "promo validate", summary: "check a promotions file offline; names the bad field",
    options: { file: { type: "string", help: "promotions JSON/YAML", required: true } },
    run: async (ctx, v) => {
      const parsed = parsePromotions(promotionsFromFile(str(v, "file")));
      if (!parsed.ok) throw new UsageError(`${String(v.file)}: ${parsed.problem.field}: ${parsed.problem.message}`);
      return emit(ctx, { valid: true, promotions: parsed.promotions.length }, () => `${String(v.file)}: ${parsed.promotions.length} promotions, valid.\n`);
    },
  },
  {
    words: "promo publish", summary: "replace the promotions from a file (validated by the daemon); publishes a new version",
    options: { merchant, file: { type: "string", help: "promotions JSON/YAML", required: true }, from: { type: "string", help: "valid from (ISO time; default now)" } },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ from: number; promotions: number }>("promotions.set", {
        merchantId: str(v, "merchant"), promotions: promotionsFromFile(str(v, "file")), ...(v.from === undefined ? {} : { from: timeMs(v.from, "--from") }),
      });
      return emit(ctx, r, () => `Published ${r.promotions} promotions, valid from ${iso(r.from)}.\n`);
    },
  },
  {
    words: "promo list", summary: "the promotions in force", options: { merchant },
    run: async (ctx, v) => {
      const r = await ctx.client().call<ProgramView>("program.get", { merchantId: str(v, "merchant") });
      const rows = r.promotions.map((p) => ({ ...p, effect: JSON.stringify(p.effect), from: iso(p.validFrom as number) }));
      return emit(ctx, r.promotions, () => table(rows, ["id", "name", "priority", "exclusive", "effect", "from"]));
    },
  },
  {
    words: "promo dry-run", summary: "what a basket would get under the current rules or a promotions file (nothing is written)",
    options: {
      merchant, basket: { type: "string", help: "JSON/YAML: { lines: [{ sku, group, price, qty?, amount? }] } (money in minor units, qty in thousandths)", required: true },
      file: { type: "string", help: "promotions to try instead of the current ones" }, store: { type: "string", help: "store id (or storeId in the basket)" },
      card: { type: "string", help: "price for this card (tier, tags, birthday)" }, at: { type: "string", help: "purchase time (ISO; default now)" },
    },
    run: async (ctx, v) => {
      const basket = loadDataFile(str(v, "basket")) as { lines?: unknown; storeId?: string; cardNumber?: string; at?: unknown };
      const storeId = (v.store as string | undefined) ?? basket.storeId;
      if (!storeId) throw new UsageError("give --store or storeId in the basket file");
      const card = (v.card as string | undefined) ?? basket.cardNumber;
      const at = v.at ?? basket.at;
      const r = await ctx.client().call<Row & { lines: Row[]; promos: Row[]; receiptLines: string[] }>("promotions.dry-run", {
        merchantId: str(v, "merchant"), storeId, lines: basket.lines, ...(card ? { cardNumber: card } : {}),
        ...(at === undefined ? {} : { at: timeMs(at, "--at") }), ...(v.file ? { promotions: promotionsFromFile(String(v.file)) } : {}),
      });
      return emit(ctx, r, () => {
        const lines = r.lines.map((l) => ({ ...l, amount: money(l.amt as number), discount: money(l.disc as number), points: l.apts, promotions: (l.promos as string[]).join(",") }));
        const promos = r.promos.map((p) => ({ ...p, discount: money(p.discount as number) }));
        return `${table(lines, ["sku", "grp", "amount", "discount", "points", "promotions"])}\n${keyValues({
          member: r.member ? `yes (tier ${String(r.tier)})` : "no", total: money(r.total as number), discount: money(r.discount as number),
          "points earned": r.accrue, "points redeemable": r.redeemableMax,
        })}\nPromotions applied\n${table(promos, ["id", "name", "reason", "discount", "points"])}`;
      });
    },
  },
  {
    words: "cards issue", summary: "issue a range of card numbers with check digits",
    options: {
      merchant, kind: { type: "string", help: "bonus | discount | gift (default bonus)" }, prefix: { type: "string", help: "leading digits (BIN-like)", required: true },
      first: { type: "string", help: "first sequence number (default 1)" }, count: { type: "string", help: "how many", required: true },
      length: { type: "string", help: "digits per number including the check digit (default 16)" },
      "discount-pct": { type: "string", help: "discount cards: fixed percent" }, tokens: { type: "boolean", help: "give each card a random barcode/QR token" },
    },
    run: async (ctx, v) => {
      const prefix = str(v, "prefix");
      if (!/^\d{1,12}$/.test(prefix)) throw new UsageError("--prefix must be 1-12 digits");
      const length = optInt(v, "length", 8, 19) ?? 16;
      const seqDigits = length - prefix.length - 1;
      if (seqDigits < 1) throw new UsageError("--length leaves no room for a sequence number after --prefix");
      const first = optInt(v, "first", 0, 10 ** seqDigits - 1) ?? 1;
      const count = optInt(v, "count", 1, 100_000_000)!;
      if (first + count > 10 ** seqDigits) throw new UsageError(`the range does not fit in ${seqDigits} sequence digits`);
      const kind = (v.kind as string | undefined) ?? "bonus";
      const pct = optNumber(v, "discount-pct");
      const client = ctx.client();
      const bar = progress("issuing", count);
      const chunk = 1_000;
      let issued = 0;
      const numbers: string[] = [];
      for (let start = 0; start < count; start += chunk) {
        const cards = [];
        for (let i = start; i < Math.min(count, start + chunk); i += 1) {
          const number = withCheckDigit(`${prefix}${String(first + i).padStart(seqDigits, "0")}`);
          if (numbers.length < 5) numbers.push(number);
          cards.push({ number, kind, ...(pct === undefined ? {} : { discountBp: Math.round(pct * 100) }), ...(v.tokens ? { token: randomBytes(12).toString("base64url") } : {}) });
        }
        await client.call("cards.issue", { merchantId: str(v, "merchant"), cards });
        issued += cards.length;
        bar.update(issued);
      }
      bar.finish();
      return emit(ctx, { issued, first: numbers[0] }, () => `Issued ${issued} ${kind} cards, starting ${numbers[0]}.\n`);
    },
  },
  {
    words: "cards import", summary: "import cards (and their customers) from a CSV file, streaming; bad lines are reported",
    options: { merchant, file: { type: "string", help: "CSV with a header line; see admin-cli/README.md for the columns", required: true } },
    run: async (ctx, v) => {
      const client = ctx.client();
      const merchantId = str(v, "merchant");
      const bar = progress("importing", 100);
      try {
        const outcome = await importCsv({
          file: str(v, "file"),
          send: (rows) => client.call("cards.import", { merchantId, rows }),
          onProgress: (read, total, imported) => bar.update(total ? (read / total) * 100 : 0, `${imported} cards`),
        });
        bar.finish(`${outcome.imported} cards`);
        ctx.out(ctx.json ? `${JSON.stringify(outcome, null, 2)}\n`
          : `Imported ${outcome.imported} cards from ${outcome.lines} lines; ${outcome.rejected.length} rejected.\n` +
            outcome.rejected.slice(0, 100).map((r) => `  line ${r.line}: ${r.reason}\n`).join("") +
            (outcome.rejected.length > 100 ? `  … and ${outcome.rejected.length - 100} more (use --json for all)\n` : ""));
        return outcome.rejected.length > 0 ? exitCodes.partial : exitCodes.ok;
      } catch (error) {
        bar.finish();
        if (error instanceof ImportInterruptedError) {
          process.stderr.write(`${error.message}\nRe-run the same import: lines already imported are reported as existing and nothing is written twice.\n`);
          throw error.reason;
        }
        throw error;
      }
    },
  },
  {
    words: "card show", summary: "a card with its customer, points and latest ledger entries",
    options: { merchant, number: { type: "string", help: "card number" }, phone: { type: "string", help: "customer's phone" }, token: { type: "string", help: "barcode/QR token" } },
    run: async (ctx, v) => {
      const by = ["number", "phone", "token"].filter((k) => v[k] !== undefined);
      if (by.length !== 1) throw new UsageError("give exactly one of --number, --phone, --token");
      const r = await ctx.client().call<{ card: Row; customer: Row | null; points: Row | null; ledger: Row[] }>("card.show", { merchantId: str(v, "merchant"), [by[0]!]: v[by[0]!] });
      return emit(ctx, r, () => {
        const c = r.customer;
        const head: Row = { card: r.card.number, kind: r.card.kind, status: r.card.status, issued: iso(r.card.issuedAt as number) };
        if (c) Object.assign(head, { customer: `${String(c.id)} ${String(c.firstName)} ${String(c.lastName)}`.trim(), phone: c.phone, email: c.email, "birth date": c.birthDate, tags: (c.tags as string[]).join(", ") });
        if (r.points) Object.assign(head, { tier: r.points.tier, "points balance": r.points.balance, spendable: r.points.active, pending: r.points.pending, held: r.points.held, debt: r.points.debt });
        if (r.card.kind === "gift") head["gift balance"] = money((r.card.giftBalanceMinor as number | undefined) ?? 0);
        const ledger = r.ledger.map((l) => ({ ...l, at: iso(l.at as number) }));
        return `${keyValues(head)}\nLatest ledger entries\n${table(ledger, ["at", "pts", "reason", "check", "note", "actor"])}`;
      });
    },
  },
  ...(["block", "unblock"] as const).map((what): CommandSpec => ({
    words: `card ${what}`, summary: what === "block" ? "block a card (lost, stolen, fraud): the POS refuses it at once" : "unblock a card",
    options: { merchant, number: { type: "string", help: "card number", required: true }, reason },
    run: async (ctx, v) => {
      const r = await ctx.client().call(`card.${what}`, { merchantId: str(v, "merchant"), number: str(v, "number"), reason: str(v, "reason") });
      return emit(ctx, r, () => `Card ${what}ed.\n`);
    },
  })),
  {
    words: "card replace", summary: "move a lost or damaged card's customer, points and future refunds to a new (issued, unused) card; the old one is blocked",
    options: { merchant, from: { type: "string", help: "the old card number", required: true }, to: { type: "string", help: "the new card number", required: true }, reason },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ moved: number }>("card.replace", { merchantId: str(v, "merchant"), from: str(v, "from"), to: str(v, "to"), reason: str(v, "reason") });
      return emit(ctx, r, () => `Replaced; ${r.moved} points moved to the new card.\n`);
    },
  },
  {
    words: "points adjust", summary: "add (or with a negative number take) points by hand, with a mandatory reason",
    options: { merchant, number: { type: "string", help: "card number", required: true }, points: { type: "string", help: "e.g. 500 or -200", required: true }, reason },
    run: async (ctx, v) => {
      const points = optInt(v, "points", -1_000_000_000, 1_000_000_000)!;
      if (points === 0) throw new UsageError("--points must not be 0");
      const r = await ctx.client().call<{ balance: number }>("points.adjust", { merchantId: str(v, "merchant"), number: str(v, "number"), points, reason: str(v, "reason") });
      return emit(ctx, r, () => `Adjusted by ${points}; balance now ${r.balance}.\n`);
    },
  },
  {
    words: "audit", summary: "who did what and when on the admin channel",
    options: {
      from: { type: "string", help: "from (ISO time; default 7 days ago)" }, to: { type: "string", help: "to (ISO time; default now)" },
      actor: { type: "string", help: "only this admin user" }, limit: { type: "string", help: "at most this many records (default 100)" },
    },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ records: Row[] }>("audit.list", {
        ...(v.from === undefined ? {} : { from: timeMs(v.from, "--from") }), ...(v.to === undefined ? {} : { to: timeMs(v.to, "--to") }),
        ...(v.actor === undefined ? {} : { actor: v.actor }), ...(v.limit === undefined ? {} : { limit: optInt(v, "limit", 1, 10_000) }),
      });
      const rows = r.records.map((a) => ({ ...a, at: iso(a.at as number), outcome: a.ok ? "ok" : `refused: ${String(a.message)}` }));
      return emit(ctx, r, () => table(rows, ["at", "actor", "action", "summary", "outcome"]));
    },
  },
  {
    words: "notify set", summary: "customer notifications (C2): webhook, signing secret, events, templates, retry limits (only the given ones change)",
    options: {
      merchant,
      webhook: { type: "string", help: "webhook URL (http/https) that gets each event as a signed JSON POST" },
      secret: { type: "string", help: "shared secret for the X-Loyalty-Signature HMAC, at least 16 characters (prefer --secret-file)" },
      "secret-file": { type: "string", help: "read the secret from this file (its first line)" },
      events: { type: "string", help: `comma-separated event kinds: ${notifyKinds.join(", ")}` },
      templates: { type: "string", help: "JSON/YAML { sms: { accrual: \"+{points} points\", … }, email: { … } }; placeholders {firstName} {points} {balance} {amount} {giftBalance} {store} {card} {check}" },
      "max-attempts": { type: "string", help: "give up after this many attempts (default 12)" },
      "max-age-hours": { type: "string", help: "give up on events older than this (default 24)" },
      "retry-base-ms": { type: "string", help: "first retry after about this long, doubling (default 1000)" },
      "retry-cap-ms": { type: "string", help: "longest wait between attempts (default 300000)" },
      "timeout-ms": { type: "string", help: "one attempt may take this long (default 5000)" },
      enable: { type: "boolean", help: "send notifications" },
      disable: { type: "boolean", help: "stop sending; new events are no longer written, pending ones wait" },
    },
    run: async (ctx, v) => {
      if (v.enable && v.disable) throw new UsageError("give --enable or --disable, not both");
      if (v.secret !== undefined && v["secret-file"] !== undefined) throw new UsageError("give --secret or --secret-file, not both");
      const params: Record<string, unknown> = { merchantId: str(v, "merchant") };
      if (v.webhook !== undefined) params.webhookUrl = str(v, "webhook");
      if (v.secret !== undefined) params.secret = str(v, "secret");
      if (v["secret-file"] !== undefined) params.secret = secretFromFile(str(v, "secret-file"));
      const events = csvList(v, "events");
      if (events) params.events = events;
      if (v.templates !== undefined) params.templates = loadDataFile(str(v, "templates"));
      const limit = (field: string, value: number | undefined) => { if (value !== undefined) params[field] = value; };
      limit("maxAttempts", optInt(v, "max-attempts", 1, 1_000));
      const hours = optNumber(v, "max-age-hours");
      limit("maxAgeMs", hours === undefined ? undefined : Math.round(hours * 3_600_000));
      limit("retryBaseMs", optInt(v, "retry-base-ms", 10, 3_600_000));
      limit("retryCapMs", optInt(v, "retry-cap-ms", 10, 86_400_000));
      limit("timeoutMs", optInt(v, "timeout-ms", 100, 60_000));
      if (v.enable || v.disable) params.enabled = Boolean(v.enable);
      if (Object.keys(params).length === 1) throw new UsageError("nothing to change: give --webhook, --secret, --events, --templates, a limit, --enable or --disable");
      const r = await ctx.client().call<{ settings: NotifySettingsView }>("notify.set", params);
      return emit(ctx, r, () => `Notification settings saved.\n${notifySettingsText(r.settings)}`);
    },
  },
  {
    words: "notify show", summary: "a merchant's notification settings (the secret only as a fingerprint)", options: { merchant },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ settings: NotifySettingsView | null }>("notify.show", { merchantId: str(v, "merchant") });
      return emit(ctx, r, () => notifySettingsText(r.settings));
    },
  },
  {
    words: "notify requeue-dead", summary: "send a merchant's dead-letter notifications again (after the webhook was fixed)", options: { merchant },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ requeued: number }>("notify.requeue", { merchantId: str(v, "merchant") });
      return emit(ctx, r, () => `Requeued ${r.requeued} notifications.\n`);
    },
  },
  {
    words: "notify status", summary: "a merchant's notification outbox: backlog, next events due, dead letters",
    options: { merchant, limit: { type: "string", help: "events listed per section (default 20)" } },
    run: async (ctx, v) => {
      const r = await ctx.client().call<Row & { next: Row[]; deadLetters: Row[]; oldestPendingAt: number | null }>("notify.status", {
        merchantId: str(v, "merchant"), ...(v.limit === undefined ? {} : { limit: optInt(v, "limit", 1, 1_000) }),
      });
      return emit(ctx, r, () => {
        const when = (rows: Row[], fields: string[]) => rows.map((row) => ({ ...row, ...Object.fromEntries(fields.map((f) => [f, row[f] === undefined ? "" : iso(row[f] as number)])) }));
        const head = keyValues({
          configured: r.configured, enabled: r.enabled, "events written": r.events, pending: r.pending, "dead letters": r.dead,
          "oldest pending": r.oldestPendingAt === null ? "none" : iso(r.oldestPendingAt),
        });
        return `${head}Next due\n${table(when(r.next, ["nextAt"]), ["id", "kind", "channel", "customerId", "attempts", "nextAt", "error"])}` +
          `Dead letters\n${table(when(r.deadLetters, ["deadAt"]), ["id", "kind", "channel", "customerId", "attempts", "error", "deadAt"])}`;
      });
    },
  },
  {
    words: "backup", summary: "a consistent, compacted copy of the data while the daemon serves (written on the daemon's machine)",
    options: { out: { type: "string", help: "new empty directory; start a daemon with --data on it to restore", required: true } },
    run: async (ctx, v) => {
      const dir = resolve(str(v, "out"));
      const bar = progress("backing up", 0);
      const ticker = setInterval(() => bar.update(0), 200);
      try {
        const r = await ctx.client().call<{ dir: string; seq: number; bytes: number; ms: number }>("backup", { dir }, 3_600_000);
        bar.finish();
        return emit(ctx, r, () => `Backup in ${r.dir}: ${(r.bytes / 1048576).toFixed(1)} MiB, every change up to journal seq ${r.seq} (at least), in ${r.ms} ms.\nRestore: start the daemon with --data ${r.dir}\n`);
      } finally {
        clearInterval(ticker);
      }
    },
  },
  {
    words: "stats", summary: "daemon version, uptime, ports, journal and storage figures", options: {},
    run: async (ctx) => {
      const r = await ctx.client().call<Row & { store: Row }>("stats");
      return emit(ctx, r, () => keyValues({ ...r, store: undefined, ...Object.fromEntries(Object.entries(r.store).map(([k, x]) => [`store.${k}`, x])) }).replace(/^store: *\n/m, ""));
    },
  },
  {
    words: "digest", summary: "a hash of the whole state (equal on a primary and its replica)", options: {},
    run: async (ctx) => {
      const r = await ctx.client().call<{ digest: string; lastSeq: number }>("digest");
      return emit(ctx, r, () => `${r.digest}  (journal seq ${r.lastSeq})\n`);
    },
  },
  {
    words: "replica status", summary: "role, epoch, journal range; on a primary its replicas and their lag; on a replica what it follows", options: {},
    run: async (ctx) => {
      const r = await ctx.client().call<Row & { replicas: Row[]; following: Row | null; epochs: Row[] }>("replica.status");
      return emit(ctx, r, () => {
        const head = keyValues({ role: r.role, mode: r.mode, epoch: r.epoch, fenced: r.fenced ?? "no", "last seq": r.lastSeq, "journal from": r.journalFirstSeq, "semi-sync timeouts": r.semiSyncTimeouts });
        const following = r.following ? `\nFollowing\n${keyValues(r.following)}` : "";
        const replicas = r.role === "primary" ? `\nReplicas\n${table(r.replicas, ["user", "ackedSeq", "lagEntries", "connectedAt"])}` : "";
        return head + following + replicas;
      });
    },
  },
  {
    words: "replica promote", summary: "make this replica the primary (next epoch); point tills and other replicas at it", options: {},
    run: async (ctx) => {
      const r = await ctx.client().call<{ epoch: number; startSeq: number }>("replica.promote");
      return emit(ctx, r, () => `Promoted: primary of epoch ${r.epoch}, writing from seq ${r.startSeq}.\nAn old primary that comes back refuses writes once it sees this epoch; restart it as a replica (it is refused if it diverged).\n`);
    },
  },
  {
    words: "journal trim", summary: "drop journal entries beyond --journal-retain now (the daemon also does it every 10 s); never what a connected replica needs", options: {},
    run: async (ctx) => {
      const r = await ctx.client().call<{ deleted: number; journalFirstSeq: number }>("journal.trim");
      return emit(ctx, r, () => `Dropped ${r.deleted} journal entries; the journal now starts at seq ${r.journalFirstSeq}.\n`);
    },
  },
  {
    words: "offers publish", summary: "replace the merchant's offers (C1) from a JSON/YAML file; tills show them at Identify and on receipts",
    options: { merchant, file: { type: "string", help: "offers file: a list, or { offers: [...], receiptMessage }", required: true } },
    run: async (ctx, v) => {
      const data = loadDataFile(str(v, "file"));
      const list = Array.isArray(data) ? data : (data as { offers?: unknown } | null)?.offers;
      if (!Array.isArray(list)) throw new UsageError(`${String(v.file)}: expected a list of offers (or an object with an "offers" list)`);
      const offers = list.map((o, i) => {
        const out = { ...(o as Record<string, unknown>) };
        for (const f of ["validFrom", "validTo"]) if (out[f] !== undefined) out[f] = timeMs(out[f], `offers[${i}].${f}`);
        return out;
      });
      const receiptMessage = Array.isArray(data) ? undefined : (data as { receiptMessage?: unknown }).receiptMessage;
      const r = await ctx.client().call<{ offers: number }>("offers.set", { merchantId: str(v, "merchant"), offers, ...(receiptMessage === undefined ? {} : { receiptMessage }) });
      return emit(ctx, r, () => `Published ${r.offers} offers.\n`);
    },
  },
  {
    words: "offers list", summary: "the merchant's offers and receipt message", options: { merchant },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ offers: Row[]; receiptMessage: string }>("offers.get", { merchantId: str(v, "merchant") });
      const rows = r.offers.map((o) => ({ ...o, to: iso(Math.min(o.validTo as number, 8.64e15)), audience: ["tiers", "tags", "stores", "regions"].flatMap((k) => (o[k] ? [`${k}=${(o[k] as string[]).join("|")}`] : [])).join(" ") || "everyone" }));
      return emit(ctx, r, () => `${table(rows, ["id", "title", "audience", "onReceipt", "to"])}Receipt message: ${r.receiptMessage || "(none)"}\n`);
    },
  },
  {
    words: "coupons issue", summary: "a batch of unique coupon codes with check characters (E6); writes the codes to --out",
    options: {
      merchant, batch: { type: "string", help: "batch id", required: true }, count: { type: "string", help: "how many codes", required: true },
      points: { type: "string", help: "the coupon grants these points" }, "discount-pct": { type: "string", help: "or this percent off the basket" },
      "discount-minor": { type: "string", help: "or this amount off (minor units)" }, uses: { type: "string", help: "uses per code (default 1)" },
      "valid-from": { type: "string", help: "ISO time" }, "valid-to": { type: "string", help: "ISO time" }, customer: { type: "string", help: "bind every code to this customer id" },
      out: { type: "string", help: "file for the codes (one per line)", required: true },
    },
    run: async (ctx, v) => {
      const chosen = ["points", "discount-pct", "discount-minor"].filter((k) => v[k] !== undefined);
      if (chosen.length !== 1) throw new UsageError("give exactly one of --points, --discount-pct, --discount-minor");
      const effect = v.points !== undefined ? { kind: "points", points: optInt(v, "points", 1, 1_000_000) }
        : v["discount-pct"] !== undefined ? { kind: "percent_discount", bp: Math.round(optNumber(v, "discount-pct")! * 100) }
        : { kind: "fixed_discount", amountMinor: optInt(v, "discount-minor", 1, 100_000_000) };
      const r = await ctx.client().call<{ batch: string; issued: number; codes: string[] }>("coupons.issue", {
        merchantId: str(v, "merchant"), batch: str(v, "batch"), count: optInt(v, "count", 1, 1_000_000), effect,
        ...(v.uses === undefined ? {} : { uses: optInt(v, "uses", 1, 1_000_000) }), ...(v["valid-from"] ? { validFrom: timeMs(v["valid-from"], "--valid-from") } : {}),
        ...(v["valid-to"] ? { validTo: timeMs(v["valid-to"], "--valid-to") } : {}), ...(v.customer ? { customerId: v.customer } : {}),
      }, 600_000);
      writeFileSync(str(v, "out"), `${r.codes.join("\n")}\n`, { mode: 0o600 });
      return emit(ctx, { batch: r.batch, issued: r.issued, out: v.out }, () => `Issued ${r.issued} coupons of batch ${r.batch}; codes in ${String(v.out)}.\n`);
    },
  },
  {
    words: "coupon show", summary: "a coupon: effect, validity, uses, open holds", options: { merchant, code: { type: "string", help: "the code", required: true } },
    run: async (ctx, v) => {
      const r = await ctx.client().call<Row & { holds: Row[] }>("coupon.show", { merchantId: str(v, "merchant"), code: str(v, "code") });
      return emit(ctx, r, () => keyValues({ code: r.code, batch: r.batch, effect: r.effect, uses: `${String(r.used)} of ${String(r.usesMax)}`, "held by open checks": r.holds.length, customer: r.customerId || "anyone" }));
    },
  },
  {
    words: "campaign run", summary: "select customers by segment; attach an offer and/or send a message (C3); --dry-run only counts",
    options: {
      merchant, id: { type: "string", help: "campaign id (also the offer id and the tag campaign:<id>)", required: true },
      tier: { type: "string", help: "only this tier" }, tag: { type: "string", help: "only customers with this tag" },
      segment: { type: "string", help: "only this RFM segment over the last year (champions, loyal, at_risk, …)" },
      title: { type: "string", help: "offer title (with --text)" }, text: { type: "string", help: "offer text" },
      "valid-to": { type: "string", help: "offer valid until (ISO time)" }, "on-receipt": { type: "boolean", help: "also print the offer on receipts" },
      message: { type: "string", help: "send this message (SMS/e-mail through the webhook, consent honoured; {firstName} is filled in)" },
      "dry-run": { type: "boolean", help: "count the customers, change nothing" },
    },
    run: async (ctx, v) => {
      const dryRun = v["dry-run"] === true;
      const offer = v.title !== undefined || v.text !== undefined;
      if (offer && (!v.title || !v.text)) throw new UsageError("an offer needs both --title and --text");
      if (!dryRun && !offer && !v.message) throw new UsageError("give an offer (--title, --text), a --message, or --dry-run");
      const r = await ctx.client().call<{ customers: number; tag?: string; messages?: number }>("campaign.run", {
        merchantId: str(v, "merchant"), id: str(v, "id"), ...(v.tier ? { tier: v.tier } : {}), ...(v.tag ? { tag: v.tag } : {}),
        ...(v.segment ? { segment: v.segment } : {}), ...(dryRun ? { dryRun } : {}),
        ...(!dryRun && offer ? { offer: { title: v.title, text: v.text, onReceipt: v["on-receipt"] === true, ...(v["valid-to"] ? { validTo: timeMs(v["valid-to"], "--valid-to") } : {}) } } : {}),
        ...(!dryRun && v.message ? { message: v.message } : {}),
      }, 600_000);
      return emit(ctx, r, () => (dryRun ? `${r.customers} customers match.\n`
        : `Campaign reached ${r.customers} customers${r.tag ? `; offer attached (tag ${r.tag})` : ""}${r.messages !== undefined ? `; ${r.messages} messages queued` : ""}.\n`));
    },
  },
  {
    words: "draw run", summary: "prize draw among eligible cardholders from a recorded seed; winners get points through the journal",
    options: {
      merchant, id: { type: "string", help: "draw id", required: true }, seed: { type: "string", help: "the seed (publish it: anyone can re-run the draw)", required: true },
      winners: { type: "string", help: "how many winners", required: true }, points: { type: "string", help: "points per winner", required: true }, reason,
      tier: { type: "string", help: "only this tier" }, tag: { type: "string", help: "only customers with this tag" },
      "entrants-out": { type: "string", help: "write the entrants' customer ids (for `draw verify`) to this file" },
    },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ id: string; entrants: number; entrantsSha256: string; entrantIds: string[]; winners: Row[] }>("draw.run", {
        merchantId: str(v, "merchant"), id: str(v, "id"), seed: str(v, "seed"), winners: optInt(v, "winners", 1, 10_000), points: optInt(v, "points", 1, 1_000_000_000),
        reason: str(v, "reason"), ...(v.tier ? { tier: v.tier } : {}), ...(v.tag ? { tag: v.tag } : {}),
      });
      if (typeof v["entrants-out"] === "string") writeFileSync(v["entrants-out"], `${r.entrantIds.join("\n")}\n`);
      const { entrantIds: _, ...shown } = r;
      return emit(ctx, shown, () => `Draw ${r.id}: ${r.winners.length} winners among ${r.entrants} entrants (entrants sha256 ${r.entrantsSha256}).\n${table(r.winners, ["customerId", "card"])}`);
    },
  },
  {
    words: "draw verify", summary: "re-run a draw offline from its seed and entrants file; prints the winners",
    options: {
      id: { type: "string", help: "draw id", required: true }, seed: { type: "string", help: "the published seed", required: true },
      winners: { type: "string", help: "how many winners", required: true }, entrants: { type: "string", help: "entrants file (one customer id per line)", required: true },
    },
    run: async (ctx, v) => {
      const entrants = readFileSync(str(v, "entrants"), "utf8").split("\n").map((l) => l.trim()).filter(Boolean).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const winners = drawWinners(str(v, "seed"), str(v, "id"), entrants, optInt(v, "winners", 1, 10_000)!).map((i) => entrants[i]!);
      return emit(ctx, { entrants: entrants.length, entrantsSha256: entrantsDigest(entrants), winners }, () => `entrants ${entrants.length}, sha256 ${entrantsDigest(entrants)}\nwinners: ${winners.join(", ")}\n`);
    },
  },
  {
    words: "draw show", summary: "a recorded draw: seed, entrants' digest, winners", options: { merchant, id: { type: "string", help: "draw id", required: true } },
    run: async (ctx, v) => {
      const r = await ctx.client().call<Row & { winners: Row[] }>("draw.show", { merchantId: str(v, "merchant"), id: str(v, "id") });
      return emit(ctx, r, () => `${keyValues({ id: r.id, seed: r.seed, at: iso(r.at as number), by: r.actor, entrants: r.entrants, "entrants sha256": r.entrantsSha256, points: r.points, reason: r.reason })}\n${table(r.winners, ["customerId", "card"])}`);
    },
  },
  {
    words: "user add", summary: "create an admin user; prints its token once",
    options: { name: { type: "string", help: "user name (shown in the audit log)", required: true } },
    run: async (ctx, v) => {
      const r = await ctx.client().call<{ user: string; token: string }>("user.add", { name: str(v, "name") });
      return emit(ctx, r, () => `Admin user ${r.user} saved.\nToken (shown once): ${r.token}\n`);
    },
  },
];
