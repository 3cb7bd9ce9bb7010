// HTTP load next to the POS load: autocannon against the daemon's HTTP
// endpoints (/healthz, /metrics; the customer API when it exists), at a
// fixed total rate shared between the paths, for the length of a run.
//
// autocannon paces its requests per connection. Its own coordinated-omission
// correction is turned off: it back-fills with an expected interval of
// ceil(1 / per-connection rate) ms, i.e. 1 ms at any rate, which invents
// tens of milliseconds of latency at a few requests per second against a
// server that answers in one. The figures are therefore per-request service
// times of a paced (not open-loop) client: a second opinion on the HTTP side
// at rates well below saturation, not an SLO measurement.
import autocannon from "autocannon";

export const httpPaths = ["/healthz", "/metrics"] as const;

export interface HttpLoadOptions {
  /** Base URL, e.g. http://127.0.0.1:7780. */
  readonly baseUrl: string;
  /** Requests per second over all paths. */
  readonly rate: number;
  readonly seconds: number;
  readonly connectionsPerPath: number;
}

export interface HttpLoadResult {
  readonly path: string;
  readonly requests: number;
  readonly requestsPerS: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly mean: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}

export interface HttpLoad {
  readonly done: Promise<HttpLoadResult[]>;
  stop(): void;
}

export function startHttpLoad(options: HttpLoadOptions): HttpLoad {
  const perPath = Math.max(1, Math.round(options.rate / httpPaths.length));
  const instances = httpPaths.map((path) => autocannon({
    url: `${options.baseUrl}${path}`, connections: options.connectionsPerPath, overallRate: perPath,
    duration: options.seconds, timeout: 10, title: path, ignoreCoordinatedOmission: true,
  }));
  const done = Promise.all(instances).then((results) => results.map((r, i): HttpLoadResult => ({
    path: httpPaths[i]!, requests: r.requests.total, requestsPerS: r.requests.total / Math.max(r.duration, 1e-9),
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
    non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
  })));
  return { done, stop: () => { for (const i of instances) i.stop(); } };
}
