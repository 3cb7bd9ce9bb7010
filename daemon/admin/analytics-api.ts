// The admin channel's analytics methods (SPEC §7): `report.run` runs a report
// in the report pool's worker threads (never on the POS event loop), and
// `demo.generate` / `demo.status` build the demo chain inside the daemon
// through its single writer, with progress to poll. Both are audited like
// every admin call.
import { localDay } from "../engine/rules.js";
import { fail, id, int, list, object, text, type Obj } from "../engine/fields.js";
import { cities, demoCustomersMax, demoMonthsMax, demoStoresMax, generateDemoChain, type CityName, type DemoSummary } from "../analytics/demo-generator.js";
import { ReportQueueFullError, type ReportPool } from "../analytics/report-pool.js";
import { isReportName, reportNames } from "../analytics/reports/index.js";
import { segmentNames } from "../analytics/reports/rfm.js";
import type { ReportParams } from "../analytics/reports/source.js";
import { storeDemoDeps } from "../analytics/store-deps.js";
import { demoItemsPerCommandMax } from "../engine/demo.js";
import type { AdminApiDeps, ApiOutcome, Method } from "./admin-api.js";

const dayMs = 86_400_000;
/** Rows of a segment's customer list at most (a campaign export). */
const listRowsMax = 1_000_000;

export interface AnalyticsDeps extends AdminApiDeps {
  /** Absent when the daemon runs without a report pool (unit tests of other methods). */
  reports?: ReportPool;
  /** Holds the scheduler off while history is posted; returns the function that resumes it. */
  pauseScheduler?: () => () => void;
}

interface DemoJob {
  id: number;
  merchantId: string;
  state: "running" | "done" | "failed";
  daysDone: number;
  daysTotal: number;
  startedAt: number;
  ms: number;
  summary: DemoSummary | null;
  error: string;
}

export class AnalyticsApi {
  private job: DemoJob | null = null;
  private jobs = 0;

  constructor(private readonly deps: AnalyticsDeps) {}

  methods(): Record<string, Method> {
    return {
      "report.run": (p, actor) => this.reportRun(p, actor),
      "demo.generate": (p, actor) => this.demoGenerate(p, actor),
      "demo.status": async (p) => {
        object(p, "", []);
        return { ok: true, result: this.job ?? { state: "none" } };
      },
    };
  }

  private async reportRun(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "name", "from", "to", "stores", "tier", "segment", "tag", "listSegment", "listMax", "cellMeters"]);
    const merchantId = id(o.merchantId, "merchantId");
    const name = text(o.name, "name", 64);
    if (!isReportName(name)) fail("name", `unknown report; known: ${reportNames.join(", ")}`);
    const now = this.deps.clock();
    const to = o.to === undefined ? now : int(o.to, "to", 1);
    const from = o.from === undefined ? to - (name === "rfm" ? 365 : 30) * dayMs : int(o.from, "from", 0);
    if (from >= to) fail("from", "must be before to");
    const segment = (v: unknown, field: string) => {
      const s = text(v, field, 64);
      if (!(segmentNames as readonly string[]).includes(s)) fail(field, `unknown segment; known: ${segmentNames.join(", ")}`);
      return s;
    };
    const params: ReportParams = {
      from, to, asOf: now, stores: o.stores === undefined ? [] : list(o.stores, "stores", 1_000, id),
      group: {
        ...(o.tier === undefined ? {} : { tier: id(o.tier, "tier") }), ...(o.tag === undefined ? {} : { tag: id(o.tag, "tag") }),
        ...(o.segment === undefined ? {} : { segment: segment(o.segment, "segment") }),
      },
      ...(o.listSegment === undefined ? {} : { listSegment: segment(o.listSegment, "listSegment") }),
      listMax: o.listMax === undefined ? 10_000 : int(o.listMax, "listMax", 1, listRowsMax),
      cellMeters: o.cellMeters === undefined ? 1_000 : int(o.cellMeters, "cellMeters", 100, 50_000),
    };
    if (!this.deps.reports) return { ok: false, status: 503, kind: "unavailable", message: "this daemon runs no report workers" };
    await this.deps.admin({ a: "audit.note", what: "report.run", summary: `${name} of ${merchantId} ${new Date(from).toISOString()}..${new Date(to).toISOString()}` }, actor);
    // Report workers read the LMDB file: make it hold every answered change.
    await this.deps.store.checkpoint();
    try {
      const outcome = await this.deps.reports.run(merchantId, name, params);
      if ("error" in outcome) return { ok: false, status: 404, kind: "not_found", message: outcome.error, field: "merchantId" };
      return { ok: true, result: { ...outcome.result, ms: outcome.ms } };
    } catch (error) {
      if (error instanceof ReportQueueFullError) return { ok: false, status: 503, kind: "busy", message: error.message };
      throw error;
    }
  }

  private async demoGenerate(p: Obj, actor: string): Promise<ApiOutcome> {
    const o = object(p, "", ["merchantId", "seed", "customers", "months", "stores", "city", "itemsPerCommand"]);
    const merchantId = id(o.merchantId ?? "chain", "merchantId");
    const city = (o.city ?? "moscow") as string;
    if (!Object.hasOwn(cities, city)) fail("city", `unknown city; known: ${Object.keys(cities).join(", ")}`);
    const options = {
      merchantId, city: city as CityName, seed: int(o.seed ?? 1, "seed", 0, 2 ** 32 - 1), customers: int(o.customers ?? 10_000, "customers", 10, demoCustomersMax),
      months: int(o.months ?? 12, "months", 1, demoMonthsMax), stores: int(o.stores ?? 0, "stores", 0, demoStoresMax),
      itemsPerCommand: int(o.itemsPerCommand ?? 100, "itemsPerCommand", 1, demoItemsPerCommandMax),
      // The history ends where the merchant's local today begins: nothing it leaves is due before now.
      end: (localDay(this.deps.clock(), cities[city as CityName].tzOffsetMin) * dayMs) - cities[city as CityName].tzOffsetMin * 60_000,
    };
    if (this.job?.state === "running") return { ok: false, status: 409, kind: "conflict", message: `demo generation ${this.job.id} is still running` };
    if (this.deps.store.read((tx) => tx.get("merchants", merchantId))) {
      return { ok: false, status: 409, kind: "conflict", message: `merchant ${merchantId} exists; the demo chain is generated into a new merchant`, field: "merchantId" };
    }
    // The note is also the write check: a replica (or a fenced primary) refuses it, and must not generate.
    const noted = await this.deps.admin({ a: "audit.note", what: "demo.generate", summary: `${merchantId}: seed ${options.seed}, ${options.customers} customers, ${options.months} months` }, actor);
    if (!noted.ok) return { ok: false, status: noted.kind === "unavailable" ? 503 : 409, kind: noted.kind, message: noted.message };
    this.jobs += 1;
    const job: DemoJob = { id: this.jobs, merchantId, state: "running", daysDone: 0, daysTotal: 0, startedAt: Date.now(), ms: 0, summary: null, error: "" };
    this.job = job;
    const resume = this.deps.pauseScheduler?.() ?? (() => undefined);
    generateDemoChain(options, storeDemoDeps(this.deps.store, (done, total, summary) => {
      job.daysDone = done;
      job.daysTotal = total;
      job.summary = summary;
      job.ms = Date.now() - job.startedAt;
    })).then(
      (summary) => Object.assign(job, { state: "done", summary, ms: Date.now() - job.startedAt }),
      (error: unknown) => Object.assign(job, { state: "failed", error: error instanceof Error ? error.message : String(error), ms: Date.now() - job.startedAt }),
    ).finally(resume);
    return { ok: true, result: { job: job.id, ...options } };
  }
}

