import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../protocol/codec.js";
import * as constants from "../constants.js";
import { parseConfig } from "../config.js";
import { createMetrics } from "../observability/metrics.js";
import { memoryLogger } from "../observability/test-support/memory-logger.js";
import { systemClock } from "./clock.js";
import { startServer } from "./server.js";
import { FakePosService } from "./test-support/fake-pos-service.js";
import { flushMicrotasks, only } from "./test-support/helpers.js";
import { PosTestClient, identifyRequest } from "./test-support/pos-test-client.js";
import { serverPerTest } from "./test-support/test-server.js";

const serve = serverPerTest();

describe("graceful drain", () => {
  it("answers every in-flight request, refuses new work with UNAVAILABLE, then closes with 1001", async () => {
    const ts = await serve();
    const a = await ts.authenticated();
    const b = await ts.authenticated();
    a.send(identifyRequest(10, "hold-a1"));
    a.send(identifyRequest(11, "hold-a2"));
    b.send(identifyRequest(20, "hold-b1"));
    await ts.service.whenHeld(3);

    let drainDone = false;
    const drained = ts.server.drain().then(() => { drainDone = true; });

    const refused = only(await a.request(identifyRequest(12, "2200000000000001")));
    expect(refused.requestId).toBe(12);
    expect(ErrorCode[refused.error!.code ?? 0]).toBe("ERROR_CODE_UNAVAILABLE");
    expect(refused.error!.retryAfterMs).toBe(constants.drainRetryAfterMs);
    expect((await ts.http("/readyz")).status).toBe(503);
    expect((await ts.http("/healthz")).status).toBe(200);
    await expect(PosTestClient.connect(ts.posUrl)).rejects.toThrow(/ECONNREFUSED/);
    expect(drainDone).toBe(false);

    ts.service.release("hold-a2");
    ts.service.release("hold-b1");
    ts.service.release("hold-a1");
    expect((await a.next(2)).map((answer) => [answer.requestId, answer.identify?.cardNumber])).toEqual([[11, "hold-a2"], [10, "hold-a1"]]);
    expect(only(await b.next()).identify!.cardNumber).toBe("hold-b1");
    await drained;
    expect(await a.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(await b.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(ts.service.calls).toHaveLength(3);
  });

  it("stops waiting after shutdownGraceMs and drops what is still in flight", async () => {
    const ts = await serve(["--shutdown-grace-ms", "0"]);
    const client = await ts.authenticated();
    client.send(identifyRequest(2, "hold-1"));
    await ts.service.whenHeld(1);
    await ts.server.drain();
    expect(await client.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(ts.log.entries().some((entry) => entry.msg === "shutdown grace period over; closing with requests in flight")).toBe(true);
    ts.service.release("hold-1");
    await flushMicrotasks();
    expect(client.pending).toBe(0);
    expect(await ts.metricValue("loyalty_pos_answers_dropped_total", { reason: "closed" })).toBe(1);
  });

  it("completes at once with nothing in flight, and close() after it is harmless", async () => {
    const ts = await serve();
    const client = await ts.authenticated();
    await Promise.all([ts.server.drain(), ts.server.drain()]);
    expect((await client.closed).code).toBe(1001);
    ts.server.close();
    ts.server.close();
  });
});

describe("connection limits", () => {
  it("refuses upgrades past connectionsMax with HTTP 503 and accepts again after a close", async () => {
    const ts = await serve(["--connections-max", "2"]);
    const first = await ts.authenticated();
    await ts.authenticated();
    await expect(PosTestClient.connect(ts.posUrl)).rejects.toThrow(/upgrade refused: 503/);
    expect(await ts.metricValue("loyalty_pos_upgrades_refused_total", { reason: "connections_max" })).toBe(1);
    expect(await ts.metricValue("loyalty_pos_connections_open")).toBe(2);
    await first.close();
    expect(only(await (await ts.authenticated()).request({ requestId: 2, ping: { nonce: 1 } })).body).toBe("pong");
  });

  it("closes a connection that stops reading once its answers pass maxBackpressure", async () => {
    const ts = await serve(["--frame-bytes-max", String(64 * 1024), "--backpressure-bytes-max", String(128 * 1024)]);
    const client = await ts.authenticated();
    // 200 answers of 128 KiB (25 MiB) exceed what the kernel buffers on loopback.
    client.socket.pause();
    for (let i = 0; i < 200; i += 1) client.send(identifyRequest(100 + i, `big-${i}`));
    await ts.log.whenLogged((entry) => entry.msg === "connection closed" && entry.terminalId === "t1");
    client.socket.resume();
    expect((await client.closed).code).toBe(1006);
    expect(await ts.metricValue("loyalty_pos_answers_dropped_total", { reason: "backpressure" })).toBeGreaterThanOrEqual(1);
    expect(only(await (await ts.authenticated()).request({ requestId: 2, ping: { nonce: 1 } })).body).toBe("pong");
  });

  it("serves /pos only: other paths on the POS port get 404", async () => {
    const ts = await serve();
    await expect(PosTestClient.connect(ts.posUrl.replace("/pos", "/other"))).rejects.toThrow(/upgrade refused: 404/);
  });
});

describe("startServer", () => {
  it("rejects with a clear error when a port is taken", async () => {
    const ts = await serve();
    const config = parseConfig(["--pos-port", "0", "--http-port", String(ts.server.httpPort), "--admin-port", "0"], {});
    await expect(startServer({ config, service: new FakePosService(), logger: memoryLogger().logger, metrics: createMetrics({ processMetrics: false }), clock: systemClock }))
      .rejects.toThrow(/cannot listen for HTTP on 127\.0\.0\.1:\d+/);
  });
});
