// admin-cli analytics end to end: the built CLI against a real daemon
// process: demo generate with the daemon's write path, then every report
// exported, and the files read back by independent readers (Python's
// openpyxl for .xlsx, JSON.parse for GeoJSON).
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnDaemon, type SpawnedDaemon } from "../daemon/test-support/spawn-daemon.js";

const cliEntry = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "admin-cli", "main.js");
const dir = mkdtempSync(join(tmpdir(), "analytics-cli-test-"));

function cli(daemon: SpawnedDaemon, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliEntry, ...args, "--url", daemon.adminUrl, "--credentials", daemon.adminCredentialsFile], { env: { ...process.env, LOYALTY_ADMIN_TOKEN: "" } },
      (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }));
  });
}

interface Result { figures: Record<string, number | string>; tables: { name: string; rows: Record<string, unknown>[] }[] }

describe("admin-cli analytics against a running daemon", () => {
  let daemon: SpawnedDaemon;
  let summary: Result;
  // The generated history ends today: a period around it covers all of it.
  const period = ["--merchant", "chain", "--from", new Date(Date.now() - 400 * 86_400_000).toISOString(), "--to", new Date(Date.now() + 86_400_000).toISOString()];

  beforeAll(async () => {
    daemon = await spawnDaemon({ args: ["--no-seed-demo", "--durability", "none"] });
    const r = await cli(daemon, ["demo", "generate", "--customers", "120", "--months", "7", "--stores", "3", "--seed", "5", "--city", "kazan", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout) as { state: string; summary: { sales: number; registrations: number } };
    expect(job.state).toBe("done");
    expect(job.summary.registrations).toBe(120);
    const s = await cli(daemon, ["report", "summary", ...period, "--json"]);
    expect(s.code).toBe(0);
    summary = JSON.parse(s.stdout) as Result;
  }, 60_000);
  afterAll(async () => {
    await daemon?.stop();
  });

  it("refuses a second demo chain into an existing merchant", async () => {
    const again = await cli(daemon, ["demo", "generate", "--customers", "10", "--months", "1"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("exists");
  });

  it("writes an .xlsx that a spreadsheet reader opens with the right cells", async () => {
    const file = join(dir, "summary.xlsx");
    const r = await cli(daemon, ["report", "summary", ...period, "--format", "xlsx", "--out", file]);
    expect(r.code).toBe(0);
    const read = execFileSync("/usr/bin/python3", ["-c", [
      "import json, sys, openpyxl",
      "wb = openpyxl.load_workbook(sys.argv[1])",
      "print(json.dumps({ws.title: [[c for c in row] for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}, default=str))",
    ].join("\n"), file], { encoding: "utf8" });
    const sheets = JSON.parse(read) as Record<string, unknown[][]>;
    expect(Object.keys(sheets)).toEqual(["figures", "days"]);
    const figures = Object.fromEntries(sheets.figures!.slice(1).map(([k, v]) => [k, v]));
    expect(figures.checks).toBe(String(summary.figures.checks));
    const days = sheets.days!;
    expect(days[0]!.slice(0, 3)).toEqual(["Date", "Checks", "Revenue"]);
    const rows = summary.tables.find((t) => t.name === "days")!.rows;
    expect(days).toHaveLength(rows.length + 1);
    expect(rows.length).toBeGreaterThan(400);
    const busiest = rows.reduce((a, b) => (Number(b.checks) > Number(a.checks) ? b : a));
    const line = days.find((d) => d[0] === busiest.date)!;
    expect(line[1]).toBe(busiest.checks);
    expect(line[2]).toBeCloseTo(Number(busiest.revenueMinor) / 100, 2);
  });

  it("writes CSV and a per-day chart, GeoJSON and an SVG map", async () => {
    const csv = join(dir, "rfm.csv");
    expect((await cli(daemon, ["report", "rfm", ...period, "--format", "csv", "--out", csv])).code).toBe(0);
    const lines = readFileSync(csv, "utf8").trim().split("\r\n");
    expect(lines[0]).toBe("Segment,Customers,Share,Revenue,Revenue share,\"Avg recency, days\",Avg purchases,Avg revenue");
    expect(lines).toHaveLength(10);
    const chart = join(dir, "days.svg");
    expect((await cli(daemon, ["report", "summary", ...period, "--format", "csv", "--out", join(dir, "s.csv"), "--chart", chart])).code).toBe(0);
    expect(readFileSync(chart, "utf8")).toMatch(/^<\?xml[^]*<svg[^]*<path d="M/);
    const geo = join(dir, "map.geojson");
    expect((await cli(daemon, ["report", "territory", ...period, "--format", "geojson", "--out", geo])).code).toBe(0);
    const fc = JSON.parse(readFileSync(geo, "utf8")) as { type: string; features: { geometry: { type: string }; properties: { customers: number } }[] };
    expect(fc.type).toBe("FeatureCollection");
    expect(fc.features.filter((f) => f.geometry.type === "Point")).toHaveLength(3);
    expect(fc.features.filter((f) => f.geometry.type === "Polygon").reduce((s, f) => s + f.properties.customers, 0)).toBe(120);
    const svg = join(dir, "map.svg");
    expect((await cli(daemon, ["report", "territory", ...period, "--format", "svg", "--out", svg])).code).toBe(0);
    expect(readFileSync(svg, "utf8")).toContain("<circle");
  });

  it("prints tables for people and names bad options", async () => {
    const points = await cli(daemon, ["report", "points", ...period]);
    expect(points.code).toBe(0);
    expect(points.stdout).toContain("liability:");
    expect(points.stdout).toContain("Expiry forecast");
    expect((await cli(daemon, ["report", "summary", ...period, "--format", "xlsx"])).code).toBe(2);
    const bad = await cli(daemon, ["report", "rfm", ...period, "--segment", "nonsense"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("segment");
  });
});
