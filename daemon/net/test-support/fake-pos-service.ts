// A PosService for network-layer tests. One terminal "t1" with secret
// "s3cret" in merchant "m1" / store "s1"; "t-off" (secret "s3cret") is
// disabled. `execute` answers identify with an IdentifyResult that echoes the
// request (card number, and cashier id in holder_name_masked), and any other
// operation with NOT_FOUND.
//
// The card number of an identify chooses how the answer comes, so one test
// can mix them on one connection:
//   "hold-…"   a promise held until release(cardNumber) (in flight on purpose)
//   "async-…"  an already resolved promise
//   "reject-…" a rejected promise
//   "throw-…"  a synchronous exception
//   "big-…"    a synchronous answer padded to `bigAnswerBytes`
//   otherwise  a synchronous answer
import { ErrorCode, encodeResponse, errorBody, loyalty, type Request } from "../../../protocol/codec.js";
import type { AuthOutcome, ExecuteResult, PosService, TerminalSession } from "../pos-service.js";
import { deferred, type Deferred } from "./deferred.js";

export const terminal = { terminalId: "t1", secret: "s3cret", merchantId: "m1", storeId: "s1" } as const;
export const disabledTerminal = { terminalId: "t-off", secret: "s3cret" } as const;

export class FakePosService implements PosService {
  ready = true;
  bigAnswerBytes = 128 * 1024;
  /** Every execute() call, in order: the operation and the session it ran for. */
  readonly calls: { operation: string; session: TerminalSession; cashierId: string }[] = [];
  private readonly held = new Map<string, Deferred<ExecuteResult>>();
  private heldWaiters: { count: number; resolve: () => void }[] = [];
  private callWaiters: { count: number; resolve: () => void }[] = [];

  authenticate(terminalId: string, secret: string): AuthOutcome {
    if (terminalId === terminal.terminalId && secret === terminal.secret) {
      return { ok: true, session: { merchantId: terminal.merchantId, storeId: terminal.storeId, terminalId } };
    }
    if (terminalId === disabledTerminal.terminalId && secret === disabledTerminal.secret) {
      return { ok: false, code: ErrorCode.ERROR_CODE_FORBIDDEN, message: "this terminal is disabled" };
    }
    return { ok: false, code: ErrorCode.ERROR_CODE_UNAUTHENTICATED, message: "unknown terminal or wrong secret" };
  }

  execute(session: TerminalSession, request: Request): Promise<ExecuteResult> | ExecuteResult {
    this.calls.push({ operation: request.body ?? "", session, cashierId: request.cashierId });
    this.notify(this.callWaiters, this.calls.length);
    if (request.body !== "identify") {
      return { body: errorBody(ErrorCode.ERROR_CODE_NOT_FOUND, "the fake knows identify only", { what: "operation" }), errorCode: ErrorCode.ERROR_CODE_NOT_FOUND };
    }
    const cardNumber = request.identify?.card?.cardNumber ?? "";
    const answer = (padding = ""): ExecuteResult => ({
      body: encodeResponse({
        identify: {
          cardNumber, kind: loyalty.v1.CardKind.CARD_KIND_BONUS, status: loyalty.v1.CardStatus.CARD_STATUS_ACTIVE,
          holderNameMasked: request.cashierId, tier: padding,
        },
      }),
      errorCode: 0,
    });
    if (cardNumber.startsWith("hold-")) {
      const hold = deferred<ExecuteResult>();
      this.held.set(cardNumber, hold);
      this.notify(this.heldWaiters, this.held.size);
      return hold.promise.then(() => answer());
    }
    if (cardNumber.startsWith("async-")) return Promise.resolve(answer());
    if (cardNumber.startsWith("reject-")) return Promise.reject(new Error(`storage failed for card ${cardNumber}`));
    if (cardNumber.startsWith("throw-")) throw new Error("engine exploded");
    if (cardNumber.startsWith("big-")) return answer("x".repeat(this.bigAnswerBytes));
    return answer();
  }

  isReady(): boolean {
    return this.ready;
  }

  /** Card numbers of held requests not yet released. */
  heldCards(): string[] {
    return [...this.held.keys()];
  }

  /** Resolves once `count` requests are held at the same time. */
  whenHeld(count: number): Promise<void> {
    return this.waitFor(this.heldWaiters, this.held.size, count);
  }

  /** Resolves once execute() has been called `count` times in all. */
  whenCalled(count: number): Promise<void> {
    return this.waitFor(this.callWaiters, this.calls.length, count);
  }

  release(cardNumber: string): void {
    const hold = this.held.get(cardNumber);
    if (hold === undefined) throw new Error(`no held request for ${cardNumber}`);
    this.held.delete(cardNumber);
    hold.resolve({ body: new Uint8Array(), errorCode: 0 });
  }

  private waitFor(waiters: { count: number; resolve: () => void }[], current: number, count: number): Promise<void> {
    if (current >= count) return Promise.resolve();
    return new Promise((resolve) => waiters.push({ count, resolve }));
  }

  private notify(waiters: { count: number; resolve: () => void }[], current: number): void {
    for (let i = waiters.length - 1; i >= 0; i -= 1) {
      const waiter = waiters[i]!;
      if (current >= waiter.count) { waiters.splice(i, 1); waiter.resolve(); }
    }
  }
}
