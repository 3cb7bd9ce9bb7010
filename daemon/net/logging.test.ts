import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../protocol/codec.js";
import { maskCardNumber } from "../observability/mask.js";
import { helloRequest } from "./test-support/pos-test-client.js";
import { startTestServer, type TestServer } from "./test-support/test-server.js";

let running: TestServer | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

describe("server logs", () => {
  it("never contain secrets, card numbers or phones, at debug level, across a whole session", async () => {
    const ts = running = await startTestServer();
    const card = "2200123456781234";
    const phone = "79161234567";
    const refused = await ts.connect();
    const [wrong] = await refused.request({ requestId: 1, hello: helloRequest({ secret: "wrong-s3cret-guess" }) });
    expect(ErrorCode[wrong!.error!.code ?? 0]).toBe("ERROR_CODE_UNAUTHENTICATED");
    const client = await ts.authenticated();
    await client.request(
      { requestId: 2, cashierId: "c1", identify: { card: { cardNumber: card } } },
      { requestId: 3, cashierId: "c1", identify: { card: { phone } } },
      { requestId: 4, cashierId: "c1", identify: { card: { cardNumber: `reject-${card}` } } },
      { requestId: 5, cashierId: "c1", identify: { card: { cardNumber: `throw-${card}` } } },
    );
    await client.close();
    await refused.close();
    await ts.log.whenLogged((entry) => entry.msg === "connection closed" && entry.terminalId === "t1");

    const text = ts.log.lines.join("\n");
    for (const leaked of [card, phone, "s3cret", "wrong-s3cret-guess"]) expect(text).not.toContain(leaked);
    const entries = ts.log.entries();
    expect(entries.find((entry) => entry.msg === "terminal authenticated")).toMatchObject({ level: "info", terminalId: "t1", merchantId: "m1", storeId: "s1" });
    expect(entries.find((entry) => entry.msg === "hello refused")).toMatchObject({ level: "warn", terminalId: "t1", code: "UNAUTHENTICATED" });
    // The error quoting the card number was logged, masked.
    expect(text).toContain(maskCardNumber(card));
  });
});
