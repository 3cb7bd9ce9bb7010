// Replication with real daemon processes on loopback: failover in semi-sync
// mode, bootstrap from a snapshot, a replica killed and connections cut
// while streaming, and a diverged old primary refused.
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode as E } from "../../protocol/codec.js";
import { PosClient, PosError } from "../../protocol/client.js";
import type { Epoch } from "../storage/store.js";
import { spawnDaemon, type DemoCredentials, type SpawnedDaemon } from "../test-support/spawn-daemon.js";
import { startTcpCutter } from "../test-support/tcp-cutter.js";
import { waitFor } from "../test-support/wait-for.js";
import { runCli } from "../../admin-cli/test-support/run-cli.js";
import { notifiableSeq } from "./controller.js";
import { checkLineage } from "./protocol.js";

const running: SpawnedDaemon[] = [];
const clients: PosClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(running.splice(0).map((d) => d.stop("SIGKILL")));
});

async function daemon(args: string[], env: Record<string, string> = {}, dataDir?: string): Promise<SpawnedDaemon> {
  const d = await spawnDaemon({ args, env, ...(dataDir ? { dataDir } : {}) });
  running.push(d);
  return d;
}

function tokenOf(d: SpawnedDaemon): string {
  return (JSON.parse(readFileSync(d.adminCredentialsFile, "utf8")) as { token: string }).token;
}

async function admin<T>(d: SpawnedDaemon, token: string, method: string): Promise<T> {
  const r = await fetch(`${d.adminUrl}/v1/${method}`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: "{}" });
  const body = (await r.json()) as { result: T; error?: unknown };
  if (!r.ok) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

interface Status { role: string; lastSeq: number; following: { connected: boolean; durableSeq: number } | null; epochs: Epoch[] }

/** Waits until the replica has durably applied everything the primary has, then compares digests. */
async function expectSameState(primary: SpawnedDaemon, replica: SpawnedDaemon, token: string): Promise<void> {
  const target = (await admin<{ lastSeq: number }>(primary, token, "digest")).lastSeq;
  await waitFor(() => admin<Status>(replica, token, "replica.status"), (s) => (s.following?.durableSeq ?? s.lastSeq) >= target, `replica at seq ${target}`);
  const [p, r] = await Promise.all([admin<{ digest: string; lastSeq: number }>(primary, token, "digest"), admin<{ digest: string; lastSeq: number }>(replica, token, "digest")]);
  expect(r.lastSeq).toBe(p.lastSeq);
  expect(r.digest).toBe(p.digest);
}

function till(d: SpawnedDaemon, creds: DemoCredentials, i = 0): PosClient {
  const t = creds.terminals[i]!;
  const c = new PosClient({ url: d.posUrl, terminalId: t.terminalId, secret: t.secret, cashierId: `c${i}`, reconnect: false });
  clients.push(c);
  return c;
}

const basket = [{ sku: "milk", group: "dairy", quantityMilli: 1000, priceMinor: 12_000, amountMinor: 12_000 }];

interface Answered { checkId: string; card: string; confirmOp: string; accrued: number }

/**
 * `workers` tills run checks (calculate → confirm) until `stop()` says so or
 * a request fails; returns what was answered and the one request each till
 * had in flight when it failed.
 */
async function checkLoad(pos: PosClient[], cards: string[], stop: (answered: number) => boolean, tag: string) {
  const answered: Answered[] = [];
  const pending: { worker: number; op: "calculate" | "confirm"; operationId: string; card: string; checkId?: string }[] = [];
  await Promise.all(pos.map(async (p, w) => {
    for (let i = 0; !stop(answered.length); i += 1) {
      const card = cards[(w + i) % cards.length]!;
      const calcOp = `${tag}-w${w}-c${i}`;
      let calc;
      try {
        calc = await p.calculate({ operationId: calcOp, card: { cardNumber: card }, lines: basket });
      } catch {
        pending.push({ worker: w, op: "calculate", operationId: calcOp, card });
        return;
      }
      const confirmOp = `${tag}-w${w}-f${i}`;
      try {
        const done = await p.confirm({ operationId: confirmOp, checkId: calc.checkId });
        answered.push({ checkId: calc.checkId, card, confirmOp, accrued: done.pointsAccrued });
      } catch {
        pending.push({ worker: w, op: "confirm", operationId: confirmOp, card, checkId: calc.checkId });
        return;
      }
    }
  }));
  return { answered, pending };
}

const cli = (args: string[]) => runCli(null, args);

describe("replication", () => {
  it("semi-sync: the primary killed mid-load loses no answered write; the promoted replica takes the retries without double effects", async () => {
    const primary = await daemon(["--replication-mode", "semi-sync", "--semi-sync-timeout-ms", "10000"]);
    const token = tokenOf(primary);
    const replica = await daemon(["--replica-of", primary.replicationAddress], { LOYALTY_REPLICATION_TOKEN: token });
    await waitFor(() => admin<Status>(replica, token, "replica.status"), (s) => s.following?.connected === true, "replica connected");
    const creds = primary.credentials();
    const cards = creds.cards.filter((c) => c.kind === "bonus").map((c) => c.cardNumber);
    const tills = [till(primary, creds, 0), till(primary, creds, 1), till(primary, creds, 2)];
    for (const t of tills) await t.connect();

    let killed = false;
    const load = checkLoad(tills, cards, (n) => {
      if (n >= 30 && !killed) {
        killed = true;
        primary.child.kill("SIGKILL");
      }
      return false;
    }, "a");
    const { answered, pending } = await load;
    expect(answered.length).toBeGreaterThanOrEqual(30);
    expect(pending.length).toBe(tills.length);

    // Every answered confirm is on the replica (it serves reads).
    const reader = till(replica, creds, 3);
    await reader.connect();
    for (const card of cards) {
      const onReplica = new Set((await reader.history({ card: { cardNumber: card }, limit: 100 })).checks.map((c) => c.checkId));
      for (const a of answered.filter((x) => x.card === card)) expect(onReplica.has(a.checkId)).toBe(true);
    }
    expect(await reader.calculate({ card: { cardNumber: cards[0]! }, lines: basket }).then(() => 0, (e: PosError) => e.code)).toBe(E.ERROR_CODE_UNAVAILABLE);

    const promoted = await cli(["replica", "promote", "--url", replica.adminUrl, "--token", token]);
    expect(promoted.stdout).toContain("Promoted: primary of epoch 2");
    const after = [till(replica, creds, 0), till(replica, creds, 1), till(replica, creds, 2)];
    for (const t of after) await t.connect();
    // The tills resend what they had in flight, with the same operation ids.
    for (const p of pending) {
      const w = p.worker; // the same till (terminal, store) resends
      if (p.op === "calculate") {
        const calc = await after[w]!.calculate({ operationId: p.operationId, card: { cardNumber: p.card }, lines: basket });
        await after[w]!.confirm({ operationId: `${p.operationId}-retry-confirm`, checkId: calc.checkId });
      } else {
        const done = await after[w]!.confirm({ operationId: p.operationId, checkId: p.checkId! });
        expect(done.checkId).toBe(p.checkId);
      }
    }
    // A retry of an answered confirm gets the original answer and no second effect.
    for (const a of answered.slice(0, 5)) {
      const w = Number(a.confirmOp.split("-w")[1]!.split("-")[0]);
      const again = await after[w]!.confirm({ operationId: a.confirmOp, checkId: a.checkId });
      expect(again.pointsAccrued).toBe(a.accrued);
    }
    for (const card of cards) {
      const ids = (await after[0]!.history({ card: { cardNumber: card }, limit: 100 })).checks.map((c) => c.checkId);
      expect(new Set(ids).size).toBe(ids.length);
    }
    // A new replica of the promoted primary reaches the same state.
    const second = await daemon(["--replica-of", replica.replicationAddress], { LOYALTY_REPLICATION_TOKEN: token });
    await expectSameState(replica, second, token);
  });

  it("bootstraps from a snapshot and converges through cut connections and a killed replica", async () => {
    const primary = await daemon([]);
    const token = tokenOf(primary);
    const creds = primary.credentials();
    const cards = creds.cards.filter((c) => c.kind === "bonus").map((c) => c.cardNumber);
    const tills = [till(primary, creds, 0), till(primary, creds, 1)];
    for (const t of tills) await t.connect();
    await checkLoad(tills, cards, (n) => n >= 100, "pre"); // history before the replica exists

    const cutter = await startTcpCutter({ targetPort: Number(primary.replicationAddress.split(":")[1]), cutAfterBytes: 16 * 1024, maxCuts: 20, spare: 1 });
    try {
      const replica = await daemon(["--replica-of", cutter.address], { LOYALTY_REPLICATION_TOKEN: token });
      expect(replica.logLines.some((l) => l.includes("bootstrapped from a snapshot"))).toBe(true);
      const start = (await admin<Status>(replica, token, "replica.status")).lastSeq;
      const load = checkLoad(tills, cards, (n) => n >= 150, "live");
      // Mid-stream: once the replica applied some of the live load, kill it and start it again on its data.
      await waitFor(() => admin<Status>(replica, token, "replica.status"), (s) => s.lastSeq > start + 20, "replica streaming");
      await replica.stop("SIGKILL");
      const restarted = await daemon(["--replica-of", cutter.address], { LOYALTY_REPLICATION_TOKEN: token }, replica.dataDir);
      await load;
      await expectSameState(primary, restarted, token);
      expect(cutter.cuts()).toBeGreaterThan(0);
    } finally {
      await cutter.close();
    }
  });

  it("refuses a diverged old primary and keeps a semi-sync primary without replicas from answering writes", async () => {
    const primary = await daemon(["--replication-mode", "semi-sync", "--semi-sync-timeout-ms", "300"]);
    const token = tokenOf(primary);
    const replica = await daemon(["--replica-of", primary.replicationAddress], { LOYALTY_REPLICATION_TOKEN: token });
    await waitFor(() => admin<Status>(replica, token, "replica.status"), (s) => s.following?.connected === true, "replica connected");
    const creds = primary.credentials();
    const card = creds.cards[0]!.cardNumber;
    const pos = till(primary, creds);
    await pos.connect();
    await pos.confirm({ checkId: (await pos.calculate({ card: { cardNumber: card }, lines: basket })).checkId });

    await replica.stop("SIGKILL");
    // No replica: the write is durable here but not answered as done.
    const code = await pos.calculate({ card: { cardNumber: card }, lines: basket }).then(() => 0, (e: PosError) => e.code);
    expect(code).toBe(E.ERROR_CODE_UNAVAILABLE);
    await primary.stop("SIGKILL");

    const survivor = await daemon(["--replica-of", primary.replicationAddress], { LOYALTY_REPLICATION_TOKEN: token }, replica.dataDir);
    const epoch = await admin<Epoch>(survivor, token, "replica.promote");
    expect(epoch.epoch).toBe(2);

    // The old primary comes back as a replica of the promoted one: it has an
    // entry of epoch 1 past the start of epoch 2, so it is refused and stops.
    const old = await daemon(["--replica-of", survivor.replicationAddress], { LOYALTY_REPLICATION_TOKEN: token }, primary.dataDir);
    const [exitCode] = await once(old.child, "exit") as [number];
    expect(exitCode).toBe(1);
    expect(old.logLines.some((l) => l.includes("diverged"))).toBe(true);
  });

  it("a replica that fell behind the journal's retention receives a snapshot, restarts on it and catches up", async () => {
    const primary = await daemon(["--journal-retain", "1000"]);
    const token = tokenOf(primary);
    const replica = await daemon(["--replica-of", primary.replicationAddress], { LOYALTY_REPLICATION_TOKEN: token });
    await expectSameState(primary, replica, token);
    await replica.stop();
    const creds = primary.credentials();
    const cards = creds.cards.filter((c) => c.kind === "bonus").map((c) => c.cardNumber);
    const tills = [till(primary, creds, 0), till(primary, creds, 1)];
    for (const t of tills) await t.connect();
    await checkLoad(tills, cards, (n) => n >= 600, "gap"); // 1,200 entries while the replica is away
    const status = await admin<Status>(primary, token, "replica.status");
    const trimmed = await admin<{ deleted: number; journalFirstSeq: number }>(primary, token, "journal.trim");
    expect(trimmed.deleted).toBeGreaterThan(0);
    expect(trimmed.journalFirstSeq).toBe(status.lastSeq - 1000 + 1);

    const behind = await daemon(["--replica-of", primary.replicationAddress], { LOYALTY_REPLICATION_TOKEN: token }, replica.dataDir);
    const [exitCode] = await once(behind.child, "exit") as [number];
    expect(exitCode).toBe(75); // restart me: a snapshot is waiting
    const again = await daemon(["--replica-of", primary.replicationAddress], { LOYALTY_REPLICATION_TOKEN: token }, replica.dataDir);
    expect(again.logLines.some((l) => l.includes("installed the snapshot"))).toBe(true);
    await expectSameState(primary, again, token);
  });

  it("an old primary that comes back as a primary fences itself when a replica of the newer epoch reaches it", async () => {
    const primary = await daemon([]);
    const token = tokenOf(primary);
    const replica = await daemon(["--replica-of", primary.replicationAddress], { LOYALTY_REPLICATION_TOKEN: token });
    await expectSameState(primary, replica, token);
    await primary.stop("SIGKILL");
    await admin<Epoch>(replica, token, "replica.promote");
    // A replica of the promoted node knows epoch 2 …
    const follower = await daemon(["--replica-of", replica.replicationAddress], { LOYALTY_REPLICATION_TOKEN: token });
    await expectSameState(replica, follower, token);
    await follower.stop();
    // … the old primary restarts as a primary, and the follower is pointed at it by mistake.
    const old = await daemon([], {}, primary.dataDir);
    const creds = old.credentials();
    const pos = till(old, creds);
    await pos.connect();
    await pos.calculate({ card: { cardNumber: creds.cards[0]!.cardNumber }, lines: basket }); // not fenced yet
    const misdirected = await daemon(["--replica-of", old.replicationAddress], { LOYALTY_REPLICATION_TOKEN: token }, follower.dataDir);
    const [exitCode] = await once(misdirected.child, "exit") as [number];
    expect(exitCode).toBe(1); // refused: the node it tried to follow is stale
    const status = await admin<{ fenced: string | null }>(old, token, "replica.status");
    expect(status.fenced).toContain("superseded");
    const code = await pos.calculate({ card: { cardNumber: creds.cards[0]!.cardNumber }, lines: basket }).then(() => 0, (e: PosError) => e.code);
    expect(code).toBe(E.ERROR_CODE_UNAVAILABLE);
  });

  it("decides lineage from epoch histories", () => {
    const one = [{ epoch: 1, startSeq: 1 }];
    const two = [...one, { epoch: 2, startSeq: 51 }];
    expect(checkLineage(two, one, 50)).toEqual({ ok: true });
    expect(checkLineage(two, one, 51)).toMatchObject({ ok: false, reason: "diverged" });
    expect(checkLineage(one, two, 10)).toMatchObject({ ok: false, reason: "stale-primary" });
    expect(checkLineage(two, two, 80)).toEqual({ ok: true });
  });
});

describe("notifications and semi-sync", () => {
  it("tell customers only of what a replica acknowledged when writes wait for it", () => {
    expect(notifiableSeq({ mode: "semi-sync", semiSyncOnTimeout: "unavailable" }, true, 120, 100)).toBe(100);
    expect(notifiableSeq({ mode: "semi-sync", semiSyncOnTimeout: "unavailable" }, true, 120, 0)).toBe(0); // no replica: nothing leaves
    expect(notifiableSeq({ mode: "semi-sync", semiSyncOnTimeout: "answer" }, true, 120, 100)).toBe(120);
    expect(notifiableSeq({ mode: "async", semiSyncOnTimeout: "unavailable" }, true, 120, 100)).toBe(120);
  });
});
