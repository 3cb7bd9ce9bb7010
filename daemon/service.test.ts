// The service's load shedding: past posPendingCommandsMax commands awaiting
// durability, a POS change is answered UNAVAILABLE with a retry hint at once
// and changes nothing; once the backlog is durable it is served again.
import { afterEach, describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, ErrorCode } from "../protocol/codec.js";
import { createLogger } from "./observability/logger.js";
import { demoSeed } from "./seed.js";
import { LoyaltyService, posPendingCommandsMax, unavailableRetryAfterMs } from "./service.js";
import { tempStores } from "./storage/test-support/temp-store.js";

const stores = tempStores();
afterEach(() => stores.cleanup());

describe("load shedding", () => {
  it("answers a POS change UNAVAILABLE with retry_after while the commit backlog is past its bound, and serves it afterwards", async () => {
    const now = Date.UTC(2026, 10, 23, 9, 0);
    const store = await stores.open(stores.dir(), { durability: "none" });
    const service = new LoyaltyService({ store, clock: () => now, logger: createLogger({ level: "silent" }) });
    const seed = demoSeed(now);
    for (const action of seed.actions) expect((await service.admin(action, "test")).ok).toBe(true);
    const { merchantId, terminals, cards } = seed.credentials;
    const card = cards.find((c) => c.kind === "bonus")!.cardNumber;
    const session = { merchantId, storeId: terminals[0]!.storeId, terminalId: terminals[0]!.terminalId };
    const calculate = decodeRequest(encodeRequest({
      requestId: 1, cashierId: "c1",
      calculate: { operationId: "shed-1", card: { cardNumber: card }, lines: [{ sku: "1", group: "grocery", quantityMilli: 1000, priceMinor: 10_000, amountMinor: 10_000 }] },
    }));

    // A backlog of admin changes (never refused) submitted in one turn: none is durable yet.
    const backlog = Array.from({ length: posPendingCommandsMax }, () =>
      service.admin({ a: "points.adjust", merchantId, cardNumber: card, points: 1, reason: "backlog" }, "test"));
    const seqBefore = store.lastSeq;
    const refused = service.execute(session, calculate);
    expect(refused).not.toBeInstanceOf(Promise);
    const body = decodeResponse((refused as { body: Uint8Array }).body);
    expect(body.error?.code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
    expect(body.error?.retryAfterMs).toBe(unavailableRetryAfterMs);
    expect(store.lastSeq).toBe(seqBefore); // not applied, not journaled

    await Promise.all(backlog);
    const served = decodeResponse((await service.execute(session, calculate)).body);
    expect(served.error).toBeNull();
    expect(served.calculate?.checkId).toBeTruthy();
  });
});
