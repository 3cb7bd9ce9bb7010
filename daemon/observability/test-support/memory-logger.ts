// A logger whose output lines are kept in memory, for tests that check what
// is (and is not) logged, and that wait for a log line instead of sleeping.
import { Writable } from "node:stream";
import type { LogLevel } from "../../config.js";
import { createLogger, type Logger } from "../logger.js";

export type LogEntry = Record<string, unknown>;

export interface MemoryLogger {
  readonly logger: Logger;
  /** Every line written so far, raw JSON. */
  readonly lines: string[];
  /** The lines parsed. */
  entries(): LogEntry[];
  /** Resolves with the first entry (already written or to come) that matches. */
  whenLogged(matches: (entry: LogEntry) => boolean): Promise<LogEntry>;
}

export function memoryLogger(level: LogLevel = "info"): MemoryLogger {
  const lines: string[] = [];
  let waiters: { matches: (entry: LogEntry) => boolean; resolve: (entry: LogEntry) => void }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line === "") continue;
        lines.push(line);
        const entry = JSON.parse(line) as LogEntry;
        const still: typeof waiters = [];
        for (const waiter of waiters) {
          if (waiter.matches(entry)) waiter.resolve(entry);
          else still.push(waiter);
        }
        waiters = still;
      }
      callback();
    },
  });
  const entries = (): LogEntry[] => lines.map((line) => JSON.parse(line) as LogEntry);
  return {
    logger: createLogger({ level, destination }),
    lines,
    entries,
    whenLogged: (matches) => {
      const found = entries().find(matches);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ matches, resolve }));
    },
  };
}
