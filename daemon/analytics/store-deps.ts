// The generator's dependencies on a real store: submit through the engine's
// applyCommand (the daemon's write path, journaled) and key scans. Used by the
// admin method inside the daemon, by tests and by the benchmark.
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { applyCommand } from "../engine/apply.js";
import type { Store } from "../storage/store.js";
import type { DemoDeps } from "./demo-generator.js";

export function storeDemoDeps(store: Store, onProgress?: DemoDeps["onProgress"]): DemoDeps {
  return {
    submit: (command, now) => store.submit(command, now, applyCommand as (tx: Parameters<typeof applyCommand>[0], c: unknown, n: number) => unknown),
    scanKeys: (table, prefix, limit, startAfter) => store.scan(table, prefix, limit, startAfter).map(([k]) => k),
    yieldNow: async () => { await yieldToEventLoop(); },
    ...(onProgress ? { onProgress } : {}),
  };
}
