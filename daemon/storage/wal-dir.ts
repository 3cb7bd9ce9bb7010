// Which write-ahead log belongs to which LMDB environment.
//
// Why: the log may live in a directory of its own (`--wal-dir`, e.g. on a
// device the checkpoints do not share), and then the two can be separated:
// a restart without the flag, a log directory that failed to mount, two data
// directories given the same log directory, a data directory restored from a
// backup or replaced by a replica's snapshot next to the old log. Applying
// another environment's records corrupts the state; ignoring this
// environment's records loses acknowledged changes. Both must refuse to
// start, with a message that says what to do.
//
// Contract:
// - `claimWalDir(lmdbDir, walDir, hasSegments)` runs at open, before the
//   first append. It writes two small files, each made durable with its
//   directory entry: `wal-link` in the LMDB directory ({walDir, id}) and
//   `wal-owner` in the log directory ({lmdbDir, id}), with one id shared by
//   the pair. Backups and snapshots copy only LMDB's data file, so a copy
//   never carries a link.
// - It throws WalDirError, and changes nothing, when:
//   - the link names another log directory (the last stop was not clean: the
//     log there may hold acknowledged changes);
//   - the log directory's owner is another LMDB directory;
//   - the log directory holds segments that are not this environment's (no
//     owner, or an owner id other than the link's) — except segments in the
//     LMDB directory itself without an owner file, which daemons before the
//     link wrote there;
//   - the link says the log is in a separate directory and that directory
//     has neither owner nor segments (lost, or not mounted).
// - `discardWalOf(lmdbDir, walDir)` runs when `lmdbDir` is about to be
//   replaced (a replica installing a snapshot): if the log directory is a
//   separate one owned by it, its segments and owner go, since they hold
//   changes to the environment being thrown away. (A log inside the LMDB
//   directory goes with that directory.)
// - `releaseWalDir` runs after a clean close deleted the log: it removes the
//   link, then the owner, so the next start may use another log directory.
//   A crash between the two leaves an owner and no segments, which the next
//   claim takes over.
import { closeSync, constants, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { listSegments } from "./wal.js";

export const walLinkFile = "wal-link";
export const walOwnerFile = "wal-owner";

/** The write-ahead log directory does not belong to this LMDB environment (see the contract). */
export class WalDirError extends Error {
  override readonly name = "WalDirError";
}

interface Link {
  readonly walDir: string;
  readonly id: string;
}

interface Owner {
  readonly lmdbDir: string;
  readonly id: string;
}

function readJson<T>(path: string, fields: readonly (keyof T & string)[]): T | null {
  if (!existsSync(path)) return null;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new WalDirError(`${path} is not readable JSON (${String(error)}); it links the LMDB environment and its write-ahead log`);
  }
  const record = value as Record<string, unknown>;
  for (const field of fields) {
    if (typeof record?.[field] !== "string") throw new WalDirError(`${path} has no ${field}; it links the LMDB environment and its write-ahead log`);
  }
  return value as T;
}

function writeDurably(dir: string, name: string, content: string): void {
  const path = join(dir, name);
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, content, { mode: 0o600 });
  const fd = openSync(temporary, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // Renamed over the old file: a crash leaves the old one or the new one, never half of one.
  renameSync(temporary, path);
  syncDir(dir);
}

function syncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Checks that `walDir` is `lmdbDir`'s log (see the contract) and records the pair. Both paths absolute. */
export function claimWalDir(lmdbDir: string, walDir: string, hasSegments: boolean): void {
  const link = readJson<Link>(join(lmdbDir, walLinkFile), ["walDir", "id"]);
  const owner = readJson<Owner>(join(walDir, walOwnerFile), ["lmdbDir", "id"]);
  const separate = walDir !== lmdbDir;
  if (link !== null && link.walDir !== walDir) {
    throw new WalDirError(
      `the LMDB environment ${lmdbDir} did not stop cleanly and its write-ahead log is in ${link.walDir}, not ${walDir}: ` +
        `start with --wal-dir ${link.walDir} (it may hold acknowledged changes). Only if that log is lost for good, delete ${join(lmdbDir, walLinkFile)} to start from LMDB alone.`,
    );
  }
  if (owner !== null && owner.lmdbDir !== lmdbDir) {
    throw new WalDirError(`${walDir} is the write-ahead log directory of ${owner.lmdbDir}: every data directory needs a log directory of its own`);
  }
  if (hasSegments) {
    const legacy = owner === null && !separate;
    if (!legacy && (owner === null || link === null || owner.id !== link.id)) {
      throw new WalDirError(
        `${walDir} holds write-ahead log records of another LMDB environment (one that ${lmdbDir} replaced, e.g. by a restored backup or a snapshot): ` +
          `move the wal-*.log files and ${walOwnerFile} out of ${walDir} to start from LMDB as it is`,
      );
    }
  } else if (link !== null && separate && owner === null) {
    throw new WalDirError(
      `the write-ahead log directory ${walDir} is empty, but ${lmdbDir} did not stop cleanly: is the device mounted? ` +
        `Only if that log is lost for good, delete ${join(lmdbDir, walLinkFile)} to start from LMDB alone.`,
    );
  }
  const id = link !== null && owner !== null && link.id === owner.id ? link.id : randomBytes(16).toString("hex");
  const writeOwner = (): void => writeDurably(walDir, walOwnerFile, `${JSON.stringify({ lmdbDir, id } satisfies Owner)}\n`);
  const writeLink = (): void => writeDurably(lmdbDir, walLinkFile, `${JSON.stringify({ walDir, id } satisfies Link)}\n`);
  // Ordered so that a crash between the two writes leaves a state the next
  // claim accepts: a separate directory gets its owner first (a link without
  // an owner there reads as "not mounted"); the LMDB directory gets the link
  // first (an owner without a link next to old segments reads as "another
  // environment's records", a link without an owner as the older layout).
  if (separate) {
    writeOwner();
    writeLink();
  } else {
    writeLink();
    writeOwner();
  }
}

/** Before `lmdbDir` is replaced by another environment: drops its separate log (see the contract). Returns the segments deleted. */
export function discardWalOf(lmdbDir: string, walDir: string): number {
  if (walDir === lmdbDir) return 0;
  const owner = readJson<Owner>(join(walDir, walOwnerFile), ["lmdbDir", "id"]);
  if (owner === null || owner.lmdbDir !== lmdbDir) return 0;
  const segments = listSegments(walDir);
  for (const { name } of segments) rmSync(join(walDir, name));
  rmSync(join(walDir, walOwnerFile));
  syncDir(walDir);
  return segments.length;
}

/** After a clean close deleted every segment: unlinks the pair (see the contract). */
export function releaseWalDir(lmdbDir: string, walDir: string): void {
  rmSync(join(lmdbDir, walLinkFile), { force: true });
  syncDir(lmdbDir);
  rmSync(join(walDir, walOwnerFile), { force: true });
  if (walDir !== lmdbDir) syncDir(walDir);
}
