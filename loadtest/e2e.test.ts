// The built CLI against the real daemon: a short low-rate run in --target
// mode with autocannon on the HTTP port, checked on counts only (never on
// timing: the machine is shared and the run is short).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { spawnDaemon, type SpawnedDaemon } from "../daemon/test-support/spawn-daemon.js";

const entry = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "loadtest", "main.js");
const run = promisify(execFile);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface JsonResult {
  tool: string;
  mode: string;
  machine: { nproc: number };
  runs: {
    offeredRate: number;
    checksStarted: number;
    unfinishedChecks: number;
    wakeFloorMs?: { count: number; p50: number; p99: number };
    errorsTotal: number;
    summary: {
      ok: Record<"identify" | "calculate" | "confirm" | "cancel" | "refund", number>;
      errors: Record<string, number>;
      declinesTotal: number;
      events: Record<string, number>;
      checksOk: number;
      latencyMs: Record<string, { count: number }>;
    };
    http: { path: string; requests: number; non2xx: number }[];
  }[];
}

describe("loyalty-loadtest against the real daemon", () => {
  it("runs 50 checks/s for 2 s with the whole mix: every check started is answered, and the counts add up", async () => {
    const daemon: SpawnedDaemon = await spawnDaemon();
    cleanups.push(async () => { await daemon.stop("SIGKILL"); rmSync(daemon.dataDir, { recursive: true, force: true }); });
    const out = mkdtempSync(join(tmpdir(), "loadtest-e2e-"));
    cleanups.push(async () => rmSync(out, { recursive: true, force: true }));
    const json = join(out, "result.json");
    const { stdout, stderr } = await run(process.execPath, [
      entry, "run", "--target", `127.0.0.1:${daemon.posPort}`, "--credentials", join(daemon.dataDir, "demo-credentials.json"),
      "--http", `127.0.0.1:${daemon.httpPort}`, "--http-rate", "10", "--http-connections", "1",
      "--rate", "50", "--seconds", "2", "--warmup", "0", "--connections", "4", "--seed", "5",
      "--nonmember-share", "0.2", "--redeem-share", "0.3", "--coupon-share", "0.2", "--cancel-share", "0.1", "--refund-share", "0.2",
      "--basket-min", "1", "--basket-max", "4", "--zipf-s", "1.1", "--json", json,
    ], { encoding: "utf8", timeout: 20_000 });

    // Not a terminal: plain progress lines on stderr, the summary on stdout.
    expect(stderr).toMatch(/offered 50\/s/);
    expect(stdout).toMatch(/\| whole check \| \d+ \|/);
    const result = JSON.parse(readFileSync(json, "utf8")) as JsonResult;
    expect(result.tool).toBe("loyalty-loadtest");
    expect(result.machine.nproc).toBeGreaterThan(0);
    const [r] = result.runs;
    const s = r!.summary;
    expect(r!.offeredRate).toBe(50);
    expect(r!.checksStarted).toBe(100);
    // The machine's own floor over the same window, so a reader can tell its share of the latencies.
    expect(r!.wakeFloorMs!.count).toBeGreaterThan(0);
    expect(r!.wakeFloorMs!.p99).toBeGreaterThanOrEqual(r!.wakeFloorMs!.p50);
    expect(stdout).toMatch(/wake-up floor of this machine over the window .* p99 [\d.]+ ms/);
    expect(r!.unfinishedChecks).toBe(0);
    // A healthy daemon at 50 checks/s: no errors, only business declines (a hot card's points may run short).
    expect(s.errors).toEqual({});
    expect(s.checksOk + s.declinesTotal).toBe(100);
    expect(s.checksOk).toBeGreaterThan(50);
    // Every check calculates; identify only with a card; each calculation ends in confirm or cancel.
    expect(s.ok.calculate + s.declinesTotal).toBe(100);
    expect(s.ok.identify).toBeGreaterThan(0);
    expect(s.ok.identify).toBeLessThan(100);
    expect(s.ok.confirm + s.ok.cancel).toBe(s.ok.calculate);
    expect(s.ok.cancel).toBeGreaterThan(0);
    expect(s.ok.refund).toBeGreaterThan(0);
    expect(s.ok.refund).toBeLessThanOrEqual(s.ok.confirm);
    for (const op of ["identify", "calculate", "confirm", "cancel", "refund"] as const) expect(s.latencyMs[op]!.count).toBe(s.ok[op]);
    expect(s.latencyMs["check"]!.count).toBe(s.checksOk);
    // Coupons are not built yet: the daemon answers UNKNOWN for every code, and that is counted, not failed.
    expect(Object.keys(s.events)).toEqual(["coupon:UNKNOWN"]);
    expect(s.events["coupon:UNKNOWN"]).toBeGreaterThan(0);
    // autocannon hit both HTTP endpoints, all 2xx.
    expect(r!.http.map((h) => h.path)).toEqual(["/healthz", "/metrics"]);
    for (const h of r!.http) {
      expect(h.requests).toBeGreaterThan(0);
      expect(h.non2xx).toBe(0);
    }
  });
});
