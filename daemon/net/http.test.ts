import { afterEach, describe, expect, it } from "vitest";
import { posLatencyBucketsSeconds } from "../observability/metrics.js";
import { identifyRequest } from "./test-support/pos-test-client.js";
import { startTestServer, type TestServer } from "./test-support/test-server.js";

let running: TestServer | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

const metricName = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const labelPair = `[a-zA-Z_][a-zA-Z0-9_]*="(?:\\\\.|[^"\\\\\\n])*"`;
// prom-client prints NaN as "Nan" (an event-loop lag gauge before its first
// sample); Prometheus reads floats with Go's ParseFloat, which takes any case.
const value = "(?:[Nn]a[Nn]|[+-]?Inf|[+-]?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)";
const sampleLine = new RegExp(`^(${metricName})(?:\\{(${labelPair}(?:,${labelPair})*)?,?\\})? ${value}(?: -?\\d+)?$`);
const helpLine = new RegExp(`^# HELP (${metricName}) .*$`);
const typeLine = new RegExp(`^# TYPE (${metricName}) (counter|gauge|histogram|summary|untyped)$`);

interface Exposition {
  types: Map<string, string>;
  samples: { name: string; labels: string; value: number }[];
}

/**
 * Parses Prometheus text exposition (format 0.0.4) strictly: every line is a
 * HELP, a TYPE or a sample; each sample belongs to a family whose TYPE came
 * before it (histograms via _bucket/_sum/_count); the text ends with a newline.
 */
function parseExposition(text: string): Exposition {
  expect(text.endsWith("\n")).toBe(true);
  const types = new Map<string, string>();
  const samples: Exposition["samples"] = [];
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const type = typeLine.exec(line);
      if (type) {
        expect(types.has(type[1]!), `TYPE of ${type[1]} declared once`).toBe(false);
        types.set(type[1]!, type[2]!);
      } else {
        expect(line, "a comment is HELP or TYPE").toMatch(helpLine);
      }
      continue;
    }
    const sample = sampleLine.exec(line);
    expect(sample, `sample line: ${line}`).not.toBeNull();
    const name = sample![1]!;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    expect(types.get(family), `TYPE declared before ${name}`).toBeDefined();
    if (family !== name) expect(types.get(family)).toBe("histogram");
    samples.push({ name, labels: sample![2] ?? "", value: Number(line.slice(line.lastIndexOf(" ") + 1)) });
  }
  return { types, samples };
}

describe("/metrics", () => {
  it("is checked by a parser that rejects broken exposition", () => {
    expect(() => parseExposition("# TYPE a counter\na 1\n")).not.toThrow();
    expect(() => parseExposition("a 1\n")).toThrow(/TYPE declared before a/);
    expect(() => parseExposition("# TYPE a counter\na{b=c} 1\n")).toThrow(/sample line/);
    expect(() => parseExposition("# TYPE a counter\na one\n")).toThrow(/sample line/);
    expect(() => parseExposition("# TYPE a counter\na 1")).toThrow();
  });

  it("is valid Prometheus text exposition and counts the requests made", async () => {
    const ts = running = await startTestServer({ processMetrics: true });
    const client = await ts.authenticated();
    await client.request(identifyRequest(2, "2200000000000001"), identifyRequest(3, "async-1"), { requestId: 4, cashierId: "c", calculate: {} });
    client.sendRaw(Uint8Array.from([0x0f]), true);
    await client.next();

    const response = await ts.http("/metrics");
    expect(response.status).toBe(200);
    expect(response.contentType).toBe(ts.metrics.registry.contentType);
    const { types, samples } = parseExposition(response.body);

    expect(Object.fromEntries([
      "loyalty_pos_requests_total", "loyalty_pos_request_duration_seconds", "loyalty_pos_connections_open", "loyalty_pos_frames_rejected_total",
      "loyalty_pos_answers_dropped_total", "loyalty_pos_upgrades_refused_total", "loyalty_commit_batch_commands", "loyalty_commit_duration_seconds",
      "loyalty_journal_last_seq", "loyalty_lmdb_used_bytes", "loyalty_store_pending_commands",
    ].map((name) => [name, types.get(name)]))).toEqual({
      loyalty_pos_requests_total: "counter", loyalty_pos_request_duration_seconds: "histogram", loyalty_pos_connections_open: "gauge",
      loyalty_pos_frames_rejected_total: "counter", loyalty_pos_answers_dropped_total: "counter", loyalty_pos_upgrades_refused_total: "counter",
      loyalty_commit_batch_commands: "histogram", loyalty_commit_duration_seconds: "histogram", loyalty_journal_last_seq: "gauge",
      loyalty_lmdb_used_bytes: "gauge", loyalty_store_pending_commands: "gauge",
    });
    // Process metrics carry the prefix too.
    expect(types.get("loyalty_process_cpu_seconds_total")).toBe("counter");
    expect(types.get("loyalty_nodejs_eventloop_lag_seconds")).toBe("gauge");

    const find = (name: string, labels: string): number | undefined => samples.find((s) => s.name === name && s.labels === labels)?.value;
    expect(find("loyalty_pos_requests_total", 'operation="hello",code="ok"')).toBe(1);
    expect(find("loyalty_pos_requests_total", 'operation="identify",code="ok"')).toBe(2);
    expect(find("loyalty_pos_requests_total", 'operation="calculate",code="NOT_FOUND"')).toBe(1);
    expect(find("loyalty_pos_requests_total", 'operation="malformed",code="MALFORMED"')).toBe(1);
    expect(find("loyalty_pos_frames_rejected_total", 'reason="malformed"')).toBe(1);
    expect(find("loyalty_pos_connections_open", "")).toBe(1);
    expect(find("loyalty_pos_request_duration_seconds_count", 'operation="identify"')).toBe(2);
    // Sub-millisecond buckets, cumulative up to +Inf.
    const identifyBuckets = samples.filter((s) => s.name === "loyalty_pos_request_duration_seconds_bucket" && s.labels.endsWith('operation="identify"'));
    expect(identifyBuckets.map((s) => s.labels.replace(/^le="([^"]+)".*$/, "$1"))).toEqual([...posLatencyBucketsSeconds.map(String), "+Inf"]);
    expect(identifyBuckets.at(-1)!.value).toBe(2);
  });
});

describe("/healthz and /readyz", () => {
  it("follow the service's readiness and the drain", async () => {
    const ts = running = await startTestServer();
    expect(await ts.http("/healthz")).toMatchObject({ status: 200, body: "ok\n" });
    expect(await ts.http("/readyz")).toMatchObject({ status: 200, body: "ready\n" });
    ts.service.ready = false;
    expect(await ts.http("/readyz")).toMatchObject({ status: 503, body: "not ready: service not ready\n" });
    expect((await ts.http("/healthz")).status).toBe(200);
    ts.service.ready = true;
    expect((await ts.http("/readyz")).status).toBe(200);
    await ts.server.drain();
    expect(await ts.http("/readyz")).toMatchObject({ status: 503, body: "not ready: shutting down\n" });
    expect((await ts.http("/healthz")).status).toBe(200);
    expect((await ts.http("/metrics")).status).toBe(200);
  });

  it("answers unknown paths with 404 and other methods with 405", async () => {
    const ts = running = await startTestServer();
    expect((await ts.http("/nope")).status).toBe(404);
    expect((await ts.http("/pos")).status).toBe(404);
    expect((await ts.http("/metrics", "POST")).status).toBe(405);
    expect((await ts.http("/readyz", "DELETE")).status).toBe(405);
  });
});
