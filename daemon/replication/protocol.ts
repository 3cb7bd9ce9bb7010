// The replication protocol: binary WebSocket frames, each one msgpack map,
// between a replica (client) and its primary (server, --replication-port).
//
//   replica → primary  hello     { token, fromSeq, epochs }       first frame
//   primary → replica  welcome   { epoch, lastSeq }               streaming starts at fromSeq
//                      snapshot  { bytes }                         then chunk frames, then snapshot-end
//                      chunk     { data }
//                      snapshot-end { seq }
//                      entries   { entries: [{ seq, at, command }], lastSeq }  durable journal entries, in seq order, and the primary's last durable seq (the replica's lag)
//                      refused   { reason, message }              then the primary closes
//   replica → primary  ack       { seq }                          everything up to seq is durable on the replica
//
// Only durable entries are ever sent (a replica never sees what the primary
// may still lose). Entries carry the command and its `now` exactly as the
// primary journaled them; the replica applies them through the same engine
// entry point, so its state and its own journal are identical.
import { Packr } from "msgpackr";
import type { Epoch } from "../storage/store.js";

export interface WireEntry {
  seq: number;
  at: number;
  command: unknown;
}

export type RefusalReason = "unauthenticated" | "diverged" | "stale-primary" | "not-primary" | "bad-request";

export type ReplicaMessage =
  | { t: "hello"; token: string; fromSeq: number; epochs: Epoch[] }
  | { t: "ack"; seq: number };

export type PrimaryMessage =
  | { t: "welcome"; epoch: number; lastSeq: number }
  | { t: "snapshot"; bytes: number }
  | { t: "chunk"; data: Uint8Array }
  | { t: "snapshot-end"; seq: number }
  | { t: "entries"; entries: WireEntry[]; lastSeq: number }
  | { t: "refused"; reason: RefusalReason; message: string };

// Same byte-affecting options as the storage encoding, so a command decoded
// from the wire re-encodes to the bytes the primary journaled.
const packr = new Packr({ useRecords: false, structuredClone: false, moreTypes: false, bundleStrings: false, copyBuffers: true, mapsAsObjects: true, int64AsType: "number" });

export function encodeMessage(message: ReplicaMessage | PrimaryMessage): Uint8Array {
  return packr.pack(message);
}

/** Decodes a frame; null when it is not a map with a known `t` (the peer is then refused). */
export function decodeMessage(bytes: Uint8Array): ReplicaMessage | PrimaryMessage | null {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || typeof (value as { t?: unknown }).t !== "string") return null;
  return value as ReplicaMessage | PrimaryMessage;
}

/** Entries per frame: bounded so one frame stays well under the frame limit. */
export const entriesPerFrameMax = 500;
/** Snapshot chunk size. */
export const snapshotChunkBytes = 1024 * 1024;
/** Largest frame either side accepts (a frame of entries with admin bulk commands can be several MiB). */
export const replicationFrameBytesMax = 64 * 1024 * 1024;

/**
 * Whether a node with epoch history `theirs` and last seq `theirLastSeq` can
 * follow a primary with history `ours`: every entry it has must belong to an
 * epoch the primary also lived through. If the node has entries at or past
 * the start of a primary epoch it never saw, those entries were written by
 * an old primary after the failover: it diverged and must be rebuilt.
 * If the node knows a newer epoch than ours, we are the stale primary.
 */
export function checkLineage(ours: readonly Epoch[], theirs: readonly Epoch[], theirLastSeq: number): { ok: true } | { ok: false; reason: RefusalReason; message: string } {
  const ourLast = ours[ours.length - 1]!;
  const theirLast = theirs[theirs.length - 1]!;
  if (theirLast.epoch > ourLast.epoch) {
    return { ok: false, reason: "stale-primary", message: `the replica knows epoch ${theirLast.epoch}; this primary is at epoch ${ourLast.epoch} and has been superseded` };
  }
  const firstUnseen = ours.find((e) => e.epoch > theirLast.epoch);
  if (firstUnseen && theirLastSeq >= firstUnseen.startSeq) {
    return {
      ok: false, reason: "diverged",
      message: `this node has entries ${firstUnseen.startSeq}..${theirLastSeq} from epoch ${theirLast.epoch} that the primary (epoch ${ourLast.epoch} since seq ${firstUnseen.startSeq}) does not have; rebuild it from a snapshot (empty its data directory)`,
    };
  }
  return { ok: true };
}
