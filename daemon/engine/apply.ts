// The engine's entry point: `applyCommand(tx, command, now)`. Deterministic and
// I/O-free: the same state, command and `now` give the same answer and the
// same writes, which is what lets the journal (a list of commands with their
// `now`) be replayed into an identical state and streamed to a replica.
//
// Idempotency (P8), checked before anything else for a mutating operation:
// the record under (merchant, terminal, operation_id) holds a hash of the
// operation's content; the encoded answer is kept in the record's "due" entry
// (see IdempotencyRecord). Same hash → that answer, byte
// for byte, and no effect. Different hash → CONFLICT. Otherwise the operation
// runs on a buffered Tx: a decline drops its writes; either way the answer is
// stored in the same transaction as the effect.
import { hash } from "node:crypto";
import { encodeResponse, loyalty, type Operation } from "../../protocol/codec.js";
import { assert, unreachable } from "../assert.js";
import { applyAdmin, type AdminCommand, type AdminResult } from "./admin.js";
import { calculate, cancel, confirm, postOffline } from "./checkout.js";
import { applyDemo, type DemoCommand, type DemoOutcome } from "./demo.js";
import { BufferTx, E, decline, isDecline, type PosContext, type Resp } from "./common.js";
import { giftCardActivate, register } from "./enroll.js";
import { giftCardBalance, history, identify, ledger } from "./inquiry.js";
import { applyMaintenance, type MaintenanceCommand } from "./maintenance.js";
import type { IdempotencyRecord } from "./model.js";
import { dueKinds, key } from "./model.js";
import { applyNotify, type NotifyCommand } from "./outbox.js";
import { refund } from "./refund.js";
import type { ReadTx, Tx } from "./tx.js";

const pb = loyalty.v1;

/** How long answers to mutating operations are remembered (announced in HelloResult.limits). */
export const idempotencyRetentionMs = 7 * 86_400_000;

/** A mutating POS operation as journaled: who, what (the encoded operation message). */
export interface PosCommand {
  t: "pos";
  m: string;
  s: string;
  term: string;
  cash: string;
  op: Operation;
  /** The operation's message encoded alone (e.g. an encoded ConfirmRequest). */
  body: Uint8Array;
}

export type Command = PosCommand | AdminCommand | MaintenanceCommand | DemoCommand | NotifyCommand;

export interface Answer {
  body: Uint8Array;
  errorCode: loyalty.v1.ErrorCode;
}

type Decoder = { decode(bytes: Uint8Array): unknown };
const decoders: Partial<Record<Operation, Decoder>> = {
  identify: pb.IdentifyRequest, calculate: pb.CalculateRequest, confirm: pb.ConfirmRequest, cancel: pb.CancelRequest,
  refund: pb.RefundRequest, history: pb.HistoryRequest, register: pb.RegisterRequest, postOffline: pb.PostOfflineRequest,
  ledger: pb.LedgerRequest, giftCardActivate: pb.GiftCardActivateRequest, giftCardBalance: pb.GiftCardBalanceRequest,
};
const encoders: Partial<Record<Operation, { encode(m: never): { finish(): Uint8Array } }>> = decoders as never;

/** Encodes an operation's message alone: the journaled and hashed form. */
export function encodeOperation(op: Operation, message: unknown): Uint8Array {
  const encoder = encoders[op];
  assert(encoder, `no encoder for ${op}`);
  return encoder.encode(message as never).finish();
}

export function answerOf(resp: Resp): Answer {
  return { body: encodeResponse(resp), errorCode: resp.error?.code ?? 0 };
}

export function contextOf(cmd: PosCommand): PosContext {
  return { merchantId: cmd.m, storeId: cmd.s, terminalId: cmd.term, cashierId: cmd.cash };
}

/**
 * sha256(op, NUL, body) as hex, first 32 digits: the stored `h` of an
 * idempotency record, so its input bytes must never change. One buffer and
 * the one-shot crypto.hash cost about a quarter less than a Hash object
 * with three updates. Operation names are ASCII, so latin1 writes them as UTF-8.
 */
export function contentHash(op: Operation, body: Uint8Array): string {
  const input = Buffer.allocUnsafe(op.length + 1 + body.length);
  input.write(op, 0, "latin1");
  input[op.length] = 0;
  input.set(body, op.length + 1);
  return hash("sha256", input, "hex").slice(0, 32);
}

function operationIdOf(message: unknown): string {
  return (message as { operationId?: string }).operationId ?? "";
}

/** Runs one operation (mutating or read) without idempotency. */
function run(tx: Tx, ctx: PosContext, op: Operation, message: unknown, now: number): Resp {
  switch (op) {
    case "identify":
    case "history":
    case "ledger":
    case "giftCardBalance":
      return decline(E.ERROR_CODE_UNKNOWN_OPERATION, `${op} is a read operation, not a command`);
    case "calculate": return calculate(tx, ctx, message as loyalty.v1.CalculateRequest, now);
    case "confirm": return confirm(tx, ctx, message as loyalty.v1.ConfirmRequest, now);
    case "cancel": return cancel(tx, ctx, message as loyalty.v1.CancelRequest, now);
    case "refund": return refund(tx, ctx, message as loyalty.v1.RefundRequest, now);
    case "register": return register(tx, ctx, message as loyalty.v1.RegisterRequest, now);
    case "postOffline": return postOffline(tx, ctx, message as loyalty.v1.PostOfflineRequest, now);
    case "giftCardActivate": return giftCardActivate(tx, ctx, message as loyalty.v1.GiftCardActivateRequest, now);
    case "hello":
    case "ping":
      return decline(E.ERROR_CODE_UNKNOWN_OPERATION, `${op} is handled by the connection, not the engine`);
    default:
      return unreachable(op, "operation");
  }
}

/** A read-only operation (identify, history, ledger, gift balance) on a read view. */
export function applyRead(tx: ReadTx, ctx: PosContext, op: Operation, message: unknown, now: number): Answer {
  switch (op) {
    case "identify": return answerOf(identify(tx, ctx, message as loyalty.v1.IdentifyRequest, now));
    case "history": return answerOf(history(tx, ctx, message as loyalty.v1.HistoryRequest, now));
    case "ledger": return answerOf(ledger(tx, ctx, message as loyalty.v1.LedgerRequest, now));
    case "giftCardBalance": return answerOf(giftCardBalance(tx, ctx, message as loyalty.v1.GiftCardBalanceRequest));
    default: return answerOf(decline(E.ERROR_CODE_UNKNOWN_OPERATION, `${op} is not a read operation`));
  }
}

/**
 * A mutating POS operation with idempotency. `decoded`, when given, is the
 * operation's message that `cmd.body` was encoded from (the service has it
 * from the network layer's decoding of the frame), which spares decoding the
 * body again; replay has only the body. Either way the engine sees the same
 * message: encoding then decoding a decoded message gives it back.
 */
export function applyPos(tx: Tx, cmd: PosCommand, now: number, decoded?: unknown): Answer {
  const message = decoded ?? decodeOperation(cmd);
  const ctx = contextOf(cmd);
  const opId = operationIdOf(message);
  if (!opId) return answerOf(decline(E.ERROR_CODE_INVALID_ARGUMENT, "operation_id: is required", { field: "operation_id" }));
  const idemKey = key.idempotency(cmd.m, cmd.term, opId);
  const hash = contentHash(cmd.op, cmd.body);
  const seen = tx.get<IdempotencyRecord>("idempotency", idemKey);
  if (seen) {
    if (seen.h === hash) {
      const body = tx.get<Uint8Array>("due", key.due(dueKinds.idempotency, key.idempotencyDue(seen.x, idemKey)));
      assert(body instanceof Uint8Array, `the answer of operation ${idemKey} is missing`);
      return { body, errorCode: seen.c };
    }
    return answerOf(decline(E.ERROR_CODE_CONFLICT, "operation_id was already used for a different operation", { operation_id: opId }));
  }
  const buffer = new BufferTx(tx);
  const resp = run(buffer, ctx, cmd.op, message, now);
  const answer = answerOf(resp);
  // Malformed arguments are not remembered: they cannot have had an effect and
  // the same bytes always get the same answer.
  if (answer.errorCode === E.ERROR_CODE_INVALID_ARGUMENT) return answer;
  if (!isDecline(resp)) buffer.flushTo(tx);
  const forgetAt = now + idempotencyRetentionMs;
  tx.put("idempotency", idemKey, { h: hash, c: answer.errorCode, at: now, x: forgetAt } satisfies IdempotencyRecord);
  tx.put("due", key.due(dueKinds.idempotency, key.idempotencyDue(forgetAt, idemKey)), answer.body);
  return answer;
}

function decodeOperation(cmd: PosCommand): unknown {
  const decoder = decoders[cmd.op];
  assert(decoder, `no decoder for ${cmd.op}`);
  return decoder.decode(cmd.body);
}

/** `decoded`: see applyPos (only for a POS command). */
export function applyCommand(tx: Tx, cmd: Command, now: number, decoded?: unknown): Answer | AdminResult | { done: number } | DemoOutcome {
  switch (cmd.t) {
    case "pos": return applyPos(tx, cmd, now, decoded);
    case "admin": return applyAdmin(tx, cmd, now);
    case "maint": return applyMaintenance(tx, cmd, now);
    case "demo": return applyDemo(tx, cmd, now);
    case "notify": return applyNotify(tx, cmd, now);
    default: return unreachable(cmd, "command");
  }
}
