// admin-cli commands for analytics (SPEC §7): `report <name>` and
// `demo generate`. Kept apart from commands.ts (the table of operational
// commands) and joined into the same table, so parsing and --help are shared.
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { DemoSummary } from "../daemon/analytics/demo-generator.js";
import type { ReportResult } from "../daemon/analytics/reports/source.js";
import { exitCodes, type CommandSpec, type Context, type Values } from "./commands.js";
import { UsageError, timeMs } from "./data-file.js";
import { progress } from "./output.js";
import { dayChartSvg, mapSvg, reportText, writeCsv, writeXlsx } from "./report-export.js";

const reportTimeoutMs = 3_600_000;
const pollMs = 500;

const reportHelp: Record<string, string> = {
  summary: "A1: cards issued and registered, purchases, average check, items per check, members vs non-members, per day",
  rfm: "A2: recency/frequency/monetary scores and segments; --list-segment for a campaign's customer list",
  territory: "A3: customer density on a grid against the stores (GeoJSON, SVG map) and candidate sites",
  points: "A4: points earned/redeemed/expired per month, redemption rate, liability, expiry forecast",
  promotions: "A5: promotion effectiveness, tier distribution and movement",
};

function option(v: Values, name: string): string | undefined {
  const value = v[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function intOption(v: Values, name: string, min: number, max: number): number | undefined {
  const value = option(v, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return Number(value);
}

const formats = ["table", "json", "csv", "xlsx", "geojson", "svg"] as const;

async function runReport(ctx: Context, name: string, v: Values): Promise<number> {
  const format = option(v, "format") ?? (ctx.json ? "json" : "table");
  if (!(formats as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${formats.join(", ")}`);
  if ((format === "geojson" || format === "svg") && name !== "territory") throw new UsageError(`--format ${format} is for the territory report`);
  const out = option(v, "out");
  if ((format === "csv" || format === "xlsx" || format === "svg" || format === "geojson") && !out) throw new UsageError(`--format ${format} needs --out FILE`);
  const chart = option(v, "chart");
  if (chart && name !== "summary") throw new UsageError("--chart is for the summary report (its per-day series)");
  const params: Record<string, unknown> = { merchantId: option(v, "merchant"), name };
  if (option(v, "from")) params.from = timeMs(v.from, "--from");
  if (option(v, "to")) params.to = timeMs(v.to, "--to");
  const stores = option(v, "store")?.split(",").map((s) => s.trim()).filter(Boolean);
  if (stores?.length) params.stores = stores;
  for (const [flag, field] of [["tier", "tier"], ["segment", "segment"], ["tag", "tag"], ["list-segment", "listSegment"]] as const) {
    if (option(v, flag)) params[field] = option(v, flag);
  }
  const listMax = intOption(v, "list-max", 1, 1_000_000);
  if (listMax !== undefined) params.listMax = listMax;
  const cell = intOption(v, "cell-m", 100, 50_000);
  if (cell !== undefined) params.cellMeters = cell;

  const bar = progress(`report ${name}`, 0);
  const ticker = setInterval(() => bar.update(0), 200);
  let result: ReportResult & { ms: number };
  try {
    result = await ctx.client().call<ReportResult & { ms: number }>("report.run", params, reportTimeoutMs);
  } finally {
    clearInterval(ticker);
  }
  bar.finish(`${result.ms} ms in the worker`);
  const written: string[] = [];
  if (chart) { writeFileSync(chart, dayChartSvg(result)); written.push(chart); }
  switch (format) {
    case "json": {
      const text = `${JSON.stringify(result, null, 2)}\n`;
      if (out) { writeFileSync(out, text); written.push(out); } else ctx.out(text);
      break;
    }
    case "table":
      if (out) { writeFileSync(out, reportText(result)); written.push(out); } else ctx.out(reportText(result));
      break;
    case "csv": written.push(...writeCsv(result, out!)); break;
    case "xlsx": await writeXlsx(result, out!); written.push(out!); break;
    case "geojson": writeFileSync(out!, `${JSON.stringify(result.extra?.geojson)}\n`); written.push(out!); break;
    case "svg": writeFileSync(out!, mapSvg(result)); written.push(out!); break;
  }
  if (written.length > 0) {
    if (ctx.json && format !== "json") ctx.out(`${JSON.stringify({ written, ms: result.ms }, null, 2)}\n`);
    else if (!ctx.json) ctx.out(`Wrote ${written.join(", ")}.\n`);
  }
  return exitCodes.ok;
}

const reportOptions = {
  merchant: { type: "string", help: "merchant id", required: true },
  from: { type: "string", help: "period start (ISO date/time; default 30 days before --to, 365 for rfm)" },
  to: { type: "string", help: "period end, exclusive (ISO date/time; default now)" },
  store: { type: "string", help: "only these stores (comma-separated ids)" },
  tier: { type: "string", help: "customer group: cards in this tier" },
  segment: { type: "string", help: "customer group: customers in this RFM segment (champions, loyal, at_risk, …)" },
  tag: { type: "string", help: "customer group: customers with this tag" },
  format: { type: "string", help: "table | json | csv | xlsx (territory also: geojson | svg); default table" },
  out: { type: "string", help: "write to this file (required for csv, xlsx, geojson, svg)" },
  chart: { type: "string", help: "summary: also write the per-day revenue chart as SVG to this file" },
  "list-segment": { type: "string", help: "rfm: list the customers of this segment (for a campaign)" },
  "list-max": { type: "string", help: "rfm: at most this many customers in the list (default 10000)" },
  "cell-m": { type: "string", help: "territory: grid cell size in metres (default 1000)" },
} as const;

const demoGenerate: CommandSpec = {
  words: "demo generate",
  summary: "generate a demo chain with a year of history through the daemon's write path (deterministic by seed)",
  options: {
    merchant: { type: "string", help: "new merchant id (default chain)" },
    seed: { type: "string", help: "random seed (default 1): the same seed gives the same data" },
    customers: { type: "string", help: "registered customers (default 10000)" },
    months: { type: "string", help: "months of history up to today (default 12)" },
    stores: { type: "string", help: "stores (default one per 2,500 customers, at least 3)" },
    city: { type: "string", help: "moscow | saint-petersburg | kazan | novosibirsk | yekaterinburg (default moscow)" },
  },
  run: async (ctx, v) => {
    const client = ctx.client();
    const params: Record<string, unknown> = {};
    if (option(v, "merchant")) params.merchantId = option(v, "merchant");
    if (option(v, "city")) params.city = option(v, "city");
    for (const [flag, max] of [["seed", 2 ** 32 - 1], ["customers", 2_000_000], ["months", 36], ["stores", 1_000]] as const) {
      const n = intOption(v, flag, 0, max);
      if (n !== undefined) params[flag] = n;
    }
    const started = await client.call<{ job: number; merchantId: string; customers: number; months: number }>("demo.generate", params);
    const bar = progress(`generating ${started.merchantId}`, 1);
    for (;;) {
      await sleep(pollMs);
      const job = await client.call<{ id: number; state: string; daysDone: number; daysTotal: number; ms: number; error: string; summary: DemoSummary | null }>("demo.status");
      if (job.id !== started.job) throw new UsageError("another demo generation replaced this one");
      bar.update(job.daysTotal ? job.daysDone / job.daysTotal : 0, job.summary ? `${job.summary.sales} checks` : "");
      if (job.state === "running") continue;
      bar.finish(job.summary ? `${job.summary.sales} checks` : "");
      if (job.state === "failed") {
        process.stderr.write(`error: demo generation failed: ${job.error}\n`);
        return exitCodes.refused;
      }
      const s = job.summary!;
      const perSecond = Math.round((s.sales / job.ms) * 1000);
      ctx.out(ctx.json ? `${JSON.stringify(job, null, 2)}\n`
        : `Generated ${started.merchantId}: ${s.stores} stores, ${s.terminals} terminals, ${s.cardsIssued} cards, ${s.registrations} customers, `
          + `${s.sales} checks (${s.memberSales} with a card), ${s.refunds} refunds, in ${(job.ms / 1000).toFixed(1)} s (${perSecond} checks/s).\n`);
      return exitCodes.ok;
    }
  },
};

export const analyticsCommands: CommandSpec[] = [
  ...Object.entries(reportHelp).map(([name, summary]): CommandSpec => ({
    words: `report ${name}`, summary, options: reportOptions, run: (ctx, v) => runReport(ctx, name, v),
  })),
  demoGenerate,
];
