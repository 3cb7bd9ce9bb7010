// Storage limits, each with the reason for its value. (When daemon/constants.ts
// exists these belong there; they live here until then so storage has no
// dependency on a file another engineer owns.)
//
// Exceeding one of these is a bug in the caller (the engine or a maintenance
// job), so each is enforced with an assertion, not a typed error.
import { assert } from "../assert.js";

/**
 * Key length in UTF-8 bytes. LMDB's classic limit is 511; lmdb-js compiles a
 * larger one (1978), but our keys are ids joined by "/" (well under 100 bytes)
 * and short keys keep branch pages dense. Staying at 511 also keeps the file
 * readable by stock LMDB tools.
 */
export const keyBytesMax = 511;

/**
 * One encoded value. The largest records (a check with its lines, a bounded
 * history list) are tens of KiB; 1 MiB means a runaway list, not real data.
 */
export const valueBytesMax = 1024 * 1024;

/**
 * One encoded journal entry (the command plus seq and time). Commands come
 * from frames (protocol/limits.ts: 256 KiB for POS) or admin requests of the
 * same order; 4 MiB leaves room for admin bulk commands and still bounds what
 * one entry pins in memory and in the replication stream.
 */
export const journalEntryBytesMax = 4 * 1024 * 1024;

/**
 * Distinct keys one command may write. A POS command writes a handful; admin
 * bulk operations must be chunked into commands of at most this many writes
 * so one command never holds the single writer for long.
 */
export const writesPerCommandMax = 10_000;

/**
 * Commands in one group commit (one LMDB transaction), unless the store is
 * opened with another. A commit's completion answers its commands in one
 * event-loop turn and their follow-up requests arrive together, so this
 * bounds the longest turn a commit causes (256 answers + requests ≈ 50 ms of
 * event loop on the 2-vCPU benchmark machine) while keeping the fsync shared
 * by many commands: at 5,000 checks/s a commit of a millisecond holds ~10.
 * The trade-off, measured with service.ts's posPendingCommandsMax at 4x this
 * (e2e bench, 5,000 checks/s offered, sync, quiet 2-vCPU machine): 256 →
 * 2,825 checks/s achieved, calculate p99 0.39 s, the rest refused; 1,024 →
 * 4,071 checks/s, p99 1.4 s; no cap → 4,321 checks/s, p99 1.7 s with
 * 1,757-command commits. We choose latency: an overloaded till is better
 * served by a fast UNAVAILABLE than by a slow answer.
 */
export const batchCommandsMaxDefault = 256;

/** Entries one `scan` may return: scans run on the event loop and must be short. */
export const scanLimitMax = 10_000;

/** Entries one `journalEntries` page may return (replication reads in pages). */
export const journalPageMax = 10_000;

/**
 * Upper bound for the `pendingCommandsMax` option. The overlay holds every
 * write of every pending command in memory; a million pending commands is far
 * beyond what one fsync-bounded batch needs (thousands) and bounds memory.
 */
export const pendingCommandsCeiling = 1_000_000;

assert(keyBytesMax > 0 && keyBytesMax <= 1978, "keyBytesMax must fit lmdb-js's compiled maximum");
assert(journalEntryBytesMax >= valueBytesMax, "a journal entry must be able to carry any value");
assert(writesPerCommandMax > 0 && scanLimitMax > 0 && journalPageMax > 0, "limits must be positive");

/**
 * Longest a durable batch waits before a checkpoint copies it into LMDB
 * (the daemon's --checkpoint-interval-ms). Longer means fewer LMDB commits
 * and fewer writes of hot pages, but a larger overlay, a longer loop on the
 * event loop releasing it after each checkpoint, and more of the log to
 * apply again after a crash. Measured (e2e.bench, 2-vCPU machine, sync):
 * 500 ms was worse than 50 ms at 1,000, 2,500 and 4,000 checks/s.
 */
export const checkpointIntervalMsDefault = 50;

/** Durable commands that start a checkpoint before the interval is up (bounds one checkpoint's size). */
export const checkpointCommandsDefault = 1_000;

/**
 * Durable commands not yet in LMDB beyond which `submit` sheds load: their
 * writes live in the overlay (memory) until a checkpoint, so a disk that
 * stalls LMDB must not let the overlay grow without bound.
 */
export const checkpointBacklogMax = 200_000;
