// The operations HTTP endpoints, on their own uWS app and port:
//
//   GET /healthz  200 "ok" while the process serves (liveness: restart me if not)
//   GET /readyz   200 when the service is ready and the server not draining,
//                 else 503 (readiness: send me traffic or not)
//   GET /metrics  Prometheus text exposition of the daemon's registry
//   anything else 404; another method on these paths 405
//
// A separate app and port rather than extra routes on the POS app: the POS
// port faces the stores' network, this one only the monitoring network, and
// neither serves the other's routes.
import uWS from "uWebSockets.js";
import type { HttpResponse, TemplatedApp } from "uWebSockets.js";
import type { Registry } from "prom-client";
import type { Logger } from "../observability/logger.js";

export interface HttpEndpointDeps {
  readonly registry: Registry;
  /** Readiness as /readyz reports it, with the reason when not ready. */
  readonly readiness: () => { readonly ready: true } | { readonly ready: false; readonly reason: string };
  readonly logger: Logger;
}

const textPlain = "text/plain; charset=utf-8";

function reply(res: HttpResponse, status: string, body: string, contentType = textPlain): void {
  // Connection: close on every answer. Scrapes and probes come every few
  // seconds, so keep-alive saves nothing, and an idle kept-alive socket would
  // hold the process open for uWS's HTTP timeout after close().
  res.writeStatus(status).writeHeader("Content-Type", contentType).writeHeader("Cache-Control", "no-store").end(body, true);
}

export function createHttpApp(deps: HttpEndpointDeps): TemplatedApp {
  const { registry, readiness, logger } = deps;
  const app = uWS.App();

  app.get("/healthz", (res) => reply(res, "200 OK", "ok\n"));

  app.get("/readyz", (res) => {
    let state: ReturnType<typeof readiness>;
    try {
      state = readiness();
    } catch (error) {
      logger.error({ err: error }, "readiness check failed");
      state = { ready: false, reason: "readiness check failed" };
    }
    if (state.ready) reply(res, "200 OK", "ready\n");
    else reply(res, "503 Service Unavailable", `not ready: ${state.reason}\n`);
  });

  app.get("/metrics", (res) => {
    // registry.metrics() is async (collectors may await); uWS requires an
    // abort handler before returning and corking for the late answer.
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    registry.metrics().then(
      (text) => {
        if (!aborted) res.cork(() => reply(res, "200 OK", text, registry.contentType));
      },
      (error: unknown) => {
        logger.error({ err: error }, "metrics collection failed");
        if (!aborted) res.cork(() => reply(res, "500 Internal Server Error", "metrics collection failed\n"));
      },
    );
  });

  for (const path of ["/healthz", "/readyz", "/metrics"]) {
    app.any(path, (res) => {
      res.writeStatus("405 Method Not Allowed").writeHeader("Allow", "GET").end("", true);
    });
  }
  app.any("/*", (res) => reply(res, "404 Not Found", "not found\n"));
  return app;
}
