// A write-ahead log in a directory of its own (--wal-dir): it is used, it is
// found again after a crash, and every way of separating it from its LMDB
// environment refuses to start instead of losing or misapplying changes.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { installIncomingSnapshot } from "../replication/replica.js";
import { applyCrashCommand, type CrashCommand, type CrashRecord } from "./crash-child.js";
import { assertChildBuilt, crashChildEntry, runChild } from "./test-support/crash-child-process.js";
import { tempStores } from "./test-support/temp-store.js";
import { claimWalDir, discardWalOf, releaseWalDir, WalDirError, walLinkFile, walOwnerFile } from "./wal-dir.js";

const stores = tempStores();
afterEach(() => stores.cleanup());
beforeAll(() => assertChildBuilt());

const segmentsIn = (dir: string): string[] => readdirSync(dir).filter((name) => /^wal-\d{16}\.log$/.test(name));
const linkId = (lmdbDir: string): string => (JSON.parse(readFileSync(join(lmdbDir, walLinkFile), "utf8")) as { id: string }).id;
const ownerOf = (walDir: string): { lmdbDir: string; id: string } => JSON.parse(readFileSync(join(walDir, walOwnerFile), "utf8")) as { lmdbDir: string; id: string };

/** Two empty directories: an LMDB directory and a separate log directory. */
function pair(): { lmdbDir: string; walDir: string } {
  const root = stores.dir();
  const lmdbDir = join(root, "lmdb");
  const walDir = join(root, "wal");
  mkdirSync(lmdbDir);
  mkdirSync(walDir);
  return { lmdbDir, walDir };
}

/** Kills a child that streams commands into a store with its log in `walDir`; returns the acknowledged ids. */
async function crashWithLogIn(lmdbDir: string, walDir: string): Promise<string[]> {
  const run = runChild(process.execPath, [crashChildEntry, "stream", lmdbDir, "16", walDir], (_line, self) => {
    if (self.lines.length === 200) self.child.kill("SIGKILL");
  });
  const exit = await run.finished;
  expect(exit.signal, exit.stderr).toBe("SIGKILL");
  expect(run.lines.filter((line) => !line.startsWith("ack "))).toEqual([]);
  return run.lines.map((line) => line.slice("ack ".length));
}

describe("write-ahead log directory", () => {
  it("holds the log; after a crash, only that directory brings the acknowledged commands back", async () => {
    const { lmdbDir, walDir } = pair();
    const acked = await crashWithLogIn(lmdbDir, walDir);
    expect(segmentsIn(walDir).length).toBeGreaterThan(0);
    expect(segmentsIn(lmdbDir)).toEqual([]);

    // Started without the flag, or with another directory: refused, naming the right one.
    await expect(stores.open(lmdbDir, { replay: applyCrashCommand })).rejects.toThrow(WalDirError);
    await expect(stores.open(lmdbDir, { replay: applyCrashCommand })).rejects.toThrow(`--wal-dir ${walDir}`);
    const elsewhere = join(stores.dir(), "wal");
    await expect(stores.open(lmdbDir, { replay: applyCrashCommand, walDir: elsewhere })).rejects.toThrow(`--wal-dir ${walDir}`);

    const store = await stores.open(lmdbDir, { replay: applyCrashCommand, walDir });
    expect(store.recovery.commands).toBe(store.lastSeq);
    expect(store.lastSeq).toBeGreaterThanOrEqual(acked.length);
    for (const id of acked) expect(store.read((tx) => tx.get<CrashRecord>("idempotency", `crash/${id}`)), `acknowledged ${id} lost`).toBeDefined();
    const lastSeq = store.lastSeq;
    await store.close();

    // A clean stop leaves no log and no link: the next start may put the log anywhere.
    expect(readdirSync(walDir)).toEqual([]);
    expect(existsSync(join(lmdbDir, walLinkFile))).toBe(false);
    const moved = await stores.open(lmdbDir, { replay: applyCrashCommand });
    expect(moved.lastSeq).toBe(lastSeq);
    await moved.submit({ id: "after-move", padBytes: 1 } satisfies CrashCommand, 1, applyCrashCommand);
    expect(segmentsIn(lmdbDir).length).toBe(1);
  });

  it("refuses a log directory another data directory uses", async () => {
    const { lmdbDir, walDir } = pair();
    const first = await stores.open(lmdbDir, { walDir });
    const other = join(stores.dir(), "lmdb");
    mkdirSync(other);
    // In one process, and (through the owner file) across processes.
    await expect(stores.open(other, { walDir })).rejects.toThrow("already in use");
    expect(() => claimWalDir(other, walDir, false)).toThrow(`${walDir} is the write-ahead log directory of ${lmdbDir}`);
    await first.submit({ id: "a", padBytes: 1 } satisfies CrashCommand, 1, applyCrashCommand);
  });

  it("refuses records of an environment this one replaced (a backup restored next to the old log)", () => {
    const { lmdbDir, walDir } = pair();
    claimWalDir(lmdbDir, walDir, false);
    writeFileSync(join(walDir, "wal-0000000000000001.log"), "records of the old environment");
    // The restored LMDB directory carries no link (backups copy only the data file).
    rmSync(join(lmdbDir, walLinkFile));
    expect(() => claimWalDir(lmdbDir, walDir, true)).toThrow("records of another LMDB environment");
    // Without an owner, records in a separate directory are of unknown origin: refused too.
    rmSync(join(walDir, walOwnerFile));
    expect(() => claimWalDir(lmdbDir, walDir, true)).toThrow("records of another LMDB environment");
    expect(existsSync(join(lmdbDir, walLinkFile))).toBe(false);
  });

  it("refuses an empty log directory when the last stop was not clean (a device that did not mount)", () => {
    const { lmdbDir, walDir } = pair();
    claimWalDir(lmdbDir, walDir, false);
    // What an unmounted device's mount point looks like: the directory, empty.
    rmSync(join(walDir, walOwnerFile));
    expect(() => claimWalDir(lmdbDir, walDir, false)).toThrow("is the device mounted?");
    expect(readdirSync(walDir)).toEqual([]);
  });

  it("accepts segments without an owner inside the LMDB directory (written there before the link existed)", () => {
    const { lmdbDir } = pair();
    expect(() => claimWalDir(lmdbDir, lmdbDir, true)).not.toThrow();
    expect(ownerOf(lmdbDir).id).toBe(linkId(lmdbDir));
  });

  it("accepts what a crash between a claim's two writes leaves behind", () => {
    // A separate directory: its owner is written first, the link not yet.
    const separate = pair();
    claimWalDir(separate.lmdbDir, separate.walDir, false);
    rmSync(join(separate.lmdbDir, walLinkFile));
    expect(() => claimWalDir(separate.lmdbDir, separate.walDir, false)).not.toThrow();
    // The LMDB directory with an older daemon's segments: the link is written first, the owner not yet.
    const { lmdbDir } = pair();
    claimWalDir(lmdbDir, lmdbDir, true);
    rmSync(join(lmdbDir, walOwnerFile));
    expect(() => claimWalDir(lmdbDir, lmdbDir, true)).not.toThrow();
  });

  it("keeps one id across restarts and starts afresh after a clean release", () => {
    const { lmdbDir, walDir } = pair();
    claimWalDir(lmdbDir, walDir, false);
    const id = linkId(lmdbDir);
    expect(ownerOf(walDir)).toEqual({ lmdbDir, id });
    claimWalDir(lmdbDir, walDir, true);
    expect(linkId(lmdbDir)).toBe(id);
    releaseWalDir(lmdbDir, walDir);
    expect(readdirSync(walDir)).toEqual([]);
    expect(existsSync(join(lmdbDir, walLinkFile))).toBe(false);
  });

  it("a replica installing a snapshot drops the separate log of the environment it replaces, and only that", async () => {
    const root = stores.dir();
    const lmdbDir = join(root, "lmdb");
    const walDir = join(stores.dir(), "wal");
    await crashWithLogIn(lmdbDir, walDir);
    expect(segmentsIn(walDir).length).toBeGreaterThan(0);
    // A snapshot from the primary: an LMDB environment that stopped cleanly.
    const incoming = join(root, "lmdb.incoming");
    const primary = await stores.open(incoming);
    await primary.submit({ id: "from-primary", padBytes: 1 } satisfies CrashCommand, 1, applyCrashCommand);
    await primary.close();
    writeFileSync(join(incoming, "READY"), "");

    expect(installIncomingSnapshot(root, { walDir })).toBe(true);
    expect(readdirSync(walDir)).toEqual([]);
    const store = await stores.open(lmdbDir, { replay: applyCrashCommand, walDir });
    expect(store.lastSeq).toBe(1);
    expect(store.recovery.commands).toBe(0);

    // Another store's log is not this replica's to drop.
    const foreign = pair();
    claimWalDir(foreign.lmdbDir, foreign.walDir, false);
    writeFileSync(join(foreign.walDir, "wal-0000000000000001.log"), "x");
    expect(discardWalOf(lmdbDir, foreign.walDir)).toBe(0);
    expect(segmentsIn(foreign.walDir)).toEqual(["wal-0000000000000001.log"]);
  });
});
