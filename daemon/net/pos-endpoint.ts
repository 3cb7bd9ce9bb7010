// The POS WebSocket endpoint: the uWS behavior for /pos, the session state
// machine (hello first), per-connection limits, and the hand-off of
// authenticated requests to the PosService.
//
// Every frame gets exactly one of: an answer, or a closed connection. The
// treatment of bad frames (documented in the protocol and tested in
// pos-endpoint.test.ts):
//
//   text frame                       MALFORMED (request_id 0), close 1003
//   larger than frameBytesMax        close 1009, no answer; past twice that,
//                                    uWS drops the TCP connection (client sees 1006)
//   not a decodable Request          MALFORMED (request_id 0); the 10th on a
//                                    connection closes it with 1008
//   request_id 0 or past 2^53        INVALID_ARGUMENT (request_id 0), details.field=request_id
//   request_id already in flight     INVALID_ARGUMENT (request_id 0, so the
//                                    answer cannot be mistaken for the original's)
//   while shutting down              UNAVAILABLE with retry_after_ms
//   empty or unknown body            UNKNOWN_OPERATION
//   anything but hello before hello  UNAUTHENTICATED
//   hello, wrong protocol_version    UNSUPPORTED_VERSION   } the 3rd failed hello
//   hello, bad credentials           the service's code    } closes with 1008
//   hello after a successful hello   INVALID_ARGUMENT, details.field=hello
//   more than in-flight max          LIMIT_EXCEEDED, details.limit=in_flight_max, retry_after_ms
//   cashier_id empty or > 64 bytes   INVALID_ARGUMENT, details.field=cashier_id
//   service throws or rejects        INTERNAL (logged with the operation, never the frame)
//
// Failure policy: an exception while handling one frame is answered INTERNAL
// and logged; the connection and every other one carry on. The exception is
// an AssertionError (daemon/assert.ts): a broken invariant crashes the
// process on purpose, as everywhere in the daemon.
//
// Answers to requests that were in flight when their connection closed are
// dropped (and counted): uWS throws on any use of a closed socket.
import uWS from "uWebSockets.js";
import type { HttpRequest, HttpResponse, WebSocket, WebSocketBehavior, us_socket_context_t } from "uWebSockets.js";
import { ErrorCode, decodeRequest, encodeResponse, errorBody, withRequestId, type Operation, type Request } from "../../protocol/codec.js";
import { idBytesMax, linesMax, protocolVersion, secretBytesMax } from "../../protocol/limits.js";
import { AssertionError } from "../assert.js";
import type { ConnectionLimits } from "../config.js";
import { drainRetryAfterMs, frameBytesHardFactor, helloFailuresPerConnectionMax, inFlightRetryAfterMs, malformedFramesPerConnectionMax } from "../constants.js";
import type { Logger } from "../observability/logger.js";
import { codeLabel, type FrameRejectReason, type Metrics } from "../observability/metrics.js";
import type { Clock } from "./clock.js";
import { ConnectionTable, type Connection, type SettledRequest, type SocketData } from "./connection.js";
import type { ExecuteResult, PosService } from "./pos-service.js";

/** WebSocket close codes (RFC 6455 §7.4.1) the endpoint sends. */
export const closeCodes = {
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
} as const;

/** What HelloResult announces beyond the connection limits. */
export interface HelloAnnouncement {
  readonly serverVersion: string;
  /** How long operation_id answers are remembered (the engine's value); 0 = not announced. */
  readonly idempotencyRetentionMs: number;
  /** How long a calculation's hold lives (the merchant program's value); 0 = not announced. */
  readonly holdTtlMs: number;
}

export interface PosEndpointDeps {
  readonly limits: ConnectionLimits;
  readonly service: PosService;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly hello: HelloAnnouncement;
}

/** Metric label for frames that never decoded to an operation. */
const malformedLabel = "malformed";
/** Metric label for a decoded Request with no (known) body. */
const unknownLabel = "unknown";

/** True when `text` is longer than idBytesMax bytes in UTF-8. */
function idTooLong(text: string): boolean {
  // A UTF-16 unit encodes to at most 3 bytes, so short strings need no count.
  return text.length * 3 > idBytesMax && Buffer.byteLength(text, "utf8") > idBytesMax;
}

function isPromiseLike<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function isExecuteResult(value: unknown): value is ExecuteResult {
  return typeof value === "object" && value !== null && (value as ExecuteResult).body instanceof Uint8Array && typeof (value as ExecuteResult).errorCode === "number";
}

export class PosEndpoint {
  readonly connections = new ConnectionTable();
  private draining = false;
  /** Connections with settled requests to answer at the next flush, each once. */
  private connectionsToFlush: Connection[] = [];
  private readonly flushCallback = (): void => this.flushSettled();
  /** Labelled metric children by operation and code (bounded: both are finite enums). */
  private readonly requestCounters = new Map<string, { inc(): void }>();
  private readonly requestDurations = new Map<string, { observe(value: number): void }>();

  constructor(private readonly deps: PosEndpointDeps) {}

  get isDraining(): boolean {
    return this.draining;
  }

  /** The uWS behavior for the /pos route. Every option is set on purpose, none left to uWS defaults. */
  behavior(): WebSocketBehavior<SocketData> {
    const { limits } = this.deps;
    return {
      // uWS's own cap; frames between frameBytesMax and this are closed with
      // 1009 by onMessage (see frameBytesHardFactor in constants.ts for why).
      maxPayloadLength: limits.frameBytesMax * frameBytesHardFactor,
      // A reader this far behind is closed instead of buffered for.
      maxBackpressure: limits.backpressureBytesMax,
      // Declared as a number in this uWS build's types; any non-zero value
      // means "close the connection when a send is dropped for backpressure".
      closeOnBackpressureLimit: 1,
      idleTimeout: limits.idleTimeoutMs / 1000,
      // Pings keep a live but quiet till connected and expose dead peers.
      sendPingsAutomatically: true,
      // Frames are small protobuf; deflate would cost CPU and memory per
      // connection (and opens compression-bomb questions) for little gain.
      compression: uWS.DISABLED,
      // Tills stay connected all day; no forced reconnects.
      maxLifetime: 0,
      upgrade: (res, req, context) => this.onUpgrade(res, req, context),
      open: (ws) => this.onOpen(ws),
      message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
      close: (ws, code) => this.onClose(ws, code),
    };
  }

  /** From now on new frames get UNAVAILABLE and new upgrades 503. */
  startDraining(): void {
    this.draining = true;
  }

  /** Closes every open connection with a close frame. */
  closeAll(code: number, reason: string): void {
    for (const connection of this.connections.snapshot()) {
      const socket = connection.socket;
      // end() runs the close handler at once, which clears connection.socket.
      if (socket !== null) socket.cork(() => socket.end(code, reason));
    }
  }

  private onUpgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
    const { metrics, limits } = this.deps;
    if (this.draining || this.connections.size >= limits.connectionsMax) {
      const reason = this.draining ? "draining" : "connections_max";
      metrics.posUpgradesRefused.labels(reason).inc();
      res.writeStatus("503 Service Unavailable").writeHeader("Retry-After", "1").end(this.draining ? "shutting down\n" : "too many connections\n", true);
      return;
    }
    const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString("latin1");
    const data: SocketData = { connection: this.connections.create(remoteAddress) };
    // uWS calls open() from inside upgrade(), so the connection is counted
    // before the next upgrade is considered: connectionsMax is exact.
    // No subprotocol is negotiated: echoing the client's would claim support
    // for something we do not implement.
    res.upgrade(data, req.getHeader("sec-websocket-key"), "", req.getHeader("sec-websocket-extensions"), context);
  }

  private onOpen(ws: WebSocket<SocketData>): void {
    const connection = ws.getUserData().connection;
    this.connections.opened(connection, ws);
    this.deps.metrics.posConnectionsOpen.set(this.connections.size);
    this.deps.logger.debug({ connectionId: connection.id, remoteAddress: connection.remoteAddress }, "connection opened");
  }

  private onClose(ws: WebSocket<SocketData>, code: number): void {
    const connection = ws.getUserData().connection;
    this.connections.closed(connection);
    this.deps.metrics.posConnectionsOpen.set(this.connections.size);
    this.deps.logger.debug({ connectionId: connection.id, terminalId: connection.session?.terminalId, code, inFlight: connection.inFlight.size }, "connection closed");
  }

  private onMessage(ws: WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean): void {
    const receivedAtMs = this.deps.clock.monotonicMs();
    const connection = ws.getUserData().connection;
    try {
      this.handleFrame(connection, message, isBinary, receivedAtMs);
    } catch (error) {
      this.crashOnAssertion(error);
      this.deps.logger.error({ err: error, connectionId: connection.id }, "frame handling failed");
      this.answerError(connection, 0, malformedLabel, ErrorCode.ERROR_CODE_INTERNAL, "internal error", receivedAtMs);
    }
  }

  private handleFrame(connection: Connection, message: ArrayBuffer, isBinary: boolean, receivedAtMs: number): void {
    const { limits } = this.deps;
    if (!isBinary) {
      this.rejectFrame("text");
      this.answerError(connection, 0, malformedLabel, ErrorCode.ERROR_CODE_MALFORMED, "text frames are not part of the protocol; send binary frames", receivedAtMs);
      this.close(connection, closeCodes.unsupportedData, "binary frames only");
      return;
    }
    if (message.byteLength > limits.frameBytesMax) {
      this.rejectFrame("too_big");
      this.close(connection, closeCodes.messageTooBig, "frame too big");
      return;
    }

    let request: Request;
    try {
      // The view is only valid during this handler (uWS neuters the buffer on
      // return). Decoding copies every value out: Request has no `bytes`
      // fields (a test guards that), so nothing keeps a view of it.
      request = decodeRequest(new Uint8Array(message));
    } catch {
      // The decoder's message describes protobuf internals, not the client's
      // intent; the MALFORMED code is all there is to say.
      this.rejectMalformed(connection, receivedAtMs);
      return;
    }

    const operation: Operation | undefined = request.body ?? undefined;
    const label = operation ?? unknownLabel;
    const requestId = request.requestId;
    if (!Number.isSafeInteger(requestId) || requestId <= 0) {
      this.rejectFrame("bad_request_id");
      this.answerError(connection, 0, label, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, "request_id must be between 1 and 2^53-1", receivedAtMs, { field: "request_id" });
      return;
    }
    if (connection.inFlight.has(requestId)) {
      this.rejectFrame("bad_request_id");
      this.answerError(connection, 0, label, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `request_id ${requestId} is already in flight on this connection`, receivedAtMs,
        { field: "request_id", request_id: String(requestId) });
      return;
    }

    try {
      this.handleRequest(connection, request, requestId, operation, receivedAtMs);
    } catch (error) {
      this.crashOnAssertion(error);
      this.deps.logger.error({ err: error, connectionId: connection.id, operation: label, requestId }, "request handling failed");
      this.answerError(connection, requestId, label, ErrorCode.ERROR_CODE_INTERNAL, "internal error; retry with the same operation_id", receivedAtMs);
    }
  }

  private handleRequest(connection: Connection, request: Request, requestId: number, operation: Operation | undefined, receivedAtMs: number): void {
    const { limits } = this.deps;
    if (this.draining) {
      this.answerError(connection, requestId, operation ?? unknownLabel, ErrorCode.ERROR_CODE_UNAVAILABLE, "the server is shutting down; reconnect and retry", receivedAtMs,
        undefined, drainRetryAfterMs);
      return;
    }
    if (operation === undefined) {
      this.rejectFrame("unknown_operation");
      this.answerError(connection, requestId, unknownLabel, ErrorCode.ERROR_CODE_UNKNOWN_OPERATION, "the request body is empty or an operation this server does not know", receivedAtMs);
      return;
    }
    if (operation === "hello") {
      this.handleHello(connection, request, requestId, receivedAtMs);
      return;
    }
    const session = connection.session;
    if (session === null) {
      this.answerError(connection, requestId, operation, ErrorCode.ERROR_CODE_UNAUTHENTICATED, "send hello first", receivedAtMs);
      return;
    }
    if (operation === "ping") {
      const nonce = request.ping?.nonce ?? 0;
      if (!Number.isSafeInteger(nonce)) {
        this.answerError(connection, requestId, operation, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, "ping.nonce must be below 2^53", receivedAtMs, { field: "ping.nonce" });
        return;
      }
      this.answer(connection, requestId, operation, 0, encodeResponse({ pong: { nonce, serverTimeAtMs: this.deps.clock.nowMs() } }), receivedAtMs);
      return;
    }
    if (connection.inFlight.size >= limits.inFlightPerConnectionMax) {
      this.answerError(connection, requestId, operation, ErrorCode.ERROR_CODE_LIMIT_EXCEEDED, `at most ${limits.inFlightPerConnectionMax} requests may be in flight on one connection`,
        receivedAtMs, { limit: "in_flight_max", in_flight_max: String(limits.inFlightPerConnectionMax) }, inFlightRetryAfterMs);
      return;
    }
    const cashierId = request.cashierId;
    if (cashierId === "" || idTooLong(cashierId)) {
      this.answerError(connection, requestId, operation, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `cashier_id is required (1..${idBytesMax} bytes)`, receivedAtMs, { field: "cashier_id" });
      return;
    }

    let outcome: ExecuteResult | Promise<ExecuteResult>;
    try {
      outcome = this.deps.service.execute(session, request);
    } catch (error) {
      this.crashOnAssertion(error);
      this.failInternal(connection, requestId, operation, receivedAtMs, error);
      return;
    }
    if (!isPromiseLike(outcome)) {
      this.answerResult(connection, requestId, operation, receivedAtMs, outcome);
      return;
    }
    this.connections.startRequest(connection, requestId);
    outcome.then(
      (result) => this.settle(connection, requestId, operation, receivedAtMs, result, undefined),
      (error: unknown) => this.settle(connection, requestId, operation, receivedAtMs, undefined, error ?? new Error("execute rejected without a reason")),
    );
  }

  /**
   * An async execute() settled: queue its answer and flush in a microtask, so
   * that every answer a group commit releases to one connection goes out under
   * one cork (one socket write) instead of one write each. The flush is queued
   * before the request leaves the in-flight count, so a shutdown waiting for
   * that count to reach zero runs after these answers are sent.
   */
  private settle(connection: Connection, requestId: number, operation: Operation, receivedAtMs: number, result: ExecuteResult | undefined, error: unknown): void {
    try {
      connection.settled.push({ requestId, operation, receivedAtMs, result, error });
      if (connection.settled.length === 1) {
        if (this.connectionsToFlush.length === 0) queueMicrotask(this.flushCallback);
        this.connectionsToFlush.push(connection);
      }
      this.connections.finishRequest(connection, requestId);
    } catch (failure) {
      // Rethrown from a promise callback, an AssertionError becomes an
      // unhandled rejection, which ends the process like an uncaught exception.
      this.crashOnAssertion(failure);
      this.deps.logger.error({ err: failure, connectionId: connection.id, operation, requestId }, "answer failed");
    }
  }

  /** Answers every queued settled request, one cork per connection (we are outside a uWS callback), or drops them if the socket closed. */
  private flushSettled(): void {
    const connections = this.connectionsToFlush;
    this.connectionsToFlush = [];
    for (const connection of connections) {
      const settled = connection.settled;
      connection.settled = [];
      const respond = (): void => {
        for (const s of settled) this.respondSettled(connection, s);
      };
      try {
        // A closed socket: still counted as answered (the work happened), then dropped in answer().
        if (connection.socket === null) respond();
        else connection.socket.cork(respond);
      } catch (failure) {
        // Thrown from a microtask, an AssertionError ends the process like any uncaught exception.
        this.crashOnAssertion(failure);
        this.deps.logger.error({ err: failure, connectionId: connection.id }, "answer failed");
      }
    }
  }

  private respondSettled(connection: Connection, s: SettledRequest): void {
    try {
      if (s.error !== undefined) this.failInternal(connection, s.requestId, s.operation, s.receivedAtMs, s.error);
      else this.answerResult(connection, s.requestId, s.operation, s.receivedAtMs, s.result);
    } catch (failure) {
      this.crashOnAssertion(failure);
      this.deps.logger.error({ err: failure, connectionId: connection.id, operation: s.operation, requestId: s.requestId }, "answer failed");
    }
  }

  /** Broken invariants crash the process (see daemon/assert.ts); anything else is the caller's to handle. */
  private crashOnAssertion(error: unknown): void {
    if (!(error instanceof AssertionError)) return;
    this.deps.logger.fatal({ err: error }, "assertion failed; crashing");
    throw error;
  }

  private answerResult(connection: Connection, requestId: number, operation: Operation, receivedAtMs: number, result: unknown): void {
    if (!isExecuteResult(result)) {
      this.failInternal(connection, requestId, operation, receivedAtMs, new TypeError("PosService.execute returned something other than { body: Uint8Array, errorCode: number }"));
      return;
    }
    this.answer(connection, requestId, operation, result.errorCode, result.body, receivedAtMs);
  }

  private failInternal(connection: Connection, requestId: number, operation: Operation, receivedAtMs: number, error: unknown): void {
    // The operation and ids only: the frame may hold card numbers and phones.
    this.deps.logger.error({ err: error, operation, requestId, connectionId: connection.id, terminalId: connection.session?.terminalId }, "execute failed");
    this.answerError(connection, requestId, operation, ErrorCode.ERROR_CODE_INTERNAL, "internal error; retry with the same operation_id", receivedAtMs);
  }

  private handleHello(connection: Connection, request: Request, requestId: number, receivedAtMs: number): void {
    const { service, logger, clock, limits, hello: announced } = this.deps;
    if (connection.session !== null) {
      this.answerError(connection, requestId, "hello", ErrorCode.ERROR_CODE_INVALID_ARGUMENT, "this connection is already authenticated", receivedAtMs, { field: "hello" });
      return;
    }
    const hello = request.hello ?? {};
    const version = hello.protocolVersion ?? 0;
    if (version !== protocolVersion) {
      this.failHello(connection, requestId, receivedAtMs, ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION, `protocol version ${version} is not served; this server speaks ${protocolVersion}`,
        { supported: String(protocolVersion) });
      return;
    }
    const terminalId = hello.terminalId ?? "";
    const secret = hello.secret ?? "";
    if (terminalId === "" || idTooLong(terminalId)) {
      this.failHello(connection, requestId, receivedAtMs, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `hello.terminal_id is required (1..${idBytesMax} bytes)`, { field: "hello.terminal_id" });
      return;
    }
    // Checked before authenticate so a huge secret costs no hashing.
    if (secret === "" || Buffer.byteLength(secret, "utf8") > secretBytesMax) {
      this.failHello(connection, requestId, receivedAtMs, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `hello.secret is required (1..${secretBytesMax} bytes)`, { field: "hello.secret" });
      return;
    }
    const outcome = service.authenticate(terminalId, secret);
    if (!outcome.ok) {
      // A service answering "failed" with code 0 would send UNSPECIFIED, which is never valid.
      const code = outcome.code === ErrorCode.ERROR_CODE_UNSPECIFIED ? ErrorCode.ERROR_CODE_UNAUTHENTICATED : outcome.code;
      logger.warn({ connectionId: connection.id, remoteAddress: connection.remoteAddress, terminalId, code: codeLabel(code) }, "hello refused");
      this.failHello(connection, requestId, receivedAtMs, code, outcome.message);
      return;
    }
    const session = outcome.session;
    connection.session = session;
    logger.info({
      connectionId: connection.id, remoteAddress: connection.remoteAddress, terminalId: session.terminalId, merchantId: session.merchantId, storeId: session.storeId,
      clientName: (hello.clientName ?? "").slice(0, idBytesMax), clientVersion: (hello.clientVersion ?? "").slice(0, idBytesMax),
    }, "terminal authenticated");
    const body = encodeResponse({
      hello: {
        protocolVersion,
        serverVersion: announced.serverVersion,
        merchantId: session.merchantId,
        storeId: session.storeId,
        terminalId: session.terminalId,
        serverTimeAtMs: clock.nowMs(),
        limits: {
          frameBytesMax: limits.frameBytesMax,
          inFlightMax: limits.inFlightPerConnectionMax,
          idleTimeoutMs: limits.idleTimeoutMs,
          linesMax,
          idempotencyRetentionMs: announced.idempotencyRetentionMs,
          holdTtlMs: session.holdTtlMs ?? announced.holdTtlMs,
        },
      },
    });
    this.answer(connection, requestId, "hello", 0, body, receivedAtMs);
  }

  private failHello(connection: Connection, requestId: number, receivedAtMs: number, code: ErrorCode, message: string, details?: Record<string, string>): void {
    connection.helloFailures += 1;
    this.answerError(connection, requestId, "hello", code, message, receivedAtMs, details);
    if (connection.helloFailures >= helloFailuresPerConnectionMax) this.close(connection, closeCodes.policyViolation, "too many failed hellos");
  }

  private rejectMalformed(connection: Connection, receivedAtMs: number): void {
    connection.malformedFrames += 1;
    this.rejectFrame("malformed");
    this.answerError(connection, 0, malformedLabel, ErrorCode.ERROR_CODE_MALFORMED, "the frame is not a valid Request", receivedAtMs);
    if (connection.malformedFrames >= malformedFramesPerConnectionMax) this.close(connection, closeCodes.policyViolation, "too many malformed frames");
  }

  private rejectFrame(reason: FrameRejectReason): void {
    this.deps.metrics.posFramesRejected.labels(reason).inc();
  }

  private answerError(connection: Connection, requestId: number, label: string, code: ErrorCode, message: string, receivedAtMs: number,
    details?: Record<string, string>, retryAfterMs?: number): void {
    this.answer(connection, requestId, label, code, errorBody(code, message, details, retryAfterMs), receivedAtMs);
  }

  /** Sends one answer and records it. `body` is an encoded Response without request_id. */
  private answer(connection: Connection, requestId: number, label: string, code: number, body: Uint8Array, receivedAtMs: number): void {
    const { metrics, clock } = this.deps;
    const counterKey = `${label}\u0000${codeLabel(code)}`;
    let counter = this.requestCounters.get(counterKey);
    if (counter === undefined) {
      counter = metrics.posRequests.labels(label, codeLabel(code));
      this.requestCounters.set(counterKey, counter);
    }
    counter.inc();
    const socket = connection.socket;
    if (socket === null) {
      metrics.posAnswersDropped.labels("closed").inc();
      return;
    }
    // 2: dropped because the reader is past maxBackpressure; uWS is closing
    // the connection (closeOnBackpressureLimit). 0: buffered, drains later.
    if (socket.send(withRequestId(body, requestId), true, false) === 2) metrics.posAnswersDropped.labels("backpressure").inc();
    let duration = this.requestDurations.get(label);
    if (duration === undefined) {
      duration = metrics.posRequestDuration.labels(label);
      this.requestDurations.set(label, duration);
    }
    duration.observe((clock.monotonicMs() - receivedAtMs) / 1000);
  }

  private close(connection: Connection, code: number, reason: string): void {
    const socket = connection.socket;
    // end() sends the buffered answer first, then the close frame.
    if (socket !== null) socket.end(code, reason);
  }
}
