// Starts the real server on 127.0.0.1 with ephemeral ports, a FakePosService,
// a fresh metrics registry and an in-memory logger; `stop()` closes every
// client it handed out and the server.
import { request as httpRequest } from "node:http";
import { afterEach } from "vitest";
import { parseConfig } from "../../config.js";
import { createMetrics, type Metrics } from "../../observability/metrics.js";
import { memoryLogger, type MemoryLogger } from "../../observability/test-support/memory-logger.js";
import type { Clock } from "../clock.js";
import { startServer, type RunningServer } from "../server.js";
import { FakePosService } from "./fake-pos-service.js";
import { PosTestClient } from "./pos-test-client.js";

/** The wall clock the test server reports (server_time_at_ms). */
export const testNowMs = 1_767_225_600_000;
export const testIdempotencyRetentionMs = 7 * 86_400_000;
export const testHoldTtlMs = 15 * 60_000;

export interface TestServer {
  readonly server: RunningServer;
  readonly service: FakePosService;
  readonly metrics: Metrics;
  readonly log: MemoryLogger;
  readonly posUrl: string;
  readonly httpUrl: string;
  connect(): Promise<PosTestClient>;
  authenticated(): Promise<PosTestClient>;
  /** GET (or another method) on the HTTP port, without keep-alive. */
  http(path: string, method?: string): Promise<{ status: number; body: string; contentType: string | undefined }>;
  /** The current value of one metric sample (0 when absent). */
  metricValue(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Extra daemon flags, e.g. ["--in-flight-max", "4"]. */
  readonly args?: readonly string[];
  readonly processMetrics?: boolean;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const config = parseConfig(["--host", "127.0.0.1", "--pos-port", "0", "--http-port", "0", "--admin-port", "0", ...(options.args ?? [])], {});
  const service = new FakePosService();
  const metrics = createMetrics({ processMetrics: options.processMetrics ?? false });
  const log = memoryLogger("debug");
  const clock: Clock = { nowMs: () => testNowMs, monotonicMs: () => performance.now() };
  const server = await startServer({
    config, service, logger: log.logger, metrics, clock,
    serverVersion: "test-1.2.3", idempotencyRetentionMs: testIdempotencyRetentionMs, holdTtlMs: testHoldTtlMs,
  });
  const posUrl = `ws://127.0.0.1:${server.posPort}/pos`;
  const httpUrl = `http://127.0.0.1:${server.httpPort}`;
  const clients: PosTestClient[] = [];
  const track = async (client: Promise<PosTestClient>): Promise<PosTestClient> => {
    const opened = await client;
    clients.push(opened);
    return opened;
  };

  const http: TestServer["http"] = (path, method = "GET") => new Promise((resolve, reject) => {
    const req = httpRequest(`${httpUrl}${path}`, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), contentType: res.headers["content-type"] }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });

  return {
    server, service, metrics, log, posUrl, httpUrl, http,
    connect: () => track(PosTestClient.connect(posUrl)),
    authenticated: () => track(PosTestClient.authenticated(posUrl)),
    metricValue: async (name, labels = {}) => {
      const metric = metrics.registry.getSingleMetric(name);
      if (metric === undefined) throw new Error(`no metric ${name}`);
      const data = await metric.get();
      const sample = data.values.find((value) =>
        ((value as { metricName?: string }).metricName ?? name) === name && Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected));
      return sample?.value ?? 0;
    },
    stop: async () => {
      await Promise.all(clients.map((client) => client.close()));
      server.close();
    },
  };
}

/**
 * For a test file: returns `serve(args)`, which starts a test server, and
 * registers an afterEach that stops the one the test started.
 */
export function serverPerTest(): (args?: string[]) => Promise<TestServer> {
  let running: TestServer | null = null;
  afterEach(async () => {
    await running?.stop();
    running = null;
  });
  return async (args = []) => {
    running = await startTestServer({ args });
    return running;
  };
}
