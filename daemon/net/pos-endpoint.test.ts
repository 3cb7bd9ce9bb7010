import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ErrorCode, type Response } from "../../protocol/codec.js";
import { frameBytesMax, idBytesMax, linesMax, protocolVersion } from "../../protocol/limits.js";
import * as constants from "../constants.js";
import { disabledTerminal, terminal } from "./test-support/fake-pos-service.js";
import { flushMicrotasks, only, seededRandom, shuffled } from "./test-support/helpers.js";
import { helloRequest, identifyRequest } from "./test-support/pos-test-client.js";
import { serverPerTest, testHoldTtlMs, testIdempotencyRetentionMs, testNowMs } from "./test-support/test-server.js";

const serve = serverPerTest();

function expectError(response: Response, requestId: number, code: ErrorCode): NonNullable<Response["error"]> {
  expect(response.body).toBe("error");
  expect(response.requestId).toBe(requestId);
  expect(ErrorCode[response.error!.code ?? 0]).toBe(ErrorCode[code]);
  return response.error!;
}

describe("authentication", () => {
  it("accepts the right secret and answers HelloResult with the session and limits", async () => {
    const ts = await serve();
    const client = await ts.connect();
    const answer = only(await client.request({ requestId: 7, hello: helloRequest() }));
    expect(answer.requestId).toBe(7);
    expect(answer.body).toBe("hello");
    expect(answer.hello).toMatchObject({
      protocolVersion, serverVersion: "test-1.2.3", merchantId: terminal.merchantId, storeId: terminal.storeId, terminalId: terminal.terminalId,
      serverTimeAtMs: testNowMs,
    });
    expect(answer.hello!.limits).toMatchObject({
      frameBytesMax, inFlightMax: constants.inFlightPerConnectionMax, idleTimeoutMs: constants.idleTimeoutMs, linesMax,
      idempotencyRetentionMs: testIdempotencyRetentionMs, holdTtlMs: testHoldTtlMs,
    });
    const identified = only(await client.request(identifyRequest(8, "2200000000000001")));
    expect(identified.requestId).toBe(8);
    expect(identified.identify).toMatchObject({ cardNumber: "2200000000000001", holderNameMasked: "cashier-7" });
    expect(ts.service.calls[0]!.session).toEqual({ merchantId: "m1", storeId: "s1", terminalId: "t1" });
  });

  it("answers a wrong secret, an unknown terminal and a disabled one with typed errors, and closes after the third failure", async () => {
    const ts = await serve();
    const client = await ts.connect();
    const wrongSecret = expectError(only(await client.request({ requestId: 1, hello: helloRequest({ secret: "guess" }) })), 1, ErrorCode.ERROR_CODE_UNAUTHENTICATED);
    const unknown = expectError(only(await client.request({ requestId: 2, hello: helloRequest({ terminalId: "t404" }) })), 2, ErrorCode.ERROR_CODE_UNAUTHENTICATED);
    // No oracle for which terminal ids exist.
    expect(unknown.message).toBe(wrongSecret.message);
    expectError(only(await client.request({ requestId: 3, hello: helloRequest(disabledTerminal) })), 3, ErrorCode.ERROR_CODE_FORBIDDEN);
    expect(await client.closed).toEqual({ code: 1008, reason: "too many failed hellos" });
  });

  it("answers requests before hello with UNAUTHENTICATED, then accepts hello on the same connection", async () => {
    const ts = await serve();
    const client = await ts.connect();
    expectError(only(await client.request(identifyRequest(5, "2200000000000001"))), 5, ErrorCode.ERROR_CODE_UNAUTHENTICATED);
    expectError(only(await client.request({ requestId: 6, ping: { nonce: 1 } })), 6, ErrorCode.ERROR_CODE_UNAUTHENTICATED);
    expect(only(await client.request({ requestId: 7, hello: helloRequest() })).body).toBe("hello");
    expect(ts.service.calls).toHaveLength(0);
  });

  it("answers an unsupported protocol version with UNSUPPORTED_VERSION", async () => {
    const ts = await serve();
    const client = await ts.connect();
    const error = expectError(only(await client.request({ requestId: 1, hello: helloRequest({ protocolVersion: 2 }) })), 1, ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION);
    expect(error.details).toEqual({ supported: String(protocolVersion) });
  });

  it("answers hello without a terminal id or with an oversized secret with INVALID_ARGUMENT", async () => {
    const ts = await serve();
    const client = await ts.connect();
    expect(expectError(only(await client.request({ requestId: 1, hello: helloRequest({ terminalId: "" }) })), 1, ErrorCode.ERROR_CODE_INVALID_ARGUMENT).details)
      .toEqual({ field: "hello.terminal_id" });
    expect(expectError(only(await client.request({ requestId: 2, hello: helloRequest({ secret: "x".repeat(257) }) })), 2, ErrorCode.ERROR_CODE_INVALID_ARGUMENT).details)
      .toEqual({ field: "hello.secret" });
  });

  it("answers a second hello with INVALID_ARGUMENT and keeps the session", async () => {
    const ts = await serve();
    const client = await ts.authenticated();
    expect(expectError(only(await client.request({ requestId: 2, hello: helloRequest() })), 2, ErrorCode.ERROR_CODE_INVALID_ARGUMENT).details).toEqual({ field: "hello" });
    expect(only(await client.request(identifyRequest(3, "2200000000000001"))).body).toBe("identify");
  });

  it("answers ping with pong, echoing the nonce, without a cashier", async () => {
    const ts = await serve();
    const client = await ts.authenticated();
    const pong = only(await client.request({ requestId: 9, ping: { nonce: 2 ** 40 + 3 } }));
    expect(pong.requestId).toBe(9);
    expect(pong.pong).toMatchObject({ nonce: 2 ** 40 + 3, serverTimeAtMs: testNowMs });
  });
});

describe("bad frames", () => {
  it("answers an undecodable frame with MALFORMED (request_id 0), keeps serving, and closes with 1008 at the 10th", async () => {
    const ts = await serve();
    const client = await ts.authenticated();
    const truncated = Uint8Array.from([0x08, 0x05, 0x12, 0x05, 0x61]); // cashier_id says 5 bytes, has 1
    expectError(only((client.sendRaw(truncated, true), await client.next())), 0, ErrorCode.ERROR_CODE_MALFORMED);
    expect(only(await client.request(identifyRequest(2, "2200000000000001"))).body).toBe("identify");
    const invalidWireType = Uint8Array.from([0x0f]);
    for (let i = 2; i <= constants.malformedFramesPerConnectionMax; i += 1) client.sendRaw(invalidWireType, true);
    const answers = await client.next(constants.malformedFramesPerConnectionMax - 1);
    for (const answer of answers) expectError(answer, 0, ErrorCode.ERROR_CODE_MALFORMED);
    expect(await client.closed).toEqual({ code: 1008, reason: "too many malformed frames" });
    expect(await ts.metricValue("loyalty_pos_frames_rejected_total", { reason: "malformed" })).toBe(constants.malformedFramesPerConnectionMax);
    // Other connections are unaffected.
    expect(only(await (await ts.authenticated()).request({ requestId: 3, ping: { nonce: 1 } })).body).toBe("pong");
  });

  it("closes a frame over frameBytesMax with 1009, and one over uWS's hard limit without a close frame", async () => {
    const ts = await serve();
    const client = await ts.authenticated();
    client.sendRaw(new Uint8Array(frameBytesMax + 1), true);
    expect(await client.closed).toEqual({ code: 1009, reason: "frame too big" });
    expect(await ts.metricValue("loyalty_pos_frames_rejected_total", { reason: "too_big" })).toBe(1);

    const huge = await ts.authenticated();
    huge.sendRaw(new Uint8Array(frameBytesMax * constants.frameBytesHardFactor + 1), true);
    expect((await huge.closed).code).toBe(1006);

    expect(only(await (await ts.authenticated()).request(identifyRequest(2, "2200000000000001"))).body).toBe("identify");
  });

  it("answers a text frame with MALFORMED and closes with 1003", async () => {
    const ts = await serve();
    const client = await ts.authenticated();
    client.sendRaw(JSON.stringify({ requestId: 2, ping: {} }), false);
    expectError(only(await client.next()), 0, ErrorCode.ERROR_CODE_MALFORMED);
    expect(await client.closed).toEqual({ code: 1003, reason: "binary frames only" });
    expect(only(await (await ts.authenticated()).request({ requestId: 2, ping: { nonce: 5 } })).body).toBe("pong");
  });

  it("answers an empty body and an operation from a newer protocol with UNKNOWN_OPERATION and the request id", async () => {
    const ts = await serve();
    const client = await ts.authenticated();
    expectError(only(await client.request({ requestId: 4, cashierId: "c1" })), 4, ErrorCode.ERROR_CODE_UNKNOWN_OPERATION);
    // request_id 5, then field 31 (length-delimited, empty): an operation this build does not know.
    client.sendRaw(Uint8Array.from([0x08, 0x05, 0xfa, 0x01, 0x00]), true);
    expectError(only(await client.next()), 5, ErrorCode.ERROR_CODE_UNKNOWN_OPERATION);
    expect(await ts.metricValue("loyalty_pos_requests_total", { operation: "unknown", code: "UNKNOWN_OPERATION" })).toBe(2);
    expect(ts.service.calls).toHaveLength(0);
  });

  it("answers request_id 0 and a request_id already in flight with INVALID_ARGUMENT on request_id 0", async () => {
    const ts = await serve();
    const client = await ts.authenticated();
    expect(expectError(only(await client.request(identifyRequest(0, "2200000000000001"))), 0, ErrorCode.ERROR_CODE_INVALID_ARGUMENT).details)
      .toEqual({ field: "request_id" });
    client.send(identifyRequest(9, "hold-1"));
    await ts.service.whenHeld(1);
    const duplicate = expectError(only(await client.request(identifyRequest(9, "2200000000000001"))), 0, ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(duplicate.details).toEqual({ field: "request_id", request_id: "9" });
    ts.service.release("hold-1");
    const held = only(await client.next());
    expect(held.requestId).toBe(9);
    expect(held.identify!.cardNumber).toBe("hold-1");
    expect(ts.service.calls).toHaveLength(1);
  });

  it("answers every frame of random bytes with exactly one Response and never stops serving", async () => {
    const ts = await serve();
    const seed = 0x5eed1234;
    const random = seededRandom(seed);
    try {
      for (let round = 0; round < 20; round += 1) {
        const client = await ts.authenticated();
        // Fewer than the malformed-frame limit, so the connection stays open.
        const frames = constants.malformedFramesPerConnectionMax - 1;
        for (let i = 0; i < frames; i += 1) {
          const frame = Uint8Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256));
          client.sendRaw(frame, true);
        }
        client.send({ requestId: 2 ** 50, ping: { nonce: round } });
        const answers = await client.next(frames + 1);
        expect(answers.at(-1)!.pong!.nonce).toBe(round);
        expect(client.pending).toBe(0);
        await client.close();
      }
    } catch (error) {
      throw new Error(`reproduce with seed=${seed}: ${String(error)}`);
    }
  });
});

describe("requests", () => {
  it("pipelines 200 requests on one connection and answers each with its own id as they complete", async () => {
    const ts = await serve();
    const client = await ts.authenticated();
    const count = 200;
    for (let i = 0; i < count; i += 1) client.send(identifyRequest(1000 + i, `hold-${i}`));
    await ts.service.whenHeld(count);
    const order = shuffled(count, seededRandom(20240601));
    for (const i of order) ts.service.release(`hold-${i}`);
    const answers = await client.next(count);
    expect(answers.map((answer) => answer.requestId)).toEqual(order.map((i) => 1000 + i));
    for (const answer of answers) expect(answer.identify!.cardNumber).toBe(`hold-${answer.requestId - 1000}`);
    expect(await ts.metricValue("loyalty_pos_requests_total", { operation: "identify", code: "ok" })).toBe(count);
  });

  it("answers released together (as a group commit does) on two connections: each gets its own, in release order", async () => {
    const ts = await serve();
    const first = await ts.authenticated();
    const second = await ts.authenticated();
    for (let i = 0; i < 6; i += 1) (i % 2 === 0 ? first : second).send(identifyRequest(100 + i, `hold-${i}`));
    await ts.service.whenHeld(6);
    for (const i of [5, 0, 3, 4, 1, 2]) ts.service.release(`hold-${i}`);
    expect((await first.next(3)).map((answer) => answer.requestId)).toEqual([100, 104, 102]);
    expect((await second.next(3)).map((answer) => answer.requestId)).toEqual([105, 103, 101]);
    expect(await ts.metricValue("loyalty_pos_requests_total", { operation: "identify", code: "ok" })).toBe(6);
  });

  it("answers past the in-flight limit with LIMIT_EXCEEDED and accepts again once one completes", async () => {
    const ts = await serve(["--in-flight-max", "4"]);
    const client = await ts.authenticated();
    for (let i = 1; i <= 4; i += 1) client.send(identifyRequest(10 + i, `hold-${i}`));
    await ts.service.whenHeld(4);
    const refused = expectError(only(await client.request(identifyRequest(20, "2200000000000001"))), 20, ErrorCode.ERROR_CODE_LIMIT_EXCEEDED);
    expect(refused.details).toEqual({ limit: "in_flight_max", in_flight_max: "4" });
    expect(refused.retryAfterMs).toBe(constants.inFlightRetryAfterMs);
    // Ping is answered at once and never counts against the limit.
    expect(only(await client.request({ requestId: 21, ping: { nonce: 1 } })).body).toBe("pong");
    ts.service.release("hold-1");
    expect(only(await client.next()).requestId).toBe(11);
    expect(only(await client.request(identifyRequest(22, "async-1"))).identify!.cardNumber).toBe("async-1");
    for (let i = 2; i <= 4; i += 1) ts.service.release(`hold-${i}`);
    expect((await client.next(3)).map((answer) => answer.requestId)).toEqual([12, 13, 14]);
  });

  it("rejects a missing or oversized cashier_id with INVALID_ARGUMENT before the service sees it", async () => {
    const ts = await serve();
    const client = await ts.authenticated();
    expect(expectError(only(await client.request(identifyRequest(2, "2200000000000001", ""))), 2, ErrorCode.ERROR_CODE_INVALID_ARGUMENT).details)
      .toEqual({ field: "cashier_id" });
    expectError(only(await client.request(identifyRequest(3, "2200000000000001", "ж".repeat(idBytesMax / 2 + 1)))), 3, ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(only(await client.request(identifyRequest(4, "2200000000000001", "ж".repeat(idBytesMax / 2)))).body).toBe("identify");
    expect(ts.service.calls).toHaveLength(1);
  });

  it("answers a throwing or rejecting service with INTERNAL and logs the operation, not the frame", async () => {
    const ts = await serve();
    const client = await ts.authenticated();
    expectError(only(await client.request(identifyRequest(2, "throw-2200123456781234"))), 2, ErrorCode.ERROR_CODE_INTERNAL);
    expectError(only(await client.request(identifyRequest(3, "reject-2200123456781234"))), 3, ErrorCode.ERROR_CODE_INTERNAL);
    expect(only(await client.request(identifyRequest(4, "async-1"))).body).toBe("identify");
    const failures = ts.log.entries().filter((entry) => entry.msg === "execute failed");
    expect(failures).toHaveLength(2);
    for (const failure of failures) expect(failure).toMatchObject({ level: "error", operation: "identify", terminalId: "t1" });
    expect(ts.log.lines.join("\n")).not.toContain("2200123456781234");
    expect(await ts.metricValue("loyalty_pos_requests_total", { operation: "identify", code: "INTERNAL" })).toBe(2);
  });

  it("drops the answer of a request whose connection closed, and keeps serving", async () => {
    const ts = await serve();
    const client = await ts.authenticated();
    client.send(identifyRequest(2, "hold-1"));
    await ts.service.whenHeld(1);
    await client.close();
    await ts.log.whenLogged((entry) => entry.msg === "connection closed");
    ts.service.release("hold-1");
    await flushMicrotasks();
    expect(await ts.metricValue("loyalty_pos_answers_dropped_total", { reason: "closed" })).toBe(1);
    expect(only(await (await ts.authenticated()).request(identifyRequest(2, "async-2"))).body).toBe("identify");
  });

  it("decodes nothing that keeps a view of the frame: Request has no bytes fields", () => {
    // uWS neuters a message's buffer when the handler returns; a `bytes` field
    // decoded by protobufjs would be a view of it and read as empty later.
    const generated = readFileSync(new URL("../../protocol/generated/loyalty.js", import.meta.url), "utf8");
    expect(generated).not.toMatch(/reader\.bytes\(\)/);
  });
});
