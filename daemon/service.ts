// The POS service: what the network layer calls (net/pos-service.ts). It turns
// an authenticated request into an engine command and runs it on the store:
// read operations on a read view at once, mutating ones through group commit
// (answered only once durable). It also authenticates terminals, runs the
// scheduled jobs (as journaled commands) and applies admin commands.
//
// Time enters here and only here (the injected clock); the engine gets `now`.
import { timingSafeEqual } from "node:crypto";
import { mutatingOperations, readOperations, type Request, ErrorCode, errorBody } from "../protocol/codec.js";
import { assert } from "./assert.js";
import { applyCommand, applyRead, encodeOperation, type Answer, type Command, type PosCommand } from "./engine/apply.js";
import type { AdminAction, AdminResult } from "./engine/admin.js";
import { dueJobKeys, type dueKindOfJob } from "./engine/maintenance.js";
import type { RulesRecord, TerminalRecord } from "./engine/model.js";
import type { NotifyCommand } from "./engine/outbox.js";
import { rulesAt } from "./engine/rules.js";
import type { AuthOutcome, ExecuteResult, PosService, TerminalSession } from "./net/pos-service.js";
import type { Logger } from "./observability/logger.js";
import { hashSecret } from "./seed.js";
import { StoreClosedError, StoreOverloadedError, type Store } from "./storage/store.js";

/**
 * How often the scheduler looks for due holds, lots and idempotency records.
 * Each tick is one short block of the event loop that every POS request
 * waits behind, so ticks are frequent and small: at 1 s with 200 accounts a
 * tick held the loop for 10–25 ms (the event-loop lag's p99 at 250 checks/s).
 */
export const maintenanceIntervalMs = 100;
/** Accounts whose tier is re-evaluated per scheduler tick (200 a second: a million cards in under 1.5 hours). */
export const tierBatchPerTick = 20;
/** Retry hint for an overloaded or closing daemon. */
export const unavailableRetryAfterMs = 50;
/**
 * A POS change arriving while this many commands await durability is answered
 * UNAVAILABLE (with the retry hint) at once, without running it. Four full
 * group commits (batchCommandsMaxDefault, storage/limits.ts), about a quarter
 * of a second of work at the 2-vCPU benchmark machine's saturation (~4,500
 * commands/s): past saturation tills get a fast, retryable answer instead of
 * joining a queue whose wait grows to seconds (the store's own
 * pendingCommandsMax, 50,000 in main.ts, is a memory bound far beyond any
 * useful wait). Half of it (two commits) refused checks at 1,000/s whenever
 * the shared machine stalled the daemon for ~0.25 s. Admin and scheduled
 * commands are not refused by it.
 */
export const posPendingCommandsMax = 1024;

const unauthenticated = "unknown terminal or wrong secret";
const overloadedMessage = "the daemon is overloaded; retry with the same operation_id";
const dummySalt = "0".repeat(32);

/**
 * What replication asks of the service (daemon/replication/): whether this
 * daemon may take writes at all (a replica or a fenced primary may not), and
 * in semi-synchronous mode, whether a durable write may be answered yet.
 */
export interface ReplicationGate {
  /** Null when writes are allowed; else why not (sent to the till as UNAVAILABLE). */
  writeRefusal(): string | null;
  /** Resolves true once the write with this seq may be answered; false: answer UNAVAILABLE. Null: no waiting (async). */
  afterDurable(seq: number): Promise<boolean> | null;
}

export interface ServiceOptions {
  store: Store;
  clock: () => number;
  logger: Logger;
  replication?: ReplicationGate;
}

export class LoyaltyService implements PosService {
  private readonly store: Store;
  private readonly clock: () => number;
  private readonly logger: Logger;
  private closing = false;
  private timer: NodeJS.Timeout | null = null;
  private maintenanceRunning = false;
  private tierCursor = "";
  private readonly replication: ReplicationGate | undefined;
  private schedulerPauses = 0;
  /**
   * The decoded message of the POS command being submitted, for the engine
   * (see applyPos): set just before store.submit, which applies synchronously,
   * and cleared right after. One field instead of a closure per request.
   */
  private decodedForApply: unknown = undefined;
  private readonly applyWithDecoded = (tx: Parameters<typeof applyCommand>[0], command: unknown, now: number): unknown =>
    applyCommand(tx, command as Command, now, this.decodedForApply);

  constructor(options: ServiceOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = options.logger;
    this.replication = options.replication;
  }

  authenticate(terminalId: string, secret: string): AuthOutcome {
    const terminal = terminalId ? this.store.read((tx) => tx.get<TerminalRecord>("terminals", terminalId)) : undefined;
    // Hash even for unknown terminals so timing does not reveal which ids exist.
    const computed = Buffer.from(hashSecret(terminal?.salt ?? dummySalt, secret), "hex");
    const stored = Buffer.from(terminal?.secretHash ?? "", "hex");
    const match = stored.length === computed.length && timingSafeEqual(stored, computed);
    if (!terminal || !match) return { ok: false, code: ErrorCode.ERROR_CODE_UNAUTHENTICATED, message: unauthenticated };
    if (terminal.disabled) return { ok: false, code: ErrorCode.ERROR_CODE_FORBIDDEN, message: "this terminal is disabled" };
    const rules = this.store.read((tx) => tx.get<RulesRecord>("rules", terminal.merchantId));
    const holdTtlMs = rules ? rulesAt(rules.versions, this.clock()).program.holdTtlMs : undefined;
    return { ok: true, session: { merchantId: terminal.merchantId, storeId: terminal.storeId, terminalId: terminal.id, holdTtlMs } };
  }

  execute(session: TerminalSession, request: Request): Promise<ExecuteResult> | ExecuteResult {
    const op = request.body;
    if (op === undefined || !(readOperations.has(op) || mutatingOperations.has(op))) {
      return { body: errorBody(ErrorCode.ERROR_CODE_UNKNOWN_OPERATION, "unknown operation"), errorCode: ErrorCode.ERROR_CODE_UNKNOWN_OPERATION };
    }
    if (this.closing) return unavailable("the daemon is shutting down");
    const message = request[op];
    assert(message, "the oneof case names a set field");
    const now = this.clock();
    const ctx = { merchantId: session.merchantId, storeId: session.storeId, terminalId: session.terminalId, cashierId: request.cashierId };
    if (readOperations.has(op)) return this.store.read((tx) => applyRead(tx, ctx, op, message, now));
    const refusal = this.replication?.writeRefusal() ?? null;
    if (refusal !== null) return unavailable(refusal);
    if (this.store.pendingCommands >= posPendingCommandsMax) return unavailable(overloadedMessage);
    const command: PosCommand = { t: "pos", m: ctx.merchantId, s: ctx.storeId, term: ctx.terminalId, cash: ctx.cashierId, op, body: encodeOperation(op, message) };
    let answer: Promise<unknown>;
    this.decodedForApply = message;
    try {
      answer = this.submitReplicated(command, now, this.applyWithDecoded);
    } finally {
      this.decodedForApply = undefined;
    }
    return answer.then((r) => (r === notReplicated ? unreplicated() : r as Answer), mapStoreError);
  }

  isReady(): boolean {
    return !this.closing && this.store.isHealthy();
  }

  /** Applies an admin command (journaled, durable — and in semi-sync mode replicated — before it resolves). */
  async admin(action: AdminAction, actor: string): Promise<AdminResult> {
    const refusal = this.replication?.writeRefusal() ?? null;
    if (refusal !== null) return { ok: false, kind: "unavailable", message: refusal };
    const result = await this.submitReplicated({ t: "admin", actor, action }, this.clock());
    if (result === notReplicated) return { ok: false, kind: "unavailable", message: notReplicatedMessage };
    return result as AdminResult;
  }

  /**
   * Records notification delivery outcomes (daemon/notify/) as a journaled
   * command. False when this daemon may not write now (a replica, fenced,
   * shutting down, overloaded): the events stay pending and are sent again.
   * Not gated on semi-sync acknowledgement: a lost record only means one
   * more delivery, which receivers deduplicate.
   */
  async recordDeliveries(command: NotifyCommand): Promise<boolean> {
    if (this.closing || (this.replication?.writeRefusal() ?? null) !== null) return false;
    try {
      await this.submit(command, this.clock());
      return true;
    } catch (error) {
      if (error instanceof StoreClosedError || error instanceof StoreOverloadedError) return false;
      throw error;
    }
  }

  /**
   * Submits a command; in semi-synchronous mode the result waits for a
   * replica's acknowledgement of the newest seq (which covers this command,
   * or, for a retry that wrote nothing, the original it answers from).
   */
  private submitReplicated(command: Command, now: number, apply: ApplyFn = applyPlain): Promise<unknown> {
    const durable = this.store.submit(command, now, apply);
    const seq = this.store.lastSeq;
    const gate = this.replication;
    if (!gate) return durable;
    return durable.then((result) => {
      const acked = gate.afterDurable(seq);
      return acked === null ? result : acked.then((ok) => (ok ? result : notReplicated));
    });
  }

  private submit(command: Command, now: number): Promise<unknown> {
    return this.store.submit(command, now, applyPlain);
  }

  startScheduler(): void {
    this.timer = setInterval(() => {
      this.runMaintenance().catch((error: unknown) => {
        // An engine bug or a failed store: say so, then let the rejection end
        // the process (the supervisor restarts on the last durable state).
        this.logger.fatal({ err: error }, "scheduled job failed");
        throw error;
      });
    }, maintenanceIntervalMs);
    this.timer.unref();
  }

  /**
   * Holds scheduled jobs off until the returned function is called: the demo
   * generator posts history at past times and runs those jobs itself at the
   * times they would have run; the live clock must not interleave with it.
   */
  pauseScheduler(): () => void {
    this.schedulerPauses += 1;
    let resumed = false;
    return () => {
      if (!resumed) this.schedulerPauses -= 1;
      resumed = true;
    };
  }

  /** Stops the scheduler and refuses new requests; in-flight ones finish. */
  beginShutdown(): void {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * One scheduler pass: sends the due keys of each kind in the "due" table as a
   * journaled maintenance command, and re-evaluates a slice of tiers.
   * Returns how many commands it sent (tests drive it directly).
   */
  async runMaintenance(): Promise<number> {
    if (this.maintenanceRunning || this.closing || this.schedulerPauses > 0) return 0;
    this.maintenanceRunning = true;
    try {
      const now = this.clock();
      let sent = 0;
      const jobs: (keyof typeof dueKindOfJob)[] = ["sweep-holds", "expire-lots", "forget-idempotency"];
      for (const job of jobs) {
        const keys = this.store.read((tx) => dueJobKeys(tx, job, now));
        if (keys.length === 0) continue;
        await this.submit({ t: "maint", job, keys }, now);
        sent += 1;
      }
      // A slice of accounts per tick, resuming after the last one: the whole
      // chain is re-evaluated in a steady trickle instead of one heavy pass.
      const slice = this.store.scanKeys("accounts", "", tierBatchPerTick, this.tierCursor || undefined);
      this.tierCursor = slice.length < tierBatchPerTick ? "" : slice[slice.length - 1]!;
      if (slice.length > 0) {
        await this.submit({ t: "maint", job: "reevaluate-tiers", keys: slice }, now);
        sent += 1;
      }
      return sent;
    } catch (error) {
      if (error instanceof StoreClosedError || error instanceof StoreOverloadedError) return 0; // next tick retries
      throw error;
    } finally {
      this.maintenanceRunning = false;
    }
  }
}

type ApplyFn = (tx: Parameters<typeof applyCommand>[0], command: unknown, now: number) => unknown;
const applyPlain = applyCommand as ApplyFn;

const notReplicated = Symbol("not replicated in time");
const notReplicatedMessage = "the change is recorded on the primary but no replica confirmed it in time; retry with the same operation_id";

function unreplicated(): ExecuteResult {
  return unavailable(notReplicatedMessage);
}

function unavailable(message: string): ExecuteResult {
  return {
    body: errorBody(ErrorCode.ERROR_CODE_UNAVAILABLE, message, {}, unavailableRetryAfterMs),
    errorCode: ErrorCode.ERROR_CODE_UNAVAILABLE,
  };
}

function mapStoreError(error: unknown): ExecuteResult {
  if (error instanceof StoreOverloadedError) return unavailable(overloadedMessage);
  if (error instanceof StoreClosedError) return unavailable("the daemon is shutting down; retry with the same operation_id");
  throw error;
}
