// The report worker (a piscina thread): opens the daemon's LMDB environment
// in this thread (lmdb-js shares one environment per path across the threads
// of a process), takes one read transaction per report, runs the pure report
// over it and returns plain data. It never writes.
//
// The environment stays open between tasks of this thread (opening maps the
// file and the dbs); it is keyed by path so a pool serves one daemon.
import { open, type Database, type RootDatabase } from "lmdb";
import { tables, type Table } from "../engine/tx.js";
import { lmdbSource } from "./lmdb-source.js";
import { runReport, type ReportName } from "./reports/index.js";
import type { ReportParams, ReportResult } from "./reports/source.js";

export interface ReportTask {
  lmdbPath: string;
  merchantId: string;
  name: ReportName;
  params: ReportParams;
  /**
   * Test seam: when given, the worker takes its snapshot, sets gate[0] = 1
   * (notifying waiters) and blocks until gate[1] != 0. Tests use it to act
   * while a report is provably in the middle of its run, without sleeps.
   */
  gate?: SharedArrayBuffer;
}

export type ReportTaskResult = { ok: true; result: ReportResult; ms: number } | { ok: false; message: string };

interface OpenEnv {
  root: RootDatabase<Buffer, string>;
  dbs: Map<Table, Database<Buffer, string>>;
}

// Per-thread cache of the open environment (see the module comment).
const envs = new Map<string, OpenEnv>();

function environment(path: string): OpenEnv {
  let env = envs.get(path);
  if (env) return env;
  // The same flags as the writer's layout where they must agree (dbs, page
  // size, encodings); readOnly so this thread can never write.
  const root = open<Buffer, string>({
    path, noSubdir: false, maxDbs: tables.length + 2, readOnly: true, encoding: "binary", keyEncoding: "ordered-binary",
    cache: false, compression: false, pageSize: 4096,
  });
  const dbs = new Map<Table, Database<Buffer, string>>();
  for (const table of tables) {
    dbs.set(table, root.openDB<Buffer, string>({ name: table, encoding: "binary", keyEncoding: "ordered-binary", cache: false, compression: false }));
  }
  env = { root, dbs };
  envs.set(path, env);
  return env;
}

export default function runReportTask(task: ReportTask): ReportTaskResult {
  const started = performance.now();
  const env = environment(task.lmdbPath);
  // lmdb-js reuses a thread's read transaction between event turns; start
  // from the latest committed state, not the one the previous task saw.
  env.root.resetReadTxn();
  const transaction = env.root.useReadTransaction();
  try {
    if (task.gate) {
      const gate = new Int32Array(task.gate);
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      Atomics.wait(gate, 1, 0);
    }
    const source = lmdbSource(env.dbs, transaction, task.merchantId);
    if (!source) return { ok: false, message: `unknown merchant ${task.merchantId}` };
    return { ok: true, result: runReport(task.name, source, task.params), ms: Math.round(performance.now() - started) };
  } finally {
    transaction.done();
  }
}
