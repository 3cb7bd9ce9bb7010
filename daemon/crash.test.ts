// Crash of the real daemon process (SPEC: "no acknowledged write lost"): four
// terminals stream checks (calculate → confirm, many in flight) into a child
// daemon in `sync` durability; it is killed with SIGKILL in the middle of the
// stream and restarted on the same data directory and port. The POS clients
// reconnect by themselves and re-send what was unanswered with the original
// operation_ids.
//
// The kill is placed by progress, never by time: once a number of confirms
// has been answered, a proxy between the terminals and the daemon starts
// losing confirm answers, and the daemon is killed when a fixed number of them
// was lost. Since the daemon answers a change only after it is durable, each
// lost answer is a confirm that committed but whose terminal never heard of
// it: the case a retry after the restart must answer with the original. (A
// plain kill almost never hits it: answers leave right after the commit.)
// Requests still in the pipeline at the kill are the other case: not
// committed, so done for the first time after the restart.
//
// Afterwards, exactly:
// - every check of the stream is confirmed once: the re-sent requests got
//   answers consistent with state (a retry of an operation that committed
//   before the kill gets its original answer, one that did not is done now);
// - every calculate and confirm, re-sent again with the same operation_id and
//   content, gets the identical answer and changes nothing;
// - each card's ledger, history and balances are exactly what the answered
//   confirms imply (opening − redeemed, + accrued as pending; no holds left).
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { decodeResponse, loyalty } from "../protocol/codec.js";
import { PosClient, PosClientError, type MutationInput } from "../protocol/client.js";
import { demoProgram } from "./seed.js";
import { startPosProxy } from "./test-support/pos-proxy.js";
import { spawnDaemon } from "./test-support/spawn-daemon.js";

const pb = loyalty.v1;

const terminalsUsed = 4;
const checksPerTerminal = 60;
/** Checks each terminal keeps going at once (each one calculate → confirm). */
const workersPerTerminal = 16;
/** Once this many confirms have been answered, the proxy starts losing confirm answers… */
const answeredBeforeLosing = 80;
/**
 * …and the daemon is killed when it has lost this many. Reached for sure: only
 * confirm answers are lost, so each of the 64 workers goes on until it waits
 * for one, and 160 checks are still to do when the losing starts.
 */
const confirmAnswersLost = 16;
/**
 * Longer than the restart takes, so nothing times out while the daemon is
 * down: every outcome in this test is then an answer, never "unknown".
 */
const requestTimeoutMs = 20_000;

type CalculateInput = MutationInput<loyalty.v1.CalculateRequest.$Properties> & { operationId: string };
type ConfirmInput = MutationInput<loyalty.v1.ConfirmRequest.$Properties> & { operationId: string };

/** Which daemon process was serving when an answer arrived. */
type Generation = "first" | "restarted";

/** One check of the stream: what was asked, and what was answered by which daemon. */
interface CheckRun {
  readonly terminal: number;
  readonly cardNumber: string | undefined;
  readonly calculateRequest: CalculateInput;
  calculate?: loyalty.v1.CalculateResult;
  calculateAnsweredBy?: Generation;
  confirmRequest?: ConfirmInput;
  confirm?: loyalty.v1.ConfirmResult;
  confirmAnsweredBy?: Generation;
  failure?: unknown;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

/** The k-th check of a terminal: member checks with and without points on card A, on card B, and anonymous ones. */
function planCheck(terminal: number, k: number, cardA: string, cardB: string): CheckRun {
  const kind = k % 4;
  const cardNumber = kind === 0 || kind === 1 ? cardA : kind === 2 ? cardB : undefined;
  const lines: loyalty.v1.Line.$Properties[] = [
    { sku: `sku-${k}`, group: "grocery", quantityMilli: 1000, priceMinor: 10_000 + 100 * k, amountMinor: 10_000 + 100 * k },
  ];
  // A dairy line on every other check brings in a promotion discount.
  if (k % 2 === 1) lines.push({ sku: "milk", group: "dairy", quantityMilli: 2000, priceMinor: 2_500, amountMinor: 5_000 });
  const calculateRequest: CalculateInput = {
    operationId: `t${terminal}-calculate-${k}`,
    lines,
    redeemPoints: kind === 0 ? 1 + (k % 7) : 0,
    ...(cardNumber === undefined ? {} : { card: { cardNumber } }),
  };
  return { terminal, cardNumber, calculateRequest };
}

interface LedgerView { reason: number; points: number; checkId: string; atMs: number }

function ledgerView(entries: readonly loyalty.v1.LedgerEntry.$Properties[]): LedgerView[] {
  return entries
    .map((e) => ({ reason: e.reason ?? 0, points: e.points ?? 0, checkId: e.checkId ?? "", atMs: e.atMs ?? 0 }))
    .sort((a, b) => a.checkId.localeCompare(b.checkId) || a.reason - b.reason || a.atMs - b.atMs);
}

// Everything the test starts, stopped in reverse order even when it fails.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("crash of the daemon process", () => {
  it("SIGKILL mid-stream of confirms: every answered confirm is there exactly once, and re-sent requests get consistent answers", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "loyalty-crash-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    // A fixed port: the restarted daemon is reached at the same address.
    const port = await freePort();
    // No checkpoint before the kill: everything the first daemon answered is
    // in its write-ahead log only, so the restart must apply it all again
    // through the engine.
    // The log in a directory of its own (--wal-dir), as on a server with a
    // separate log device: the restart must find it there. (The store's own
    // crash test covers the log inside the LMDB directory.)
    const walDir = join(dataDir, "wal-device");
    const args = ["--durability", "sync", "--pos-port", String(port), "--checkpoint-interval-ms", "3600000", "--wal-dir", walDir];

    const first = await spawnDaemon({ dataDir, args });
    cleanups.push(async () => { await first.stop("SIGKILL"); });
    const credentials = first.credentials();
    const bonus = credentials.cards.filter((c) => c.kind === "bonus").map((c) => c.cardNumber);

    const runs: CheckRun[] = [];
    let generation: Generation = "first";
    let confirmsAnswered = 0;
    let losing: "nothing" | "confirms" | "everything" = "nothing";
    /** Answers of the first daemon that the terminals never got. */
    const lostAnswers: loyalty.v1.Response[] = [];
    let killedAtMs = 0;
    let firstExit: Promise<number | null> | undefined;
    let onKilled!: () => void;
    const killed = new Promise<void>((resolve) => { onKilled = resolve; });

    const kill = (): void => {
      // Whatever the dying daemon still sent is lost with it.
      losing = "everything";
      firstExit = first.stop("SIGKILL");
      // Taken after kill() returned: the daemon runs no code after it, so
      // anything it did has a time ≤ killedAtMs.
      killedAtMs = Date.now();
      onKilled();
    };

    const proxy = await startPosProxy({
      targetPort: port,
      filterFor: () => {
        const openedIn = generation;
        return (payload) => {
          if (openedIn !== "first" || losing === "nothing") return "forward";
          const response = decodeResponse(payload);
          if (losing === "confirms" && response.body !== "confirm") return "forward";
          lostAnswers.push(response);
          if (losing === "confirms" && lostAnswers.length === confirmAnswersLost) kill();
          return "drop";
        };
      },
    });
    cleanups.push(() => proxy.close());

    const clients: PosClient[] = [];
    for (let i = 0; i < terminalsUsed; i += 1) {
      const t = credentials.terminals[i]!;
      const client = new PosClient({
        url: proxy.url, terminalId: t.terminalId, secret: t.secret, cashierId: `cashier-${i}`, requestTimeoutMs,
        // Retry quickly while the daemon restarts; jitter stays on as in production.
        reconnect: { initialDelayMs: 20, maxDelayMs: 200, factor: 2, jitter: 0.5 },
      });
      cleanups.push(() => client.close({ drain: false }));
      await client.connect();
      clients.push(client);
    }
    // Not from HelloResult.limits: the daemon announces hold_ttl_ms as 0 (not
    // announced), so the demo program that seeded this store is the source.
    const holdTtlMs = demoProgram.holdTtlMs;

    // Terminal i works on bonus card i (opening balance) and 5 + i (none), so
    // each card's expected state follows from its own terminal's answers.
    const cardsOf = (i: number): [string, string] => [bonus[i]!, bonus[5 + i]!];
    const cards = Array.from({ length: terminalsUsed }, (_, i) => cardsOf(i)).flat();
    const initial = new Map<string, { ledger: loyalty.v1.LedgerResult; history: loyalty.v1.HistoryResult }>();
    for (const [i, client] of clients.entries()) {
      for (const cardNumber of cardsOf(i)) {
        initial.set(cardNumber, {
          ledger: await client.ledger({ card: { cardNumber }, limit: 100 }),
          history: await client.history({ card: { cardNumber }, limit: 50 }),
        });
      }
    }

    const onConfirmAnswered = (): void => {
      confirmsAnswered += 1;
      if (confirmsAnswered === answeredBeforeLosing) losing = "confirms";
    };

    const runCheck = async (client: PosClient, run: CheckRun): Promise<void> => {
      try {
        const calculate = await client.calculate(run.calculateRequest);
        run.calculate = calculate;
        run.calculateAnsweredBy = generation;
        run.confirmRequest = {
          operationId: run.calculateRequest.operationId.replace("calculate", "confirm"),
          checkId: calculate.checkId,
          receiptNumber: `R-${run.calculateRequest.operationId}`,
        };
        const confirm = await client.confirm(run.confirmRequest);
        run.confirm = confirm;
        run.confirmAnsweredBy = generation;
        onConfirmAnswered();
      } catch (error) {
        run.failure = error;
      }
    };

    const streams = Promise.all(clients.map(async (client, i) => {
      const [cardA, cardB] = cardsOf(i);
      const planned = Array.from({ length: checksPerTerminal }, (_, k) => planCheck(i, k, cardA, cardB));
      runs.push(...planned);
      let next = 0;
      await Promise.all(Array.from({ length: workersPerTerminal }, async () => {
        while (next < planned.length) await runCheck(client, planned[next++]!);
      }));
    }));

    // If the stream ended without reaching the kill point, say so instead of hanging.
    await Promise.race([killed, streams.then(() => { throw new Error(`the stream finished before the kill: ${confirmsAnswered} confirms answered, ${lostAnswers.length} answers lost`); })]);
    expect(await firstExit).toBeNull();
    expect(first.child.signalCode).toBe("SIGKILL");

    const isSegment = (name: string): boolean => /^wal-\d{16}\.log$/.test(name);
    expect(readdirSync(walDir).filter(isSegment).length).toBeGreaterThan(0);
    expect(readdirSync(join(dataDir, "lmdb")).filter(isSegment)).toEqual([]);

    generation = "restarted";
    const restartAtMs = Date.now();
    const restarted = await spawnDaemon({ dataDir, args });
    cleanups.push(async () => { await restarted.stop("SIGKILL"); });
    expect(restarted.posPort).toBe(port);
    const recovery = restarted.logLines.map((line) => JSON.parse(line) as { msg?: string; commands?: number })
      .find((entry) => entry.msg?.includes("write-ahead log") === true);

    // The store was not empty, so the demo seed did not run again: it would
    // have rewritten the credentials with new secrets, locking the terminals out.
    expect(restarted.credentials()).toEqual(credentials);

    await streams;
    const answeredByFirst = runs.filter((r) => r.confirmAnsweredBy === "first");
    const answeredAfterRestart = runs.filter((r) => r.confirmAnsweredBy === "restarted");
    // The kill really came mid-stream.
    expect(answeredByFirst.length).toBeGreaterThanOrEqual(answeredBeforeLosing);
    expect(answeredAfterRestart.length).toBeGreaterThanOrEqual(confirmAnswersLost);
    // Every confirm the first daemon answered came back from its log (plus its calculations and the seed).
    expect(recovery?.commands).toBeGreaterThan(answeredByFirst.length);

    // Nothing can legitimately fail here: holds live for minutes, the request
    // timeout outlasts the restart, and every re-sent operation reaches the
    // restarted daemon. So every check must have been calculated and confirmed.
    const failures = runs.filter((r) => r.failure !== undefined).map((r) => {
      const operationId = r.failure instanceof PosClientError ? r.failure.operationId : undefined;
      return `${operationId ?? r.calculateRequest.operationId}: ${String(r.failure)}`;
    });
    expect(failures).toEqual([]);
    expect(runs).toHaveLength(terminalsUsed * checksPerTerminal);
    for (const client of clients) {
      expect(client.stats()).toMatchObject({ inFlight: 0, queued: 0, reconnects: 1, protocolErrors: 0, lateAnswers: 0 });
    }
    expect(proxy.uninspectedFrames()).toBe(0);

    // Each answer is the daemon's own doing: consistent with its request and
    // with the calculation, from the first process (time ≤ kill) or from the
    // restarted one (time ≥ restart). A retry answered after the restart with
    // a time before the kill is the original answer of an operation that had
    // committed but whose answer was lost with the process.
    const checkIds = new Set<string>();
    for (const run of runs) {
      const calc = run.calculate!;
      const done = run.confirm!;
      const calculatedAtMs = calc.holdExpiresAtMs - holdTtlMs;
      expect(calculatedAtMs <= killedAtMs || calculatedAtMs >= restartAtMs, `calculation ${run.calculateRequest.operationId} at ${calculatedAtMs}`).toBe(true);
      if (run.calculateAnsweredBy === "first") expect(calculatedAtMs).toBeLessThanOrEqual(killedAtMs);
      expect(done.confirmedAtMs <= killedAtMs || done.confirmedAtMs >= restartAtMs, `confirm ${run.confirmRequest!.operationId} at ${done.confirmedAtMs}`).toBe(true);
      if (run.confirmAnsweredBy === "first") expect(done.confirmedAtMs).toBeLessThanOrEqual(killedAtMs);
      expect(calc.pointsRedeemed).toBe(run.calculateRequest.redeemPoints);
      expect(done).toMatchObject({
        checkId: calc.checkId, pointsAccrued: calc.pointsAccrued, pointsRedeemed: calc.pointsRedeemed, amountDueMinor: calc.amountDueMinor,
      });
      expect(done.balances ?? null).toEqual(run.cardNumber === undefined ? null : expect.anything());
      checkIds.add(calc.checkId);
    }
    expect(checkIds.size).toBe(runs.length);

    // The answers lost with the first daemon were of committed operations:
    // their retries, answered by the restarted daemon, got them byte for byte
    // (decoded here), not a second execution nor an INVALID_STATE.
    expect(lostAnswers.filter((r) => r.body === "confirm").length).toBeGreaterThanOrEqual(confirmAnswersLost);
    expect(lostAnswers.filter((r) => r.body !== "confirm" && r.body !== "calculate")).toEqual([]);
    const runOfCheck = new Map(runs.map((r) => [r.calculate!.checkId, r]));
    for (const lost of lostAnswers) {
      const result = lost.body === "confirm" ? lost.confirm! : lost.calculate!;
      const run = runOfCheck.get(result.checkId ?? "");
      if (run === undefined) throw new Error(`a lost answer names check ${result.checkId}, which no run has`);
      if (lost.body === "confirm") {
        expect(run.confirm, run.confirmRequest!.operationId).toEqual(lost.confirm);
        expect(run.confirmAnsweredBy).toBe("restarted");
        expect(lost.confirm!.confirmedAtMs).toBeLessThanOrEqual(killedAtMs);
      } else {
        expect(run.calculate, run.calculateRequest.operationId).toEqual(lost.calculate);
        expect(run.calculateAnsweredBy).toBe("restarted");
      }
    }

    // Re-sent once more with the same operation_ids and content: the original
    // answers, exactly, and (checked below on the cards) no second effect.
    await Promise.all(runs.map(async (run) => {
      const client = clients[run.terminal]!;
      const [calculate, confirm] = await Promise.all([client.calculate(run.calculateRequest), client.confirm(run.confirmRequest!)]);
      expect(calculate, run.calculateRequest.operationId).toEqual(run.calculate);
      expect(confirm, run.confirmRequest!.operationId).toEqual(run.confirm);
    }));

    for (const cardNumber of cards) {
      const client = clients[runs.find((r) => r.cardNumber === cardNumber)!.terminal]!;
      const mine = runs.filter((r) => r.cardNumber === cardNumber);
      const before = initial.get(cardNumber)!;
      const redeemed = mine.reduce((sum, r) => sum + r.confirm!.pointsRedeemed, 0);
      const accrued = mine.reduce((sum, r) => sum + r.confirm!.pointsAccrued, 0);
      expect(accrued, `card ${cardNumber} earns on its checks`).toBeGreaterThan(0);

      const expectedEntries: loyalty.v1.LedgerEntry.$Properties[] = [...before.ledger.entries];
      for (const r of mine) {
        const done = r.confirm!;
        if (done.pointsRedeemed > 0) expectedEntries.push({ reason: pb.LedgerReason.LEDGER_REASON_REDEMPTION, points: -done.pointsRedeemed, checkId: done.checkId, atMs: done.confirmedAtMs });
        if (done.pointsAccrued > 0) expectedEntries.push({ reason: pb.LedgerReason.LEDGER_REASON_ACCRUAL, points: done.pointsAccrued, checkId: done.checkId, atMs: done.confirmedAtMs });
      }
      // Below the page size, so the page holds the card's whole ledger.
      expect(expectedEntries.length).toBeLessThan(100);
      const ledger = await client.ledger({ card: { cardNumber }, limit: 100 });
      expect(ledgerView(ledger.entries), `ledger of ${cardNumber}`).toEqual(ledgerView(expectedEntries));

      expect(before.history.checks).toEqual([]);
      expect(mine.length).toBeLessThan(50);
      const history = await client.history({ card: { cardNumber }, limit: 50 });
      const summary = (c: loyalty.v1.CheckSummary.$Properties) => ({
        checkId: c.checkId ?? "", state: c.state ?? 0, atMs: c.atMs ?? 0, pointsAccrued: c.pointsAccrued ?? 0,
        pointsRedeemed: c.pointsRedeemed ?? 0, totalMinor: c.totalMinor ?? 0, receiptNumber: c.receiptNumber ?? "",
      });
      const byId = (a: { checkId: string }, b: { checkId: string }) => a.checkId.localeCompare(b.checkId);
      expect(history.checks.map(summary).sort(byId), `history of ${cardNumber}`).toEqual(mine.map((r) => summary({
        checkId: r.confirm!.checkId, state: pb.CheckState.CHECK_STATE_CONFIRMED, atMs: r.confirm!.confirmedAtMs,
        pointsAccrued: r.confirm!.pointsAccrued, pointsRedeemed: r.confirm!.pointsRedeemed, totalMinor: r.calculate!.totalMinor,
        receiptNumber: r.confirmRequest!.receiptNumber!,
      })).sort(byId));

      const who = await client.identify({ card: { cardNumber } });
      const opening = before.ledger.balances as loyalty.v1.Balances;
      expect(who.balances, `balances of ${cardNumber}`).toMatchObject({
        pointsActive: opening.pointsActive - redeemed,
        pointsPending: opening.pointsPending + accrued,
        pointsHeld: 0,
        pointsDebt: 0,
      });
    }

    // The restarted daemon still shuts down cleanly with all of this on disk.
    await Promise.all(clients.map((c) => c.close()));
    expect(await restarted.stop("SIGTERM")).toBe(0);
  }, 60_000);
});
