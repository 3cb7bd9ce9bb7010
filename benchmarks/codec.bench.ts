// Protobuf encode/decode of the hot POS messages: Request and Response of
// identify, calculate and confirm, as the client and the daemon see them
// (protocol/codec.ts over the generated protobufjs code). The daemon decodes
// every Request and encodes every Response on its one event loop, so these
// costs come straight off the per-request CPU budget.
//
// Run: npm run build && node dist/benchmarks/codec.bench.js [--seconds 1] [--rounds 3]
// Prints one JSON line per message and direction: median ops/s over the
// rounds, the encoded size, and the implied µs per operation.
import { parseArgs } from "node:util";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, pb, type loyalty } from "../protocol/codec.js";
import { basket, mulberry32 } from "../loadtest/workload.js";
import { throughput } from "./support/throughput.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "1" }, rounds: { type: "string", default: "3" } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

const card = { cardNumber: "27750000000012" };
// Five lines from the load test's catalogue: the size of a typical supermarket basket.
const lines = basket(mulberry32(1), 5);
const balances = { pointsActive: 1_240, pointsPending: 85, pointsExpiringSoon: 40, expiringSoonAtMs: 1_767_000_000_000, pointsHeld: 10 };
const operationId = "0b6f3a52-8c1e-4d8e-9a57-3f1d2c4b5a69";
const checkId = "msk-tverskaya/pos-tverskaya-1/00000000001234";

const requests: Record<string, loyalty.v1.Request.$Properties> = {
  identify: { requestId: 1_234, cashierId: "cashier-7", identify: { card } },
  calculate: { requestId: 1_235, cashierId: "cashier-7", calculate: { operationId, card, lines, redeemPoints: 10, coupons: [] } },
  confirm: { requestId: 1_236, cashierId: "cashier-7", confirm: { operationId, checkId, receiptNumber: "R-000123-45" } },
};
const responses: Record<string, loyalty.v1.Response.$Properties> = {
  identify: {
    requestId: 1_234,
    identify: {
      cardNumber: card.cardNumber, kind: pb.CardKind.CARD_KIND_BONUS, status: pb.CardStatus.CARD_STATUS_ACTIVE, holderNameMasked: "Ivan P.",
      tier: "silver", tierName: "Silver", balances, lastPurchaseAtMs: 1_766_000_000_000, recentPurchaseCount: 7, rollingYearSpendMinor: 2_450_000,
      offers: [{ id: "coffee-lover", title: "Coffee x2", text: "Double points on coffee on Mondays", validToAtMs: 1_769_000_000_000 }],
    },
  },
  calculate: {
    requestId: 1_235,
    calculate: {
      checkId, totalMinor: 93_470, discountMinor: 899, pointsRedeemed: 10, pointsRedeemedMinor: 1_000, amountDueMinor: 91_571, pointsAccrued: 23,
      pointsRedeemableMax: 310,
      lines: lines.map((l, index) => ({ index, discountMinor: l.group === "dairy" ? 899 : 0, pointsRedeemed: index === 0 ? 10 : 0, pointsRedeemedMinor: index === 0 ? 1_000 : 0, pointsAccrued: l.group === "tobacco" ? 0 : 5, amountDueMinor: l.amountMinor, promotionIds: l.group === "dairy" ? ["dairy-5"] : [] })),
      promotions: [{ id: "dairy-5", name: "Dairy 5% off", reason: "5% off group 'dairy'", discountMinor: 899, points: 0 }],
      coupons: [], receiptLines: ["You earned 23 points", "Balance: 1230 points"], holdExpiresAtMs: 1_766_000_900_000, balances,
    },
  },
  confirm: {
    requestId: 1_236,
    confirm: { checkId, pointsAccrued: 23, pointsRedeemed: 10, amountDueMinor: 91_571, receiptLines: ["You earned 23 points"], balances, confirmedAtMs: 1_766_000_060_000, tier: "silver" },
  },
};

let sink = 0;
function report(name: string, bytes: number, fn: (i: number) => void): void {
  const t = throughput(fn, seconds, rounds);
  console.log(JSON.stringify({ bench: `codec.${name}`, bytes, opsPerSecMedian: t.opsPerSecMedian, usPerOp: Math.round((1e6 / t.opsPerSecMedian) * 1000) / 1000, rounds, seconds }));
}

for (const op of ["identify", "calculate", "confirm"] as const) {
  const request = requests[op]!;
  const requestBytes = encodeRequest(request);
  report(`request.${op}.encode`, requestBytes.length, () => { sink += encodeRequest(request).length; });
  report(`request.${op}.decode`, requestBytes.length, () => { sink += decodeRequest(requestBytes).requestId as number; });
  const response = responses[op]!;
  const responseBytes = encodeResponse(response);
  report(`response.${op}.encode`, responseBytes.length, () => { sink += encodeResponse(response).length; });
  report(`response.${op}.decode`, responseBytes.length, () => { sink += decodeResponse(responseBytes).requestId as number; });
}
// Keeps the results observable so the calls cannot be optimised away.
if (sink === -1) console.log(sink);
