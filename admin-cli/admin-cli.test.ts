// admin-cli end to end: the built CLI (dist/admin-cli/main.js) as a child
// process against a real daemon process, and a real POS client seeing the
// effect of every change on its next request.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode as E } from "../protocol/codec.js";
import { PosClient, PosError } from "../protocol/client.js";
import { withCheckDigit } from "../daemon/seed.js";
import { spawnDaemon, type SpawnedDaemon } from "../daemon/test-support/spawn-daemon.js";
import { runCli } from "./test-support/run-cli.js";

const cli = runCli; // the built CLI against `daemon` (see test-support/run-cli.ts)

async function cliJson<T>(daemon: SpawnedDaemon, args: string[], extra: string[] = []): Promise<T> {
  const r = await cli(daemon, [...args, "--json"], extra);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (error) {
    if (error instanceof PosError) return error.code;
    throw error;
  }
}

const dir = mkdtempSync(join(tmpdir(), "admin-cli-test-"));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const card = (i: number) => withCheckDigit(`31000000000${String(i).padStart(4, "0")}`);
const badCheckDigit = (n: string) => n.slice(0, -1) + String((Number(n.at(-1)) + 1) % 10);
const line = (sku: string, group: string, price: number) => ({ sku, group, quantityMilli: 1000, priceMinor: price, amountMinor: price });

describe("admin-cli against a running daemon", () => {
  let daemon: SpawnedDaemon;
  let pos: PosClient;
  let till: { terminalId: string; secret: string };

  beforeAll(async () => {
    daemon = await spawnDaemon({ args: ["--no-seed-demo"] });
  });
  afterAll(async () => {
    await pos?.close();
    await daemon?.stop();
  });

  it("sets up a merchant from nothing that a till can use at once", async () => {
    expect((await cli(daemon, ["merchant", "put", "--id", "acme", "--name", "Acme Foods", "--tz-offset-min", "180"])).code).toBe(0);
    expect((await cli(daemon, ["store", "put", "--merchant", "acme", "--id", "kzn-1", "--name", "Kazan Bauman 5", "--region", "kazan", "--lat", "55.7887", "--lon", "49.1221"])).code).toBe(0);
    const terminal = await cliJson<{ terminalId: string; secret: string }>(daemon, ["terminal", "create", "--merchant", "acme", "--store", "kzn-1", "--id", "acme-kzn-1-01"]);
    expect(terminal.secret.length).toBeGreaterThan(30);
    till = terminal;
    expect((await cli(daemon, ["groups", "set", "--merchant", "acme", "--no-earn", "tobacco", "--no-redeem", "tobacco,alcohol"])).code).toBe(0);
    const tiers = file("tiers.yaml", [
      "- { id: basic, name: Basic, spendMinMinor: 0, accrualBp: 200, discountBp: 0 }",
      "- { id: plus, name: Plus, spendMinMinor: 1000000, accrualBp: 400, discountBp: 0 }",
    ].join("\n"));
    expect((await cli(daemon, ["tiers", "set", "--merchant", "acme", "--file", tiers])).code).toBe(0);
    const promos = file("promos.yaml", [
      "promotions:",
      "  - id: tea-week",
      "    name: Tea week",
      "    priority: 10",
      "    validFrom: 2020-01-01",
      "    conditions: { groups: [tea] }",
      "    effect: { kind: percent_discount, bp: 1000 }",
    ].join("\n"));
    expect((await cli(daemon, ["promo", "publish", "--merchant", "acme", "--file", promos])).code).toBe(0);
    const issued = await cliJson<{ issued: number; first: string }>(daemon, ["cards", "issue", "--merchant", "acme", "--prefix", "31000000000", "--first", "1", "--count", "50", "--length", "16"]);
    expect(issued).toEqual({ issued: 50, first: card(1) });

    pos = new PosClient({ url: daemon.posUrl, terminalId: terminal.terminalId, secret: terminal.secret, cashierId: "anna", reconnect: false });
    await pos.connect();
    const calc = await pos.calculate({ card: { cardNumber: card(1) }, lines: [line("tea-1", "tea", 50_000), line("cig-1", "tobacco", 30_000)] });
    // 10% off the tea line; 2% (basic tier) of the tea line after discount, nothing on tobacco.
    expect(calc.lines.map((l) => l.discountMinor)).toEqual([5_000, 0]);
    expect(calc.pointsAccrued).toBe(9);
    expect(calc.promotions.map((p) => p.id)).toEqual(["tea-week"]);

    const shown = (await cliJson<{ program: { tiers: { id: string }[]; noRedeemGroups: string[] } }>(daemon, ["program", "show", "--merchant", "acme"])).program;
    expect(shown.tiers.map((t) => t.id)).toEqual(["basic", "plus"]);
    expect(shown.noRedeemGroups).toEqual(["tobacco", "alcohol"]);
  });

  it("names the bad field of a promotions file, offline and at the daemon", async () => {
    const bad = file("bad.json", JSON.stringify([{ id: "p1", name: "Bad", effect: { kind: "percent_discount", bp: 20_000 } }]));
    const offline = await cli(null, ["promo", "validate", "--file", bad]);
    expect(offline.code).toBe(2);
    expect(offline.stderr).toContain("promotions[0].effect.bp");
    const typo = file("typo.json", JSON.stringify([{ id: "p1", name: "Typo", exlusive: true, effect: { kind: "fixed_points", points: 5 } }]));
    const refused = await cli(daemon, ["promo", "publish", "--merchant", "acme", "--file", typo]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("promotions[0].exlusive: unknown field");
  });

  it("dry-runs a basket under a promotions file without publishing it", async () => {
    const candidate = file("candidate.json", JSON.stringify([
      { id: "double-tea", name: "Double points on tea", conditions: { groups: ["tea"] }, effect: { kind: "points_multiplier", multiplierPct: 200 } },
    ]));
    const basket = file("basket.json", JSON.stringify({ storeId: "kzn-1", lines: [{ sku: "tea-1", group: "tea", price: 50_000 }] }));
    const r = await cliJson<{ accrue: number; discount: number; promos: { id: string }[] }>(daemon, ["promo", "dry-run", "--merchant", "acme", "--basket", basket, "--file", candidate, "--card", card(2)]);
    expect(r.promos.map((p) => p.id)).toEqual(["double-tea"]);
    expect(r.discount).toBe(0);
    expect(r.accrue).toBe(20); // 2% × 2 of 500.00
    const human = await cli(daemon, ["promo", "dry-run", "--merchant", "acme", "--basket", basket]);
    expect(human.stdout).toContain("tea-week");
    // Nothing was published: the till still gets the tea-week discount.
    const calc = await pos.calculate({ card: { cardNumber: card(2) }, lines: [line("tea-1", "tea", 50_000)] });
    expect(calc.promotions.map((p) => p.id)).toEqual(["tea-week"]);
  });

  it("imports a CSV, reporting bad lines by number and keeping every good one", async () => {
    const csv = file("cards.csv", [
      "number,kind,phone,first_name,last_name,birth_date,consent_sms,tags",
      `${card(101)},bonus,+7 (917) 000-11-01,Ivan,Petrov,1980-05-06,yes,vip`,
      `${badCheckDigit(card(102))},bonus,,,,,,`,
      `${card(103)},bonus,79170001103,Olga,"Smirnova, Jr",1991-02-03,no,`,
      `${card(104)},platinum,,,,,,`,
      `${card(101)},bonus,,,,,,`,
      `${card(105)},bonus,79170001101,Dup,Phone,,,`,
      `${card(106)},discount,,,,,,`,
    ].join("\n"));
    const r = await cli(daemon, ["cards", "import", "--merchant", "acme", "--file", csv, "--json"]);
    expect(r.code).toBe(5);
    const outcome = JSON.parse(r.stdout) as { imported: number; rejected: { line: number; reason: string }[] };
    expect(outcome.imported).toBe(3);
    expect(outcome.rejected.map((x) => x.line)).toEqual([3, 5, 6, 7]);
    expect(outcome.rejected[0]!.reason).toContain("check digit");
    expect(outcome.rejected[1]!.reason).toContain("kind");
    expect(outcome.rejected[2]!.reason).toContain("already exists");
    expect(outcome.rejected[3]!.reason).toContain("already has a card");
    // Good lines are whole: the card, its customer and the phone index.
    const byPhone = await cliJson<{ card: { number: string; status: string }; customer: { lastName: string } }>(daemon, ["card", "show", "--merchant", "acme", "--phone", "79170001103"]);
    expect(byPhone.card).toMatchObject({ number: card(103), status: "active" });
    expect(byPhone.customer.lastName).toBe("Smirnova, Jr");
    // A rejected line left nothing behind: the phone of line 7 is not bound to card 105.
    const missing = await cli(daemon, ["card", "show", "--merchant", "acme", "--number", card(105)]);
    expect(missing.code).toBe(1);
    expect((await pos.identify({ card: { phone: "79170001101" } })).cardNumber).toBe(card(101));
  });

  it("adjusts and blocks a card, and the till's next answer changes", async () => {
    const before = (await pos.identify({ card: { cardNumber: card(3) } })).balances?.pointsActive ?? 0;
    expect((await cli(daemon, ["points", "adjust", "--merchant", "acme", "--number", card(3), "--points", "700"])).code).toBe(2); // reason is mandatory
    expect((await cli(daemon, ["points", "adjust", "--merchant", "acme", "--number", card(3), "--points", "700", "--reason", "complaint #41"])).code).toBe(0);
    expect((await pos.identify({ card: { cardNumber: card(3) } })).balances?.pointsActive).toBe(before + 700);
    const tooMuch = await cli(daemon, ["points", "adjust", "--merchant", "acme", "--number", card(3), "--points", "-5000", "--reason", "mistake"]);
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.stderr).toContain("only 700 spendable points");
    expect((await cli(daemon, ["points", "adjust", "--merchant", "acme", "--number", card(3), "--points", "-200", "--reason", "double grant"])).code).toBe(0);
    expect((await pos.identify({ card: { cardNumber: card(3) } })).balances?.pointsActive).toBe(before + 500);

    expect((await cli(daemon, ["card", "block", "--merchant", "acme", "--number", card(3), "--reason", "reported stolen"])).code).toBe(0);
    expect(await codeOf(pos.identify({ card: { cardNumber: card(3) } }))).toBe(E.ERROR_CODE_CARD_BLOCKED);
    expect((await cli(daemon, ["card", "unblock", "--merchant", "acme", "--number", card(3), "--reason", "found"])).code).toBe(0);
    expect((await pos.identify({ card: { cardNumber: card(3) } })).balances?.pointsActive).toBe(before + 500);
  });

  it("disables a terminal and rotates its secret", async () => {
    const t = await cliJson<{ terminalId: string; secret: string }>(daemon, ["terminal", "create", "--merchant", "acme", "--store", "kzn-1", "--id", "acme-kzn-1-02"]);
    const rotated = await cliJson<{ secret: string }>(daemon, ["terminal", "rotate-secret", "--id", t.terminalId]);
    const old = new PosClient({ url: daemon.posUrl, terminalId: t.terminalId, secret: t.secret, cashierId: "x", reconnect: false });
    expect(await codeOf(old.connect())).toBe(E.ERROR_CODE_UNAUTHENTICATED);
    await old.close();
    expect((await cli(daemon, ["terminal", "disable", "--id", t.terminalId])).code).toBe(0);
    const fresh = new PosClient({ url: daemon.posUrl, terminalId: t.terminalId, secret: rotated.secret, cashierId: "x", reconnect: false });
    expect(await codeOf(fresh.connect())).toBe(E.ERROR_CODE_FORBIDDEN);
    await fresh.close();
  });

  it("refuses a wrong admin credential and says when the daemon is unreachable", async () => {
    const wrong = await cli(null, ["stats", "--url", daemon.adminUrl, "--token", "admin.not-the-secret"]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain("wrong or missing admin credential");
    const nobody = await cli(null, ["stats", "--url", "http://127.0.0.1:1", "--token", "admin.x"]);
    expect(nobody.code).toBe(4);
    expect((await cli(null, ["card", "show", "--bogus"])).code).toBe(2);
  });

  it("answers malformed admin requests with typed errors and keeps serving", async () => {
    const token = (JSON.parse(readFileSync(daemon.adminCredentialsFile, "utf8")) as { token: string }).token;
    const post = (method: string, body: string) => fetch(`${daemon.adminUrl}/v1/${method}`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body })
      .then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { kind: string; message: string; field?: string } } }));
    expect(await post("stats", "{not json")).toMatchObject({ status: 400, body: { error: { kind: "invalid" } } });
    expect(await post("stats", "[1,2]")).toMatchObject({ status: 400 });
    expect(await post("no.such", "{}")).toMatchObject({ status: 404, body: { error: { kind: "unknown_method" } } });
    expect(await post("store.put", JSON.stringify({ merchantId: "acme", id: "x", name: "X", lat: 91, lon: 0 }))).toMatchObject({ status: 400, body: { error: { field: "lat" } } });
    expect(await post("store.put", JSON.stringify({ merchantId: "nope", id: "x", name: "X", lat: 1, lon: 0 }))).toMatchObject({ status: 404 });
    expect(await post("stats", "x".repeat(9 * 1024 * 1024))).toMatchObject({ status: 413 });
    expect((await post("stats", "{}")).status).toBe(200);
  });

  it("keeps an audit log of who did what", async () => {
    const added = await cliJson<{ token: string }>(daemon, ["user", "add", "--name", "marketing-olga"]);
    expect((await cli(null, ["card", "block", "--merchant", "acme", "--number", card(4), "--reason", "fraud check", "--url", daemon.adminUrl, "--token", added.token])).code).toBe(0);
    const audit = await cliJson<{ records: { actor: string; action: string; summary: string; ok: boolean }[] }>(daemon, ["audit", "--actor", "marketing-olga"]);
    expect(audit.records.map((r) => [r.action, r.ok])).toEqual([["card.status", true]]);
    expect(audit.records[0]!.summary).toContain(`****${card(4).slice(-4)}`);
    expect(audit.records[0]!.summary).not.toContain(card(4));
    const all = await cliJson<{ records: { actor: string; action: string; ok: boolean }[] }>(daemon, ["audit", "--actor", "admin", "--limit", "10000"]);
    expect(all.records.some((r) => r.action === "points.adjust" && !r.ok)).toBe(true); // refused calls are audited too
    expect(all.records.some((r) => r.action === "audit.note")).toBe(true); // and reads
  });

  it("backs up while serving, and the backup starts a daemon that answers the same", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "admin-cli-backup-")), "copy");
    const r = await cliJson<{ dir: string; bytes: number }>(daemon, ["backup", "--out", out]);
    expect(r.bytes).toBeGreaterThan(0);
    const digest = await cliJson<{ digest: string }>(daemon, ["digest"]);
    const restored = await spawnDaemon({ dataDir: out, args: ["--no-seed-demo"] });
    try {
      // The restored daemon has the admin users of the original: the same token works.
      const again = await cliJson<{ digest: string }>(restored, ["digest"], ["--credentials", daemon.adminCredentialsFile]);
      expect(again.digest).toBe(digest.digest);
      // A till pointed at the restored daemon gets the same answer.
      const copy = new PosClient({ url: restored.posUrl, terminalId: till.terminalId, secret: till.secret, cashierId: "anna", reconnect: false });
      try {
        await copy.connect();
        const there = await copy.identify({ card: { cardNumber: card(3) } });
        const here = await pos.identify({ card: { cardNumber: card(3) } });
        expect({ ...there.balances, expiringSoonAtMs: 0 }).toEqual({ ...here.balances, expiringSoonAtMs: 0 }); // that one is "now + horizon"
        expect(there.balances?.pointsActive).toBe(500);
      } finally {
        await copy.close();
      }
    } finally {
      await restored.stop();
    }
  });
});
