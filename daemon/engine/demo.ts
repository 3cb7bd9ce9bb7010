// History posting for the demo chain generator (daemon/analytics/demo-generator.ts).
//
// A demo chain is a year of sales, registrations and refunds written through
// the engine's own operations (register, calculate + confirm, refund), each at
// its historical time, so points lots, tiers, expiry and refunds come out as
// they would have. Why a command kind of its own rather than POS commands:
// - a past sale is one step, calculate and confirm at the same instant, so it
//   is one item here instead of two journaled commands and a hold;
// - history has no tills that retry, so no idempotency records are kept (the
//   POS path would leave millions of them for the scheduler to forget);
// - a batch of items, each with its own time `at` (non-decreasing, never after
//   the command's `now`), is one journal entry: the generator's throughput is
//   not bounded by per-command overhead.
// Each item runs on its own buffered Tx: a declined item leaves no trace and
// does not stop the others, exactly like a till whose request was declined.
import { loyalty } from "../../protocol/codec.js";
import { confirm, calculate } from "./checkout.js";
import { BufferTx, isDecline, type PosContext, type Resp } from "./common.js";
import { register } from "./enroll.js";
import type { CustomerRecord } from "./model.js";
import { key } from "./model.js";
import { refund } from "./refund.js";
import type { Tx } from "./tx.js";

const pb = loyalty.v1;

/** Items one demo command may carry: bounds the work of one apply. */
export const demoItemsPerCommandMax = 500;

export interface DemoLine {
  sku: string;
  grp: string;
  /** Thousandths of a unit. */
  qty: number;
  price: number;
  amt: number;
}

export type DemoAction =
  /** A customer registers a card at the till (P7), then the profile gets its home location and tags (the web form). */
  | { k: "register"; card: string; phone: string; firstName: string; lastName: string; email: string; birthDate: string;
      consentSms: boolean; consentEmail: boolean; tags: string[]; homeLatE6: number; homeLonE6: number }
  /** A sale: calculate and confirm at once; `card` "" for a non-member; `redeem` spends the most points allowed. */
  | { k: "sale"; card: string; lines: DemoLine[]; redeem: boolean; receipt: string }
  /** A refund of a confirmed check: everything left, or some lines. */
  | { k: "refund"; check: string; full: boolean; lines: { index: number; qty: number }[] };

export interface DemoItem {
  at: number;
  s: string;
  term: string;
  cash: string;
  action: DemoAction;
}

export interface DemoCommand {
  t: "demo";
  m: string;
  items: DemoItem[];
}

export interface DemoOutcome {
  ok: boolean;
  /** Per item: the check id of a sale, the customer id of a registration, the refund id; "" when declined. */
  ids: string[];
  /** Per item: 0, or the protocol error code of the decline. */
  codes: number[];
  message: string;
}

export function applyDemo(tx: Tx, cmd: DemoCommand, now: number): DemoOutcome {
  const refused = (message: string): DemoOutcome => ({ ok: false, ids: [], codes: [], message });
  if (cmd.items.length > demoItemsPerCommandMax) return refused(`at most ${demoItemsPerCommandMax} items per command`);
  if (!tx.get("merchants", key.merchant(cmd.m))) return refused(`unknown merchant ${cmd.m}`);
  let previous = Number.MIN_SAFE_INTEGER;
  for (const item of cmd.items) {
    if (!Number.isSafeInteger(item.at) || item.at > now || item.at < previous) return refused("item times must be non-decreasing and not after the command's time");
    if (!tx.get("stores", key.store(cmd.m, item.s))) return refused(`unknown store ${item.s}`);
    previous = item.at;
  }
  const ids: string[] = [];
  const codes: number[] = [];
  cmd.items.forEach((item, i) => {
    const ctx: PosContext = { merchantId: cmd.m, storeId: item.s, terminalId: item.term, cashierId: item.cash };
    const buffer = new BufferTx(tx);
    const outcome = runItem(buffer, ctx, item.action, item.at, `demo-${now}-${i}`);
    if (typeof outcome === "string") {
      buffer.flushTo(tx);
      ids.push(outcome);
      codes.push(0);
    } else {
      ids.push("");
      codes.push(outcome.error?.code ?? pb.ErrorCode.ERROR_CODE_UNSPECIFIED);
    }
  });
  return { ok: true, ids, codes, message: "" };
}

/** The id the item produced, or the declining response. */
function runItem(tx: Tx, ctx: PosContext, action: DemoAction, at: number, operationId: string): string | Resp {
  switch (action.k) {
    case "register": {
      const r = register(tx, ctx, pb.RegisterRequest.create({
        operationId, cardNumber: action.card, phone: action.phone, firstName: action.firstName, lastName: action.lastName,
        email: action.email, birthDate: action.birthDate, consentSms: action.consentSms, consentEmail: action.consentEmail,
      }), at);
      if (isDecline(r)) return r;
      const customerId = r.register!.customerId!;
      const customerKey = key.customer(ctx.merchantId, customerId);
      const customer = tx.get<CustomerRecord>("customers", customerKey)!;
      tx.put("customers", customerKey, { ...customer, tags: action.tags, homeLatE6: action.homeLatE6, homeLonE6: action.homeLonE6 } satisfies CustomerRecord);
      return customerId;
    }
    case "sale": {
      const calc = calculate(tx, ctx, pb.CalculateRequest.create({
        operationId, ...(action.card ? { card: { cardNumber: action.card } } : {}), redeemMax: action.redeem,
        lines: action.lines.map((l) => ({ sku: l.sku, group: l.grp, quantityMilli: l.qty, priceMinor: l.price, amountMinor: l.amt })),
      }), at);
      if (isDecline(calc)) return calc;
      const checkId = calc.calculate!.checkId!;
      const done = confirm(tx, ctx, pb.ConfirmRequest.create({ operationId, checkId, receiptNumber: action.receipt }), at);
      return isDecline(done) ? done : checkId;
    }
    case "refund": {
      const r = refund(tx, ctx, pb.RefundRequest.create({
        operationId, checkId: action.check, full: action.full, lines: action.lines.map((l) => ({ index: l.index, quantityMilli: l.qty })),
      }), at);
      return isDecline(r) ? r : r.refund!.refundId!;
    }
  }
}
