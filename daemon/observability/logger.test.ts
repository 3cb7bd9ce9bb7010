import { describe, expect, it } from "vitest";
import { maskCardNumber, maskDigitRuns, maskPhone, maskSecret } from "./mask.js";
import { memoryLogger } from "./test-support/memory-logger.js";

describe("mask", () => {
  it("keeps the last 4 digits of a card number", () => {
    expect(maskCardNumber("2200123456781234")).toBe("************1234");
    expect(maskCardNumber("1234567")).toBe("*******");
  });

  it("keeps the country digit and the last two of a phone", () => {
    expect(maskPhone("+79161234567")).toBe("+7********67");
    expect(maskPhone("79161234567")).toBe("7********67");
    expect(maskPhone("12345")).toBe("*****");
  });

  it("hides a secret whole, and masks digit runs in text", () => {
    expect(maskSecret("s3cret")).toBe("[secret]");
    expect(maskDigitRuns("card 2200123456781234 not found, check 42")).toBe("card ************1234 not found, check 42");
  });

  it("is idempotent, so a value masked twice reads the same", () => {
    expect(maskCardNumber(maskCardNumber("2200123456781234"))).toBe("************1234");
    expect(maskPhone(maskPhone("+79161234567"))).toBe("+7********67");
  });
});

describe("logger", () => {
  it("emits JSON with level names", () => {
    const { logger, lines } = memoryLogger();
    logger.info({ terminalId: "t1" }, "hello");
    logger.debug("not shown at info");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", terminalId: "t1", msg: "hello" });
  });

  it("masks card numbers, phones and secrets wherever they are logged", () => {
    const { logger, lines } = memoryLogger();
    logger.info({
      cardNumber: "2200123456781234",
      phone: "+79161234567",
      secret: "s3cret-value",
      hello: { terminalId: "t1", secret: "s3cret-value" },
      request: { card: { card_number: "2200123456781234", phone: "79161234567" } },
      deeper: { a: { b: { token: "qr-token-value" } } },
    }, "identify for 2200123456781234");
    logger.error({ err: new Error("card 2200123456781234 exploded") }, "failed");
    const text = lines.join("\n");
    for (const leaked of ["2200123456781234", "9161234567", "s3cret-value", "qr-token-value"]) expect(text).not.toContain(leaked);

    const first = JSON.parse(lines[0]!);
    expect(first.cardNumber).toBe("************1234");
    expect(first.phone).toBe("+7********67");
    expect(first.secret).toBe("[secret]");
    expect(first.hello).toEqual({ terminalId: "t1", secret: "[secret]" });
    expect(first.request.card).toEqual({ card_number: "************1234", phone: "7********67" });
    expect(first.deeper.a.b.token).toBe("[secret]");
    expect(first.msg).toBe("identify for ************1234");
    expect(JSON.parse(lines[1]!).err.message).toBe("card ************1234 exploded");
  });
});
