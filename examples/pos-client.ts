// A complete till session in a few dozen lines: the first file a POS developer
// should read.
//
//   npm run build
//   node dist/daemon/main.js --data ./data          # another terminal; seeds a demo merchant
//   node dist/examples/pos-client.js [--data ./data] [--url ws://127.0.0.1:7700/pos]
//
// It connects as the first demo terminal from <data>/demo-credentials.json,
// pings, identifies the first demo bonus card, calculates a small basket that
// spends some points (the daemon holds them until confirm), and confirms it.
//
// Every failure is a typed error: a PosError carries the daemon's ErrorCode
// (branch on `code`, never on the message). A mutating call returns its
// operationId at once; store it with the receipt, and if the answer never
// comes, call again with the SAME operationId: the daemon answers the original
// result instead of doing it twice.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ErrorCode } from "../protocol/codec.js";
import { PosClient, PosError } from "../protocol/client.js";

interface DemoCredentials {
  terminals: { terminalId: string; storeId: string; secret: string }[];
  cards: { cardNumber: string; kind: "bonus" | "discount" | "gift" }[];
}

const { values: args } = parseArgs({
  options: { data: { type: "string", default: "./data" }, url: { type: "string", default: "ws://127.0.0.1:7700/pos" } },
});
const credentials = JSON.parse(readFileSync(join(args.data, "demo-credentials.json"), "utf8")) as DemoCredentials;
const terminal = credentials.terminals[0];
const card = credentials.cards.find((c) => c.kind === "bonus");
if (!terminal || !card) throw new Error("demo-credentials.json has no terminal or no bonus card");

/** Minor units (kopecks) as "123.45", without ever going through a float. */
const money = (minor: number): string => `${Math.trunc(minor / 100)}.${String(Math.abs(minor % 100)).padStart(2, "0")}`;

const client = new PosClient({
  url: args.url, terminalId: terminal.terminalId, secret: terminal.secret, cashierId: "cashier-1",
  clientName: "example-pos", clientVersion: "1.0",
});
client.on("reconnecting", ({ attempt, delayMs }) => console.log(`  (connection lost; reconnect attempt ${attempt} in ${delayMs} ms)`));

try {
  const hello = await client.connect();
  console.log(`connected as ${hello.terminalId} (merchant ${hello.merchantId}, store ${hello.storeId}, daemon ${hello.serverVersion})`);

  const started = process.hrtime.bigint();
  const pong = await client.ping();
  console.log(`ping: ${Math.round(Number(process.hrtime.bigint() - started) / 1000)} µs round trip, server time ${new Date(pong.serverTimeAtMs).toISOString()}`);

  const customer = await client.identify({ card: { cardNumber: card.cardNumber } });
  const points = customer.balances?.pointsActive ?? 0;
  console.log(`identify: card ${customer.cardNumber}, ${customer.holderNameMasked || "anonymous"}, tier ${customer.tierName || "-"}, ${points} points to spend`);

  const calculation = client.calculate({
    card: { cardNumber: customer.cardNumber },
    lines: [
      { sku: "4600000000017", group: "coffee", quantityMilli: 1000, priceMinor: 35_000, amountMinor: 35_000 },
      { sku: "4600000000024", group: "dairy", quantityMilli: 2000, priceMinor: 8_990, amountMinor: 17_980 },
    ],
    redeemPoints: Math.min(points, 100),
  });
  console.log(`calculate (operation ${calculation.operationId}):`);
  const check = await calculation;
  console.log(`  total ${money(check.totalMinor)}, discount ${money(check.discountMinor)}, ` +
    `${check.pointsRedeemed} points pay ${money(check.pointsRedeemedMinor)}, due ${money(check.amountDueMinor)}, ` +
    `${check.pointsAccrued} points to earn; hold until ${new Date(check.holdExpiresAtMs).toISOString()}`);
  for (const promotion of check.promotions) console.log(`  promotion ${promotion.name}: ${promotion.reason}`);

  const confirmed = await client.confirm({ checkId: check.checkId, receiptNumber: `R-${Date.now()}` });
  console.log(`confirm: check ${confirmed.checkId}, earned ${confirmed.pointsAccrued}, spent ${confirmed.pointsRedeemed}, ` +
    `balance now ${confirmed.balances?.pointsActive ?? 0} active + ${confirmed.balances?.pointsPending ?? 0} pending`);
  for (const line of confirmed.receiptLines) console.log(`  receipt: ${line}`);
} catch (error) {
  if (error instanceof PosError) {
    console.error(`declined: ${ErrorCode[error.code]} (${error.message})`, error.details);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
} finally {
  await client.close();
}
