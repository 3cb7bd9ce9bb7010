// Report output for admin-cli (SPEC A7): a text view for people, CSV and a
// real .xlsx (exceljs) for spreadsheets, GeoJSON and SVG for the map, an SVG
// chart of the per-day series. All of it is written from the JSON the daemon
// answers, so every format shows the same figures.
import { writeFileSync } from "node:fs";
import ExcelJS from "exceljs";
import type { Column, ReportResult, ReportTable } from "../daemon/analytics/reports/source.js";
import type { TerritoryGrid } from "../daemon/analytics/reports/territory.js";
import { seriesSvg, territorySvg } from "../daemon/analytics/render.js";
import { keyValues, money, table } from "./output.js";

/** The figures as a table, so they export like every other table. */
export function figuresTable(result: ReportResult): ReportTable {
  return {
    name: "figures", title: "Figures", columns: [{ key: "figure", title: "Figure", type: "text" }, { key: "value", title: "Value", type: "text" }],
    rows: Object.entries(result.figures).map(([figure, value]) => (typeof value === "number" && /Minor$/.test(figure)
      ? { figure: figure.replace(/Minor$/, ""), value: money(value) } : { figure, value: String(value) })),
  };
}

function shown(c: Column, v: unknown): string {
  if (v === undefined || v === null) return "";
  if (c.type === "money" && typeof v === "number") return money(v);
  if (c.type === "share" && typeof v === "number") return `${(v * 100).toFixed(2)}%`;
  return String(v);
}

const rowsShownMax = 100;

export function reportText(result: ReportResult): string {
  const head = `${result.report} of ${result.merchantId}, ${new Date(result.from).toISOString()} .. ${new Date(result.to).toISOString()}` +
    `${result.filters.stores.length ? `, stores ${result.filters.stores.join(",")}` : ""}` +
    `${Object.entries(result.filters.group).map(([k, v]) => `, ${k} ${String(v)}`).join("")}\n\n`;
  const figures = Object.fromEntries(figuresTable(result).rows.map((r) => [r.figure, r.value]));
  const tables = result.tables.map((t) => {
    const rows = t.rows.slice(0, rowsShownMax).map((r) => Object.fromEntries(t.columns.map((c) => [c.title, shown(c, r[c.key])])));
    const more = t.rows.length > rowsShownMax ? `… ${t.rows.length - rowsShownMax} more rows (use --format csv or xlsx)\n` : "";
    return `${t.title}\n${table(rows, t.columns.map((c) => c.title))}${more}`;
  });
  return `${head}${keyValues(figures)}\n${tables.join("\n")}`;
}

function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header of column titles; money as decimal major units (123.45), shares as fractions. */
export function tableCsv(t: ReportTable): string {
  const value = (c: Column, v: unknown) => (c.type === "money" && typeof v === "number" ? money(v) : v);
  return [t.columns.map((c) => csvCell(c.title)).join(","), ...t.rows.map((r) => t.columns.map((c) => csvCell(value(c, r[c.key]))).join(","))].join("\r\n") + "\r\n";
}

/** Writes the main table to `file` and each other table (figures included) next to it as <file>-<table>.csv; returns the paths. */
export function writeCsv(result: ReportResult, file: string): string[] {
  const base = file.replace(/\.csv$/i, "");
  const written: string[] = [];
  [...result.tables, figuresTable(result)].forEach((t, i) => {
    const path = i === 0 ? file : `${base}-${t.name}.csv`;
    writeFileSync(path, tableCsv(t));
    written.push(path);
  });
  return written;
}

const numberFormats: Record<Column["type"], string | undefined> = { money: "#,##0.00", share: "0.00%", number: "0.####", int: "#,##0", text: undefined, date: undefined };

/** A workbook: a Figures sheet, then one sheet per table, with typed cells (money as numbers with two decimals). */
export async function writeXlsx(result: ReportResult, file: string): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "loyalty admin-cli";
  for (const t of [figuresTable(result), ...result.tables]) {
    const sheet = workbook.addWorksheet(t.name.slice(0, 31));
    sheet.columns = t.columns.map((c) => ({ header: c.title, key: c.key, width: Math.max(12, c.title.length + 2), style: numberFormats[c.type] ? { numFmt: numberFormats[c.type]! } : {} }));
    sheet.getRow(1).font = { bold: true };
    for (const r of t.rows) {
      sheet.addRow(Object.fromEntries(t.columns.map((c) => {
        const v = r[c.key];
        return [c.key, c.type === "money" && typeof v === "number" ? v / 100 : v];
      })));
    }
    sheet.views = [{ state: "frozen", ySplit: 1 }];
  }
  await workbook.xlsx.writeFile(file);
}

export function mapSvg(result: ReportResult): string {
  const grid = result.extra?.grid as TerritoryGrid | undefined;
  if (!grid) throw new Error("not a territory report");
  return territorySvg(grid, `Customers of ${result.merchantId} by home location (${result.figures.customers} customers, ${grid.stores.length} stores)`);
}

/** The summary's revenue per day as a line chart. */
export function dayChartSvg(result: ReportResult): string {
  const days = result.tables.find((t) => t.name === "days");
  if (!days) throw new Error("the report has no per-day series");
  return seriesSvg(days.rows.map((r) => ({ date: String(r.date), value: Number(r.revenueMinor) / 100 })), `Revenue per day, ${result.merchantId}`, `revenue, ${result.currency}`);
}
