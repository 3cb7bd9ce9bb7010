// The network server: the POS WebSocket endpoint and the operations HTTP
// endpoints, each on its own uWS app and port, and their life cycle.
//
//   startServer   listens on both ports (port 0 = ephemeral; the bound ports
//                 are reported), resolves once both accept connections
//   drain()       graceful shutdown: stops accepting POS connections, answers
//                 new frames UNAVAILABLE, waits for every in-flight request
//                 to be answered (at most shutdownGraceMs), then closes the
//                 POS connections with 1001. /readyz says 503 from the start;
//                 /healthz and /metrics keep serving.
//   close()       closes whatever is left: the HTTP port, and (without a
//                 drain) the POS port and connections at once. Idempotent.
//
// Files: pos-endpoint.ts (frames, sessions, limits), connection.ts
// (connection state, in-flight accounting), http.ts (health, readiness,
// metrics), pos-service.ts (the boundary to the engine).
import uWS from "uWebSockets.js";
import type { TemplatedApp, us_listen_socket } from "uWebSockets.js";
import type { Config } from "../config.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { Clock } from "./clock.js";
import { createHttpApp } from "./http.js";
import { PosEndpoint, closeCodes } from "./pos-endpoint.js";
import type { PosService } from "./pos-service.js";

export interface StartServerOptions {
  readonly config: Config;
  readonly service: PosService;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** Announced in HelloResult.server_version. */
  readonly serverVersion?: string;
  /** Announced in HelloResult.limits (the engine's value); 0 or absent = not announced. */
  readonly idempotencyRetentionMs?: number;
  /** Announced in HelloResult.limits (the program's value); 0 or absent = not announced. */
  readonly holdTtlMs?: number;
}

export interface RunningServer {
  /** The bound POS port (the real one when 0 was asked for). */
  readonly posPort: number;
  /** The bound HTTP port. */
  readonly httpPort: number;
  /** Graceful shutdown; resolves when the POS connections are closed. Repeated calls share one drain. */
  drain(): Promise<void>;
  /** Closes both ports and any connection left. Idempotent. */
  close(): void;
}

export function listen(app: TemplatedApp, host: string, port: number, what: string): Promise<us_listen_socket> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (listenSocket) => {
      if (listenSocket === false) reject(new Error(`cannot listen for ${what} on ${host}:${port} (address in use or not available)`));
      else resolve(listenSocket);
    });
  });
}

export function boundPort(listenSocket: us_listen_socket): number {
  // A listen socket is a socket to uSockets; the types keep them apart.
  return uWS.us_socket_local_port(listenSocket as never);
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, service, logger, metrics, clock } = options;
  const pos = new PosEndpoint({
    limits: config.connection, service, logger, metrics, clock,
    hello: {
      serverVersion: options.serverVersion ?? "unknown",
      idempotencyRetentionMs: options.idempotencyRetentionMs ?? 0,
      holdTtlMs: options.holdTtlMs ?? 0,
    },
  });
  const posApp = uWS.App()
    .ws("/pos", pos.behavior())
    // Plain HTTP and upgrades to other paths on the POS port.
    .any("/*", (res) => { res.writeStatus("404 Not Found").end("not found\n", true); });
  const httpApp = createHttpApp({
    registry: metrics.registry,
    logger,
    readiness: () => {
      if (pos.isDraining) return { ready: false, reason: "shutting down" };
      if (!service.isReady()) return { ready: false, reason: "service not ready" };
      return { ready: true };
    },
  });

  let posListen: us_listen_socket | null = await listen(posApp, config.host, config.posPort, "POS");
  let httpListen: us_listen_socket | null;
  try {
    httpListen = await listen(httpApp, config.host, config.httpPort, "HTTP");
  } catch (error) {
    uWS.us_listen_socket_close(posListen);
    throw error;
  }
  const posPort = boundPort(posListen);
  const httpPort = boundPort(httpListen);
  logger.info({ host: config.host, posPort, httpPort }, "listening");

  let drained: Promise<void> | null = null;
  let graceTimer: NodeJS.Timeout | null = null;

  const closePosListen = (): void => {
    if (posListen !== null) uWS.us_listen_socket_close(posListen);
    posListen = null;
  };

  const drain = async (): Promise<void> => {
    pos.startDraining();
    closePosListen();
    const inFlight = pos.connections.inFlightTotal;
    logger.info({ connections: pos.connections.size, inFlight, graceMs: config.shutdownGraceMs }, "draining");
    if (inFlight > 0) {
      let timedOut = false;
      graceTimer = setTimeout(() => { timedOut = true; pos.connections.releaseIdleWaiters(); }, config.shutdownGraceMs);
      await pos.connections.whenIdle();
      clearTimeout(graceTimer);
      graceTimer = null;
      if (timedOut) logger.warn({ inFlight: pos.connections.inFlightTotal, graceMs: config.shutdownGraceMs }, "shutdown grace period over; closing with requests in flight");
    }
    pos.closeAll(closeCodes.goingAway, "server shutting down");
    logger.info("drained");
  };

  return {
    posPort,
    httpPort,
    drain: () => (drained ??= drain()),
    close: () => {
      pos.startDraining();
      closePosListen();
      if (httpListen !== null) uWS.us_listen_socket_close(httpListen);
      httpListen = null;
      // A drain still waiting gives up now; it then closes the connections too.
      if (graceTimer !== null) { clearTimeout(graceTimer); graceTimer = null; }
      pos.connections.releaseIdleWaiters();
      pos.closeAll(closeCodes.goingAway, "server closing");
    },
  };
}
