// The daemon's report pool: piscina worker threads that run reports over
// read-only LMDB snapshots, so the POS event loop never computes a report.
// Sized small (one thread by default, --report-threads) and with a bounded
// queue: a burst of report requests is refused, never buffered without end.
import { Piscina } from "piscina";
import { fileURLToPath } from "node:url";
import { reportQueueMax, reportWorkerHeapMb } from "../constants.js";
import type { ReportName } from "./reports/index.js";
import type { ReportParams, ReportResult } from "./reports/source.js";
import type { ReportTask, ReportTaskResult } from "./worker.js";

export interface ReportPoolOptions {
  /** The daemon's LMDB environment directory. */
  lmdbPath: string;
  threads: number;
  /** The worker module; by default worker.js next to this file (tests running from source pass the built one). */
  workerFile?: string;
}

/** A report could not be queued: every thread busy and the queue full. */
export class ReportQueueFullError extends Error {
  override name = "ReportQueueFullError";
}

export class ReportPool {
  private readonly pool: Piscina;

  constructor(private readonly options: ReportPoolOptions) {
    this.pool = new Piscina({
      filename: options.workerFile ?? fileURLToPath(new URL("./worker.js", import.meta.url)),
      minThreads: options.threads,
      maxThreads: options.threads,
      maxQueue: reportQueueMax,
      // Reports are rare: a thread idle for a minute gives its memory back.
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
      resourceLimits: { maxOldGenerationSizeMb: reportWorkerHeapMb },
    });
  }

  get queued(): number {
    return this.pool.queueSize;
  }

  async run(merchantId: string, name: ReportName, params: ReportParams, gate?: SharedArrayBuffer): Promise<{ result: ReportResult; ms: number } | { error: string }> {
    const task: ReportTask = { lmdbPath: this.options.lmdbPath, merchantId, name, params, ...(gate ? { gate } : {}) };
    if (this.pool.queueSize >= reportQueueMax) throw new ReportQueueFullError(`${reportQueueMax} reports are already waiting; try again later`);
    const outcome = await this.pool.run(task) as ReportTaskResult;
    return outcome.ok ? { result: outcome.result, ms: outcome.ms } : { error: outcome.message };
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
