// The overlay: writes applied by commands but not yet durable, per table.
//
// Contract:
// - An entry holds the newest bytes for its key (null = deleted) and the id of
//   the newest batch that wrote it. It is removed only when *that* batch is
//   durable; if a later batch overwrote the key meanwhile, the entry stays
//   (with the later batch id) until the later batch is durable too.
// - Reads consult the overlay before LMDB, so every command sees the effects
//   of every earlier command, durable or not.
// - `visitMerged` walks overlay + LMDB in key order (see keys.ts), the overlay
//   shadowing LMDB. It is consistent whatever LMDB snapshot it reads: every
//   key written by a batch that is not yet acknowledged as durable is in the
//   overlay, and any snapshot lmdb-js gives us includes every acknowledged
//   batch (lmdb-js renews its read transaction before resolving a commit).
import type { Database } from "lmdb";
import { assert } from "../assert.js";
import { compareKeys } from "./keys.js";

export interface OverlayEntry {
  bytes: Buffer | null;
  batchId: number;
  /** Where the key is listed in that batch's touched* arrays. */
  index: number;
}

export type OverlayTable = Map<string, OverlayEntry>;

export interface MergedRange {
  /** Only keys starting with this ("" = all keys). */
  readonly prefix: string;
  /** Only keys strictly after this one (for paging); undefined = from the start of the prefix. */
  readonly startAfter: string | undefined;
  /** Read keys only: LMDB values are not read, and `visit` gets an empty buffer for them. */
  readonly keysOnly?: boolean;
}

const noBytes = Buffer.alloc(0);

/**
 * Calls `visit(key, bytes)` for every live key of the range in key order until
 * it returns false. Deleted keys (overlay tombstones) are skipped. `bytes` is
 * only valid during the call.
 */
export function visitMerged(
  db: Database<Buffer, string>,
  overlay: OverlayTable,
  range: MergedRange,
  visit: (key: string, bytes: Buffer) => boolean,
): void {
  const { prefix, startAfter } = range;
  const overlayKeys: string[] = [];
  for (const key of overlay.keys()) {
    if (key.startsWith(prefix) && (startAfter === undefined || compareKeys(key, startAfter) > 0)) overlayKeys.push(key);
  }
  overlayKeys.sort(compareKeys);

  const fromStartAfter = startAfter !== undefined && compareKeys(startAfter, prefix) >= 0;
  const start = fromStartAfter ? startAfter : prefix;
  // One snapshot for the whole walk; leaving the loop early (return) closes the
  // iterator and with it the read transaction.
  const options = start === "" ? { snapshot: true } : { start, exclusiveStart: fromStartAfter, snapshot: true };
  const lmdbRange = range.keysOnly === true
    ? db.getKeys(options).map((key) => ({ key, value: noBytes }))
    : db.getRange(options);
  let next = 0;
  for (const { key, value } of lmdbRange) {
    assert(typeof key === "string", "non-string key in a table db");
    if (!key.startsWith(prefix)) break; // keys are ordered: past the prefix, nothing more matches
    let shadowed = false;
    while (next < overlayKeys.length) {
      const overlayKey = overlayKeys[next]!;
      const order = compareKeys(overlayKey, key);
      if (order > 0) break;
      next++;
      const entry = overlay.get(overlayKey)!;
      if (entry.bytes !== null && !visit(overlayKey, entry.bytes)) return;
      if (order === 0) {
        shadowed = true;
        break;
      }
    }
    if (!shadowed && !visit(key, value)) return;
  }
  for (; next < overlayKeys.length; next++) {
    const overlayKey = overlayKeys[next]!;
    const entry = overlay.get(overlayKey)!;
    if (entry.bytes !== null && !visit(overlayKey, entry.bytes)) return;
  }
}
