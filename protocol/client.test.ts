// Tests of the POS client against a fake daemon on a real socket
// (test-support/fake-pos-server.ts). Synchronisation is by promises and
// events; where timing logic is under test, timers are faked.
import { once } from "node:events";
import type { Duplex } from "node:stream";
import $protobuf from "protobufjs/minimal.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ErrorCode } from "./codec.js";
import {
  PosBackpressureError, PosClient, PosClosedError, PosError, PosProtocolError, PosRequestTooLargeError, PosTimeoutError,
  reconnectDelayMs, type PosClientOptions,
} from "./client.js";
import { FakePosServer, fakeTerminal } from "./test-support/fake-pos-server.js";

let server: FakePosServer;
const clients: PosClient[] = [];

beforeEach(async () => {
  server = await FakePosServer.start();
});

afterEach(async () => {
  vi.useRealTimers();
  for (const client of clients.splice(0)) await client.close({ drain: false });
  await server.close();
});

function newClient(overrides: Partial<PosClientOptions> = {}): PosClient {
  const client = new PosClient({
    url: server.url, ...fakeTerminal, cashierId: "cashier-7", requestTimeoutMs: 5_000,
    reconnect: { initialDelayMs: 0, maxDelayMs: 0, factor: 2, jitter: 0 },
    ...overrides,
  });
  clients.push(client);
  return client;
}

function identifyAnswer(cardNumber: string) {
  return { identify: { cardNumber, kind: 1, status: 2, tier: "silver", balances: { pointsActive: 120 } } };
}

const basket = { card: { cardNumber: "2000000000008" }, lines: [{ sku: "A1", group: "coffee", quantityMilli: 1000, priceMinor: 25_000, amountMinor: 25_000 }], redeemPoints: 50 };

/** The frame's bytes with the top-level request_id field removed, wherever it sits. */
function withoutRequestId(raw: Uint8Array): Uint8Array {
  const reader = $protobuf.Reader.create(raw);
  const kept: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    reader.skipType(tag & 7);
    if (tag >>> 3 !== 1) kept.push(raw.subarray(start, reader.pos));
  }
  return Buffer.concat(kept);
}

/**
 * Live Node timers in this process. Compared as "no more than before": a timer
 * of an earlier test's teardown may end meanwhile, but the client must add none.
 */
function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
}

describe("session", () => {
  it("sends Hello with the terminal's credentials and resolves connect() with HelloResult", async () => {
    const client = newClient({ clientName: "till-soft", clientVersion: "9.1" });
    const connected = once(client, "connected");
    const hello = await client.connect();

    expect(hello.terminalId).toBe(fakeTerminal.terminalId);
    expect(hello.merchantId).toBe("M-1");
    expect(client.state).toBe("open");
    expect(client.helloResult).toBe(hello);
    const [frame] = server.framesOf("hello");
    expect(frame!.request.requestId).toBeGreaterThan(0);
    expect(frame!.request.hello).toMatchObject({ protocolVersion: 1, terminalId: fakeTerminal.terminalId, secret: fakeTerminal.secret, clientName: "till-soft", clientVersion: "9.1" });
    const [, info] = await connected;
    expect(info).toEqual({ reconnected: false });
  });

  it("rejects connect() with PosError UNAUTHENTICATED on a wrong secret, leaves no timer and does not reconnect", async () => {
    const timersBefore = activeTimeouts();
    const client = newClient({ secret: "wrong" });
    const reconnecting = vi.fn();
    client.on("reconnecting", reconnecting);

    const error = await client.connect().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PosError);
    expect((error as PosError).code).toBe(ErrorCode.ERROR_CODE_UNAUTHENTICATED);
    expect(client.state).toBe("idle");
    expect(reconnecting).not.toHaveBeenCalled();
    expect(activeTimeouts()).toBeLessThanOrEqual(timersBefore);
    expect(server.connectionCount).toBe(1);
    await expect(client.identify({ card: { cardNumber: "1" } })).rejects.toBeInstanceOf(PosClosedError);
  });

  it("gives up for good when the daemon rejects the credentials on reconnect", async () => {
    const client = newClient();
    await client.connect();
    const identify = client.identify({ card: { cardNumber: "1" } });
    await server.waitForFrames("identify", 1);
    server.helloHandler = () => ({ error: { code: ErrorCode.ERROR_CODE_UNAUTHENTICATED, message: "secret rotated" } });
    const closed = once(client, "closed");

    server.dropConnections();

    const [{ error }] = (await closed) as [{ error: Error }];
    expect(error).toBeInstanceOf(PosError);
    expect((error as PosError).code).toBe(ErrorCode.ERROR_CODE_UNAUTHENTICATED);
    const rejected = await identify.catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(PosClosedError);
    expect((rejected as PosClosedError).cause).toBe(error);
    expect(client.state).toBe("closed");
    expect(server.connectionCount).toBe(2);
  });

  it("queues requests made while connecting and sends them after Hello", async () => {
    server.handler = (frame) => identifyAnswer(frame.request.identify!.card!.cardNumber!);
    const client = newClient();

    const connecting = client.connect();
    const identify = client.identify({ card: { cardNumber: "early" } });

    await connecting;
    await expect(identify).resolves.toMatchObject({ cardNumber: "early" });
    expect(server.frames.map((f) => f.request.body)).toEqual(["hello", "identify"]);
  });

  it("closes gracefully: waits for outstanding answers, then rejects new requests and leaves no timer", async () => {
    const timersBefore = activeTimeouts();
    const client = newClient();
    await client.connect();
    const identify = client.identify({ card: { cardNumber: "42" } });
    const [frame] = await server.waitForFrames("identify", 1);
    const reconnecting = vi.fn();
    client.on("reconnecting", reconnecting);
    let closeResolved = false;

    const closing = client.close().then(() => { closeResolved = true; });
    await expect(client.ping()).rejects.toBeInstanceOf(PosClosedError);
    expect(closeResolved).toBe(false);
    server.answer(frame!, identifyAnswer("42"));

    await expect(identify).resolves.toMatchObject({ cardNumber: "42" });
    await closing;
    expect(client.state).toBe("closed");
    expect(reconnecting).not.toHaveBeenCalled();
    expect(activeTimeouts()).toBeLessThanOrEqual(timersBefore);
  });
});

describe("requests", () => {
  it("pipelines 100 requests and resolves each caller with its own answer when answers come out of order", async () => {
    const client = newClient({ inFlightMax: 100 });
    await client.connect();
    const calls = Array.from({ length: 100 }, (_, i) => client.identify({ card: { cardNumber: `card-${i}` } }));

    const frames = await server.waitForFrames("identify", 100);
    const ids = frames.map((f) => f.request.requestId);
    expect(new Set(ids).size).toBe(100);
    expect(ids.every((id) => id > 0)).toBe(true);
    // A fixed permutation: every 37th frame, wrapping, so neighbours are answered far apart.
    for (let i = 0; i < 100; i++) {
      const frame = frames[(i * 37) % 100]!;
      server.answer(frame, identifyAnswer(frame.request.identify!.card!.cardNumber!));
    }

    const results = await Promise.all(calls);
    expect(results.map((r) => r.cardNumber)).toEqual(Array.from({ length: 100 }, (_, i) => `card-${i}`));
  });

  it("writes the requests made in one run of JavaScript with one writev, and holds back none made after it", async () => {
    server.handler = (frame) => identifyAnswer(frame.request.identify!.card!.cardNumber!);
    const client = newClient();
    await client.connect();
    // The TCP socket under ws (private to both): the mechanism under test is how often it is written to.
    const transport = (client as unknown as { socket: { _socket: Duplex } }).socket._socket;
    const writev = vi.spyOn(transport, "_writev");
    const write = vi.spyOn(transport, "_write");

    const burst = [1, 2, 3].map((i) => client.identify({ card: { cardNumber: `burst-${i}` } }));
    await Promise.all(burst);
    // ws frames each request as header + payload; uncorked, each would be its own write.
    expect(writev).toHaveBeenCalledTimes(1);
    expect(writev.mock.calls[0]![0].length).toBeGreaterThanOrEqual(3);
    expect(write).not.toHaveBeenCalled();

    // A request made in a later run (after an await) is written then, not held for a later one.
    await expect(client.identify({ card: { cardNumber: "later" } })).resolves.toMatchObject({ cardNumber: "later" });
    expect(writev.mock.calls.length + write.mock.calls.length).toBe(2);
  });

  it("sends cashier_id with operations but not with ping, and a per-call cashier overrides the client's", async () => {
    server.handler = (frame) => (frame.request.ping ? { pong: { nonce: frame.request.ping.nonce ?? 0 } } : identifyAnswer("1"));
    const client = newClient();
    await client.connect();

    const pong = await client.ping(77);
    await client.identify({ card: { cardNumber: "1" } });
    await client.identify({ card: { cardNumber: "1" } }, { cashierId: "senior-2" });

    expect(pong.nonce).toBe(77);
    expect(server.framesOf("ping")[0]!.request.cashierId).toBe("");
    expect(server.framesOf("identify").map((f) => f.request.cashierId)).toEqual(["cashier-7", "senior-2"]);
  });

  it("generates a distinct UUID operation_id for each mutating request, exposes it at once and keeps a given one", async () => {
    server.handler = (frame) => ({ calculate: { checkId: `chk-${frame.request.calculate!.operationId}` } });
    const client = newClient();
    await client.connect();

    const first = client.calculate(basket);
    const second = client.calculate(basket);
    const given = client.calculate({ ...basket, operationId: "till-7:receipt-1001" });

    expect(first.operationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second.operationId).not.toBe(first.operationId);
    expect(given.operationId).toBe("till-7:receipt-1001");
    expect((await first).checkId).toBe(`chk-${first.operationId}`);
    expect((await given).checkId).toBe("chk-till-7:receipt-1001");
    expect(server.framesOf("calculate").map((f) => f.request.calculate!.operationId))
      .toEqual([first.operationId, second.operationId, "till-7:receipt-1001"]);
  });

  it("maps an Error answer to PosError with its code, details, retry hint and the operation_id", async () => {
    server.handler = (frame) => frame.request.calculate
      ? { error: { code: ErrorCode.ERROR_CODE_INSUFFICIENT_POINTS, message: "only 120 points may be spent", details: { available: "120" } } }
      : { error: { code: ErrorCode.ERROR_CODE_UNAVAILABLE, message: "shutting down", retryAfterMs: 250 } };
    const client = newClient();
    await client.connect();

    const calculate = client.calculate(basket);
    const declined = await calculate.catch((e: unknown) => e);
    const unavailable = await client.history({ card: { cardNumber: "1" } }).catch((e: unknown) => e);

    expect(declined).toBeInstanceOf(PosError);
    expect(declined).toMatchObject({
      code: ErrorCode.ERROR_CODE_INSUFFICIENT_POINTS, message: "only 120 points may be spent", details: { available: "120" },
      retryAfterMs: 0, operation: "calculate", operationId: calculate.operationId,
    });
    expect(unavailable).toBeInstanceOf(PosError);
    expect(unavailable).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryAfterMs: 250, operation: "history", operationId: undefined });
  });

  it("rejects with PosProtocolError when the daemon answers with the wrong result type", async () => {
    server.handler = () => ({ ledger: { entries: [] } });
    const client = newClient();
    const errors: Error[] = [];
    client.on("error", (e) => errors.push(e));
    await client.connect();

    await expect(client.identify({ card: { cardNumber: "1" } })).rejects.toBeInstanceOf(PosProtocolError);
    expect(errors).toHaveLength(1);
  });

  it("rejects a request larger than the daemon's frame limit without sending it", async () => {
    server.limits = { ...server.limits, frameBytesMax: 1_000 };
    const client = newClient();
    await client.connect();
    const lines = Array.from({ length: 50 }, (_, i) => ({ sku: `SKU-${i}-${"x".repeat(40)}`, group: "g", quantityMilli: 1000, priceMinor: 1, amountMinor: 1 }));

    const call = client.calculate({ lines });
    const error = await call.catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PosRequestTooLargeError);
    expect(error).toMatchObject({ limit: 1_000, operationId: call.operationId });
    expect(client.stats().inFlight).toBe(0);
    await client.ping();
    expect(server.framesOf("calculate")).toHaveLength(0);
  });
});

describe("timeouts", () => {
  it("rejects with PosTimeoutError after requestTimeoutMs and ignores the late answer", async () => {
    const client = newClient({ requestTimeoutMs: 1_000 });
    await client.connect();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const confirm = client.confirm({ checkId: "chk-1", receiptNumber: "R-1" });
    let settled = false;
    const outcome = confirm.then(() => "resolved", (e: unknown) => e).finally(() => { settled = true; });
    const [frame] = await server.waitForFrames("confirm", 1);

    await vi.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);

    const error = await outcome;
    expect(error).toBeInstanceOf(PosTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 1_000, sent: true, operation: "confirm", operationId: confirm.operationId });
    vi.useRealTimers();
    server.answer(frame!, { confirm: { checkId: "chk-1" } });
    // The connection keeps working, and the late answer was recognised as late.
    await client.ping();
    expect(client.stats()).toMatchObject({ lateAnswers: 1, protocolErrors: 0, inFlight: 0 });
  });

  it("keeps a request's deadline running while the client reconnects", async () => {
    const client = newClient({ requestTimeoutMs: 1_000, reconnect: { initialDelayMs: 100, maxDelayMs: 100, factor: 2, jitter: 0 } });
    await client.connect();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const identify = client.identify({ card: { cardNumber: "1" } }).catch((e: unknown) => e);
    await server.waitForFrames("identify", 1);
    server.helloHandler = () => "hold";
    const reconnecting = once(client, "reconnecting");

    server.dropConnections();
    await reconnecting;
    await vi.advanceTimersByTimeAsync(100);
    await server.waitForFrames("hello", 2);
    await vi.advanceTimersByTimeAsync(900);

    expect(await identify).toBeInstanceOf(PosTimeoutError);
  });
});

describe("backpressure", () => {
  it("keeps at most inFlightMax on the wire, queues up to queueMax and rejects beyond that at once", async () => {
    const client = newClient({ inFlightMax: 2, queueMax: 3 });
    await client.connect();
    const accepted = Array.from({ length: 5 }, (_, i) => client.identify({ card: { cardNumber: `${i}` } }));

    const overflow = await client.identify({ card: { cardNumber: "5" } }).catch((e: unknown) => e);

    expect(overflow).toBeInstanceOf(PosBackpressureError);
    expect(overflow).toMatchObject({ inFlight: 2, queued: 3, operation: "identify" });
    expect(client.stats()).toMatchObject({ inFlight: 2, queued: 3 });
    const firstTwo = await server.waitForFrames("identify", 2);
    server.answer(firstTwo[0]!, identifyAnswer("0"));
    const three = await server.waitForFrames("identify", 3);
    expect(three[2]!.request.identify!.card!.cardNumber).toBe("2");
    expect(client.stats()).toMatchObject({ inFlight: 2, queued: 2 });
    server.handler = (frame) => identifyAnswer(frame.request.identify!.card!.cardNumber!);
    for (const frame of three.slice(1)) server.answer(frame, identifyAnswer(frame.request.identify!.card!.cardNumber!));

    expect((await Promise.all(accepted)).map((r) => r.cardNumber)).toEqual(["0", "1", "2", "3", "4"]);
  });

  it("honours the daemon's in_flight_max when it is below the client's", async () => {
    server.limits = { ...server.limits, inFlightMax: 1 };
    const client = newClient({ inFlightMax: 10 });
    await client.connect();

    const a = client.identify({ card: { cardNumber: "a" } });
    const b = client.identify({ card: { cardNumber: "b" } });

    expect(client.stats()).toMatchObject({ inFlight: 1, queued: 1 });
    const [first] = await server.waitForFrames("identify", 1);
    server.answer(first!, identifyAnswer("a"));
    const [, second] = await server.waitForFrames("identify", 2);
    server.answer(second!, identifyAnswer("b"));
    await expect(Promise.all([a, b])).resolves.toHaveLength(2);
  });
});

describe("reconnect", () => {
  it("re-sends unanswered requests after a drop: the mutating one with the same operation_id and identical bytes except request_id", async () => {
    const client = newClient();
    await client.connect();
    server.handler = (frame) => (frame.request.calculate ? { calculate: { checkId: "chk-9" } } : "hold");
    const calculated = await client.calculate(basket);
    const confirm = client.confirm({ checkId: calculated.checkId, receiptNumber: "R-77" });
    const identify = client.identify({ card: { cardNumber: "2000000000008" } });
    const [original] = await server.waitForFrames("confirm", 1, 1);
    await server.waitForFrames("identify", 1, 1);
    const events: string[] = [];
    client.on("disconnected", (info) => events.push(`disconnected willReconnect=${info.willReconnect}`));
    client.on("reconnecting", (info) => events.push(`reconnecting attempt=${info.attempt}`));
    const reconnected = once(client, "connected");

    server.dropConnections();

    const [, info] = await reconnected;
    expect(info).toEqual({ reconnected: true });
    expect(events).toEqual(["disconnected willReconnect=true", "reconnecting attempt=1"]);
    const [resent] = await server.waitForFrames("confirm", 1, 2);
    await server.waitForFrames("identify", 1, 2);
    expect(resent!.request.confirm!.operationId).toBe(confirm.operationId);
    expect(resent!.request.requestId).not.toBe(original!.request.requestId);
    expect(resent!.request.requestId).toBeGreaterThan(0);
    expect(withoutRequestId(resent!.raw)).toEqual(withoutRequestId(original!.raw));
    // Hello first on the new connection, then the re-sent requests in their original order; the answered calculate is not re-sent.
    expect(server.frames.filter((f) => f.connection === 2).map((f) => f.request.body)).toEqual(["hello", "confirm", "identify"]);

    server.answer(resent!, { confirm: { checkId: "chk-9", pointsAccrued: 25 } });
    server.answer(server.framesOf("identify", 2)[0]!, identifyAnswer("2000000000008"));
    await expect(confirm).resolves.toMatchObject({ checkId: "chk-9", pointsAccrued: 25 });
    await expect(identify).resolves.toMatchObject({ cardNumber: "2000000000008" });
    expect(client.stats().reconnects).toBe(1);
  });

  it("close() while reconnecting rejects outstanding requests at once and stops reconnecting", async () => {
    const client = newClient();
    await client.connect();
    const confirm = client.confirm({ checkId: "chk-1", receiptNumber: "R-1" });
    await server.waitForFrames("confirm", 1);
    server.helloHandler = () => "hold";
    server.dropConnections();
    await server.waitForFrames("hello", 2);
    const closed = once(client, "closed");

    await client.close();

    const error = await confirm.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PosClosedError);
    expect(error).toMatchObject({ sent: true, operationId: confirm.operationId });
    expect(await closed).toEqual([{ error: undefined }]);
    expect(client.state).toBe("closed");
  });

  it("backs off exponentially while the daemon is unreachable", async () => {
    const client = newClient({ reconnect: { initialDelayMs: 1, maxDelayMs: 8, factor: 2, jitter: 0 } });
    await client.connect();
    const delays: number[] = [];
    const fifthAttempt = new Promise<void>((resolve) => client.on("reconnecting", (info) => {
      delays.push(info.delayMs);
      if (info.attempt === 5) resolve();
    }));

    await server.close();
    await fifthAttempt;

    expect(delays).toEqual([1, 2, 4, 8, 8]);
  });

  it("pings a silent connection and replaces it when the ping goes unanswered", async () => {
    server.limits = { ...server.limits, idleTimeoutMs: 300 };
    server.handler = () => "hold";
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const client = newClient();
    await client.connect();

    vi.advanceTimersByTime(100); // the Hello answer counts as traffic
    expect(server.framesOf("ping")).toHaveLength(0);
    vi.advanceTimersByTime(100); // silent for an interval: ping
    await server.waitForFrames("ping", 1);
    const disconnected = once(client, "disconnected");
    vi.advanceTimersByTime(100); // still silent: the connection is dead
    await disconnected;
    const reconnected = once(client, "connected");
    vi.advanceTimersByTime(0);
    await reconnected;
    expect(server.connectionCount).toBe(2);
  });

  it("computes the backoff schedule with jitter inside its bounds", () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1_000, factor: 2, jitter: 0.5 };
    expect([0, 1, 2, 3, 4, 5].map((a) => reconnectDelayMs(a, options, () => 0))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect([0, 1, 4].map((a) => reconnectDelayMs(a, options, () => 0.999_999))).toEqual([50, 100, 500]);
  });
});

describe("bad frames from the daemon", () => {
  it("reports an undecodable or text frame as an error event and keeps serving", async () => {
    const client = newClient();
    const errors: Error[] = [];
    client.on("error", (e) => errors.push(e));
    await client.connect();

    server.sendRaw(1, new Uint8Array([0x12, 0x10, 0x08])); // error field claims 16 bytes, has 1
    server.sendRaw(1, "hello?");
    await client.ping();

    expect(errors.map((e) => e.constructor)).toEqual([PosProtocolError, PosProtocolError]);
    expect(client.stats().protocolErrors).toBe(2);
    expect(client.state).toBe("open");
  });

  it("does not crash without an error listener", async () => {
    const client = newClient();
    await client.connect();

    server.sendRaw(1, new Uint8Array([0xff, 0xff, 0xff]));
    await client.ping();

    expect(client.stats().protocolErrors).toBe(1);
  });
});
