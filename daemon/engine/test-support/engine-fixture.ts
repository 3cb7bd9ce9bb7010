// A demo merchant in memory with helpers to send POS operations through the
// real engine entry points (applyPos / applyRead), for unit and property tests.
import { decodeRequest, decodeResponse, encodeRequest, loyalty, type Operation } from "../../../protocol/codec.js";
import { demoSeed, type DemoSeed } from "../../seed.js";
import { applyAdmin, type AdminAction } from "../admin.js";
import { applyCommand, applyPos, applyRead, encodeOperation, type Command, type PosCommand } from "../apply.js";
import { MemoryTx } from "../memory-tx.js";
import { readOperations } from "../../../protocol/codec.js";

/** Monday 2026-11-23 12:00 Moscow time (UTC+3). */
export const monday = Date.UTC(2026, 10, 23, 9, 0, 0);
export const day = 86_400_000;

/** Deterministic "random" bytes so fixtures are reproducible. */
export function seededBytes(seed = 1): (n: number) => Buffer {
  let x = seed >>> 0;
  return (n) => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i += 1) { x = (x * 1664525 + 1013904223) >>> 0; out[i] = x >>> 24; }
    return out;
  };
}

export type Body = loyalty.v1.Response;

export class EngineFixture {
  readonly tx = new MemoryTx();
  readonly seed: DemoSeed;
  /** Every command applied, with its time, in order: replaying it must give the same state. */
  readonly journal: { command: Command; now: number }[] = [];
  now = monday;
  opCounter = 0;

  constructor(now = monday) {
    this.now = now;
    this.seed = demoSeed(now, seededBytes());
    for (const action of this.seed.actions) this.admin(action);
  }

  get merchantId(): string { return this.seed.credentials.merchantId; }
  terminal(i = 0) { return this.seed.credentials.terminals[i]!; }
  bonusCard(i = 0): string { return this.seed.credentials.cards.filter((c) => c.kind === "bonus")[i]!.cardNumber; }
  discountCard(i = 0): string { return this.seed.credentials.cards.filter((c) => c.kind === "discount")[i]!.cardNumber; }
  giftCard(i = 0): string { return this.seed.credentials.cards.filter((c) => c.kind === "gift")[i]!.cardNumber; }

  admin(action: AdminAction, actor = "test"): void {
    const command: Command = { t: "admin", actor, action };
    const result = applyAdmin(this.tx, command, this.now);
    if (!result.ok) throw new Error(`admin ${action.a} failed: ${result.message}`);
    this.journal.push({ command, now: this.now });
  }

  command(command: Command): unknown {
    this.journal.push({ command, now: this.now });
    return applyCommand(this.tx, command, this.now);
  }

  nextOperationId(): string {
    this.opCounter += 1;
    return `op-${this.opCounter}`;
  }

  /** Sends one operation as terminal `terminal` and decodes the answer. */
  send<M extends object>(op: Operation, message: M, options: { terminal?: number; cashier?: string } = {}): Body {
    const t = this.terminal(options.terminal ?? 0);
    const ctx = { merchantId: this.merchantId, storeId: t.storeId, terminalId: t.terminalId, cashierId: options.cashier ?? "cashier-1" };
    if (readOperations.has(op)) {
      return decodeResponse(applyRead(this.tx, ctx, op, message, this.now).body);
    }
    const withId = "operationId" in message ? message : { ...message, operationId: this.nextOperationId() };
    // As the daemon does: the network layer decodes the frame, the service
    // journals the operation re-encoded and hands the engine the decoded
    // message. Replay (below) decodes the journaled bytes instead, so every
    // replay check also proves both paths give the same state.
    const decoded = decodeRequest(encodeRequest({ requestId: 1, cashierId: ctx.cashierId, [op]: withId }))[op];
    const command: PosCommand = { t: "pos", m: ctx.merchantId, s: ctx.storeId, term: ctx.terminalId, cash: ctx.cashierId, op, body: encodeOperation(op, decoded) };
    this.journal.push({ command, now: this.now });
    return decodeResponse(applyPos(this.tx, command, this.now, decoded).body);
  }

  /** The raw answer bytes, for byte-identity checks. */
  sendRaw(op: Operation, message: object, terminal = 0): Uint8Array {
    const t = this.terminal(terminal);
    const command: PosCommand = { t: "pos", m: this.merchantId, s: t.storeId, term: t.terminalId, cash: "cashier-1", op, body: encodeOperation(op, message) };
    this.journal.push({ command, now: this.now });
    return applyPos(this.tx, command, this.now).body;
  }

  identify(card: string): loyalty.v1.IdentifyResult.$Properties {
    const r = this.send("identify", { card: { cardNumber: card } });
    if (!r.identify) throw new Error(`identify failed: ${r.error?.message}`);
    return r.identify;
  }

  activePoints(card: string): number {
    return this.identify(card).balances?.pointsActive ?? 0;
  }
}

/** Replays a fixture's journal into a fresh MemoryTx. */
export function replay(journal: EngineFixture["journal"]): MemoryTx {
  const tx = new MemoryTx();
  for (const { command, now } of journal) applyCommand(tx, command, now);
  return tx;
}

export function line(group: string, amountMinor: number, quantityMilli = 1000, sku = `${group}-sku`) {
  return { sku, group, quantityMilli, priceMinor: Math.floor((amountMinor * 1000) / quantityMilli), amountMinor };
}
