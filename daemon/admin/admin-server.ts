// The admin channel: HTTP on its own port (7701, loopback unless configured),
// one route per method:
//
//   POST /v1/<method>   body: a JSON object of parameters
//                       header: Authorization: Bearer <user>.<secret>
//   200 {"result": …}                      done
//   400/404/409 {"error": {kind, message, field?}}   bad parameters, unknown, conflict
//   401 wrong or missing credential; 413 body too large; 503 shutting down
//
// Admin users are records in the `admins` table (secret stored hashed with a
// salt, compared in constant time); the first one is created at the first
// start and its token written to <data>/admin-credentials.json (mode 0600).
// Refused credentials are logged (the user name only) and counted; they are
// not journaled, so a flood of bad attempts cannot fill the journal.
import { timingSafeEqual } from "node:crypto";
import uWS from "uWebSockets.js";
import type { HttpResponse, us_listen_socket } from "uWebSockets.js";
import type { AdminUserRecord } from "../engine/admin.js";
import { boundPort, listen } from "../net/server.js";
import type { Logger } from "../observability/logger.js";
import { hashSecret } from "../seed.js";
import type { Store } from "../storage/store.js";
import { parseAdminToken, type AdminApi } from "./admin-api.js";

/** Largest request body: an import chunk of 1,000 rows is ~250 KiB of JSON. */
export const adminBodyBytesMax = 8 * 1024 * 1024;

export interface AdminServerOptions {
  api: AdminApi;
  store: Store;
  logger: Logger;
  host: string;
  port: number;
  /** Called for each refused credential (metrics). */
  onRefused?: () => void;
}

export interface RunningAdminServer {
  readonly port: number;
  close(): void;
}

const dummySalt = "0".repeat(32);

/** The user a token belongs to, or null (unknown user, wrong secret, disabled). */
export function authenticateAdmin(store: Store, header: string): string | null {
  const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
  const parsed = parseAdminToken(token);
  const user = parsed ? store.read((tx) => tx.get<AdminUserRecord>("admins", parsed.user)) : undefined;
  // Hash even for unknown users so timing does not reveal which names exist.
  const computed = Buffer.from(hashSecret(user?.salt ?? dummySalt, parsed?.secret ?? ""), "hex");
  const stored = Buffer.from(user?.secretHash ?? "", "hex");
  const match = stored.length === computed.length && timingSafeEqual(stored, computed);
  return user && match && !user.disabled ? user.name : null;
}

function send(res: HttpResponse, status: string, body: unknown): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader("Content-Type", "application/json").writeHeader("Cache-Control", "no-store").end(JSON.stringify(body));
  });
}

const statusText: Record<number, string> = {
  200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found", 409: "409 Conflict",
  413: "413 Payload Too Large", 500: "500 Internal Server Error", 503: "503 Service Unavailable",
};

export async function startAdminServer(options: AdminServerOptions): Promise<RunningAdminServer> {
  const { api, store, logger } = options;
  let closing = false;
  const app = uWS.App();

  app.post("/v1/:method", (res, req) => {
    const method = req.getParameter(0) ?? "";
    const user = closing ? null : authenticateAdmin(store, req.getHeader("authorization"));
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    if (closing) {
      send(res, statusText[503]!, { error: { kind: "unavailable", message: "the daemon is shutting down" } });
      return;
    }
    if (user === null) {
      options.onRefused?.();
      const claimed = parseAdminToken(req.getHeader("authorization").replace(/^Bearer /, ""))?.user ?? "";
      logger.warn({ method, user: claimed.slice(0, 64) }, "admin credential refused");
      send(res, statusText[401]!, { error: { kind: "unauthenticated", message: "wrong or missing admin credential (Authorization: Bearer <user>.<secret>)" } });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (aborted || size < 0) return;
      size += chunk.byteLength;
      if (size > adminBodyBytesMax) {
        size = -1;
        send(res, statusText[413]!, { error: { kind: "too_large", message: `the body is larger than ${adminBodyBytesMax} bytes` } });
        return;
      }
      // uWS reuses the chunk's memory after this callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (!isLast) return;
      let params: unknown;
      try {
        const text = Buffer.concat(chunks).toString("utf8");
        params = text.trim() === "" ? {} : JSON.parse(text);
      } catch {
        send(res, statusText[400]!, { error: { kind: "invalid", message: "the body is not valid JSON" } });
        return;
      }
      const started = Date.now();
      api.call(method, params, user).then(
        (outcome) => {
          logger.info({ user, method, status: outcome.ok ? 200 : outcome.status, ms: Date.now() - started }, "admin call");
          if (aborted) return;
          if (outcome.ok) send(res, statusText[200]!, { result: outcome.result });
          else send(res, statusText[outcome.status]!, { error: { kind: outcome.kind, message: outcome.message, ...(outcome.field ? { field: outcome.field } : {}) } });
        },
        (error: unknown) => {
          logger.error({ err: error, user, method }, "admin call failed");
          if (!aborted) send(res, statusText[500]!, { error: { kind: "internal", message: "internal error; see the daemon's log" } });
        },
      );
    });
  });
  app.any("/*", (res) => {
    res.writeStatus("404 Not Found").writeHeader("Content-Type", "application/json")
      .end(JSON.stringify({ error: { kind: "not_found", message: "use POST /v1/<method>" } }));
  });

  let listenSocket: us_listen_socket | null = await listen(app, options.host, options.port, "admin");
  const port = boundPort(listenSocket);
  logger.info({ host: options.host, adminPort: port }, "admin channel listening");
  return {
    port,
    close: () => {
      closing = true;
      if (listenSocket !== null) uWS.us_listen_socket_close(listenSocket);
      listenSocket = null;
    },
  };
}
