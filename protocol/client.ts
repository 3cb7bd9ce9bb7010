// The POS client: one terminal's connection to the daemon, used by POS
// integrations, the load-test harness, tests and examples.
//
// Contract
// - `connect()` opens a WebSocket, sends Hello and resolves with HelloResult.
//   An auth failure (UNAUTHENTICATED, FORBIDDEN, UNSUPPORTED_VERSION) rejects
//   with PosError and is final: the client never retries it on its own.
// - Every operation has a typed method resolving with its result message or
//   rejecting with one of the errors in client-errors.ts.
// - Pipelining: requests are correlated by request_id, a per-client counter
//   that is never 0 and never reused, so answers may come in any order.
// - Bounded memory: at most `window` requests on the wire (the smaller of
//   `inFlightMax` and the daemon's announced limit), at most `queueMax`
//   waiting behind them; beyond that a request is rejected at once with
//   PosBackpressureError. Nothing is written while the socket's own buffer
//   holds more than `bufferedBytesMax`.
// - Retry safety (SPEC P8): a request is encoded ONCE, without request_id.
//   When the connection drops, every unanswered request (mutating or read)
//   goes back to the head of the queue in its original order and, after the
//   client has reconnected and said Hello again, is re-sent as the very same
//   bytes with a new request_id prepended. A mutating request therefore keeps
//   its operation_id and content, and the daemon answers the original result
//   instead of doing it twice.
// - Requests made in one run of JavaScript (one callback and the promise jobs
//   after it) leave in one write to the socket; none waits for anything else.
// - A request's deadline is fixed when it is made; it keeps running while the
//   client reconnects. A timed-out mutating request has an UNKNOWN outcome:
//   the error carries its operationId, and re-issuing the operation with that
//   id is the safe retry. The client never re-sends it on its own afterwards.
// - `close()` stops new requests, lets outstanding ones finish (each bounded
//   by its deadline), closes the socket with 1000 and resolves when it has
//   closed; afterwards the client holds no socket and no timer.
// - A frame that cannot be decoded, a text frame or an answer nobody asked for
//   is reported with the "error" event (when someone listens) and counted in
//   stats(); it never throws out of a socket callback.
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import WebSocket from "ws";
import { ErrorCode, decodeResponse, encodeRequest, mutatingOperations, withRequestId, type loyalty } from "./codec.js";
import { frameBytesMax, protocolVersion } from "./limits.js";
import {
  PosBackpressureError, PosClientError, PosClosedError, PosConnectionError, PosError, PosProtocolError,
  PosRequestTooLargeError, PosTimeoutError,
} from "./client-errors.js";
import {
  clientDefaults, reconnectDelayMs, type CallOptions, type ClientOperation, type MutationInput, type PosCall,
  type PosClientEvents, type PosClientOptions, type PosClientState, type PosClientStats, type ReconnectOptions,
  type RequestOf, type ResultOf,
} from "./client-types.js";

export * from "./client-errors.js";
export * from "./client-types.js";

/** Hello answers that no amount of retrying will change. */
const fatalHelloCodes: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.ERROR_CODE_UNAUTHENTICATED, ErrorCode.ERROR_CODE_FORBIDDEN, ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION,
]);

/** The Response body case that answers each operation. */
const resultCase: Readonly<Record<ClientOperation, string>> = {
  ping: "pong", identify: "identify", calculate: "calculate", confirm: "confirm", cancel: "cancel", refund: "refund",
  history: "history", ledger: "ledger", register: "register", postOffline: "postOffline",
  giftCardActivate: "giftCardActivate", giftCardBalance: "giftCardBalance",
};

/** Bytes a request_id prefix can add to an encoded body (tag + 8-byte varint for ids below 2^53). */
const requestIdBytesMax = 9;

interface PendingRequest {
  readonly operation: ClientOperation;
  readonly operationId: string | undefined;
  /** The encoded Request without request_id: exactly what every (re-)send carries. */
  readonly body: Uint8Array;
  /** Order of creation; re-sends after a reconnect keep it. */
  readonly seq: number;
  readonly timeoutMs: number;
  /** queued → inFlight → settled; inFlight → abandoned when it timed out on the wire. */
  state: "queued" | "inFlight" | "abandoned" | "settled";
  sent: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** The Hello exchange of one connection attempt. */
interface HelloExchange {
  readonly socket: WebSocket;
  readonly requestId: number;
  readonly timer: NodeJS.Timeout;
  /** Why the attempt failed, once known; reported when the socket has closed. */
  failure: Error | undefined;
  socketError: Error | undefined;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

function positiveInteger(name: string, value: number, allowZero = false): number {
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new TypeError(`PosClient option ${name} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${value}`);
  }
  return value;
}

export class PosClient extends EventEmitter<PosClientEvents> {
  /** Sent as cashier_id with every following request (except ping). */
  cashierId: string;

  private readonly url: string;
  private readonly terminalId: string;
  private readonly secret: string;
  private readonly clientName: string;
  private readonly clientVersion: string;
  private readonly requestTimeoutMs: number;
  private readonly inFlightMax: number;
  private readonly queueMax: number;
  private readonly bufferedBytesMax: number;
  private readonly reconnectOptions: ReconnectOptions | undefined;
  private readonly keepAliveOption: number | undefined;
  private readonly random: () => number;

  private currentState: PosClientState = "idle";
  private socket: WebSocket | undefined;
  private hello: HelloExchange | undefined;
  private lastHello: loyalty.v1.HelloResult | undefined;
  private connectWaiter: Deferred<loyalty.v1.HelloResult> | undefined;
  private closeWaiter: Deferred<void> | undefined;

  /** Requests waiting for the window, in order; Set gives O(1) removal on timeout. */
  private queue = new Set<PendingRequest>();
  /** Requests on the current socket by request_id, including abandoned ones (they still occupy a daemon slot). */
  private readonly inFlight = new Map<number, PendingRequest>();
  private window: number;
  private frameLimit = frameBytesMax;
  private lastRequestId = 0;
  private lastSeq = 0;

  /** The TCP socket under ws while it is corked until the next microtask checkpoint (see corkUntilCheckpoint). */
  private corkedTransport: Duplex | undefined;

  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private keepAlivePingId = 0;
  private receivedSinceTick = false;

  private reconnects = 0;
  private protocolErrors = 0;
  private lateAnswers = 0;

  constructor(options: PosClientOptions) {
    super();
    this.url = options.url;
    this.terminalId = options.terminalId;
    this.secret = options.secret;
    this.cashierId = options.cashierId;
    this.clientName = options.clientName ?? clientDefaults.clientName;
    this.clientVersion = options.clientVersion ?? clientDefaults.clientVersion;
    this.requestTimeoutMs = positiveInteger("requestTimeoutMs", options.requestTimeoutMs ?? clientDefaults.requestTimeoutMs);
    this.inFlightMax = positiveInteger("inFlightMax", options.inFlightMax ?? clientDefaults.inFlightMax);
    this.queueMax = positiveInteger("queueMax", options.queueMax ?? clientDefaults.queueMax, true);
    this.bufferedBytesMax = positiveInteger("bufferedBytesMax", options.bufferedBytesMax ?? clientDefaults.bufferedBytesMax);
    this.window = this.inFlightMax;
    if (options.keepAliveMs !== undefined) this.keepAliveOption = positiveInteger("keepAliveMs", options.keepAliveMs, true);
    this.random = options.random ?? Math.random;
    if (options.reconnect === false) {
      this.reconnectOptions = undefined;
    } else {
      const r = { ...clientDefaults.reconnect, ...options.reconnect };
      positiveInteger("reconnect.initialDelayMs", r.initialDelayMs, true);
      positiveInteger("reconnect.maxDelayMs", r.maxDelayMs, true);
      if (!(r.factor >= 1) || !(r.jitter >= 0 && r.jitter <= 1)) {
        throw new TypeError(`PosClient reconnect.factor must be ≥ 1 and jitter in [0, 1], got ${r.factor} and ${r.jitter}`);
      }
      this.reconnectOptions = r;
    }
  }

  get state(): PosClientState {
    return this.currentState;
  }

  /** The HelloResult of the current (or last) session. */
  get helloResult(): loyalty.v1.HelloResult | undefined {
    return this.lastHello;
  }

  stats(): PosClientStats {
    return {
      inFlight: this.inFlight.size, queued: this.queue.size, reconnects: this.reconnects,
      protocolErrors: this.protocolErrors, lateAnswers: this.lateAnswers,
    };
  }

  /**
   * Opens the connection and authenticates. Requests made while it is pending
   * are queued. On failure the client returns to "idle" and may connect again.
   */
  connect(): Promise<loyalty.v1.HelloResult> {
    if (this.currentState !== "idle") {
      return Promise.reject(new PosClientError(`connect() called while ${this.currentState}`));
    }
    this.currentState = "connecting";
    const waiter = deferred<loyalty.v1.HelloResult>();
    this.connectWaiter = waiter;
    try {
      this.startAttempt();
    } catch (error) {
      // ws throws synchronously on a malformed URL.
      this.currentState = "idle";
      this.connectWaiter = undefined;
      waiter.reject(new PosConnectionError(`cannot connect to ${this.url}: ${(error as Error).message}`, "hello", undefined, { cause: error }));
    }
    return waiter.promise;
  }

  /**
   * Closes the client for good and resolves once its socket has closed.
   * Graceful by default: new requests are rejected, outstanding ones are
   * answered or time out, then the socket closes with 1000. With
   * `{ drain: false }`, and always while (re)connecting since nobody is there
   * to answer, outstanding requests are rejected with PosClosedError at once.
   */
  close(options: { drain?: boolean } = {}): Promise<void> {
    if (options.drain === false && this.currentState === "open") {
      this.currentState = "closing";
      this.closeWaiter = deferred();
      this.failAll((p) => new PosClosedError(`client closed; ${p.operation} ${p.sent ? "may have reached the daemon" : "was not sent"}`, p.sent, p.operation, p.operationId));
      this.closeWhenDrained();
      return this.closeWaiter.promise;
    }
    switch (this.currentState) {
      case "idle":
        this.currentState = "closed";
        return Promise.resolve();
      case "closed":
        return Promise.resolve();
      case "closing":
        return this.closeWaiter!.promise;
      case "open":
        this.currentState = "closing";
        this.closeWaiter = deferred();
        this.closeWhenDrained();
        return this.closeWaiter.promise;
      case "connecting":
      case "reconnecting":
        this.currentState = "closing";
        this.closeWaiter = deferred();
        this.clearReconnectTimer();
        if (this.socket) this.socket.terminate(); // the close event finishes the close
        else this.finishClose(undefined);
        return this.closeWaiter.promise;
    }
  }

  ping(nonce?: number, options?: CallOptions): Promise<loyalty.v1.Pong> {
    return this.call("ping", { nonce: nonce ?? this.lastSeq + 1 }, options);
  }

  identify(request: RequestOf<"identify">, options?: CallOptions): Promise<loyalty.v1.IdentifyResult> {
    return this.call("identify", request, options);
  }

  history(request: RequestOf<"history">, options?: CallOptions): Promise<loyalty.v1.HistoryResult> {
    return this.call("history", request, options);
  }

  ledger(request: RequestOf<"ledger">, options?: CallOptions): Promise<loyalty.v1.LedgerResult> {
    return this.call("ledger", request, options);
  }

  giftCardBalance(request: RequestOf<"giftCardBalance">, options?: CallOptions): Promise<loyalty.v1.GiftCardBalanceResult> {
    return this.call("giftCardBalance", request, options);
  }

  calculate(request: MutationInput<RequestOf<"calculate">>, options?: CallOptions): PosCall<loyalty.v1.CalculateResult, string> {
    return this.call("calculate", request, options) as PosCall<loyalty.v1.CalculateResult, string>;
  }

  confirm(request: MutationInput<RequestOf<"confirm">>, options?: CallOptions): PosCall<loyalty.v1.ConfirmResult, string> {
    return this.call("confirm", request, options) as PosCall<loyalty.v1.ConfirmResult, string>;
  }

  cancel(request: MutationInput<RequestOf<"cancel">>, options?: CallOptions): PosCall<loyalty.v1.CancelResult, string> {
    return this.call("cancel", request, options) as PosCall<loyalty.v1.CancelResult, string>;
  }

  refund(request: MutationInput<RequestOf<"refund">>, options?: CallOptions): PosCall<loyalty.v1.RefundResult, string> {
    return this.call("refund", request, options) as PosCall<loyalty.v1.RefundResult, string>;
  }

  register(request: MutationInput<RequestOf<"register">>, options?: CallOptions): PosCall<loyalty.v1.RegisterResult, string> {
    return this.call("register", request, options) as PosCall<loyalty.v1.RegisterResult, string>;
  }

  postOffline(request: MutationInput<RequestOf<"postOffline">>, options?: CallOptions): PosCall<loyalty.v1.PostOfflineResult, string> {
    return this.call("postOffline", request, options) as PosCall<loyalty.v1.PostOfflineResult, string>;
  }

  giftCardActivate(request: MutationInput<RequestOf<"giftCardActivate">>, options?: CallOptions): PosCall<loyalty.v1.GiftCardActivateResult, string> {
    return this.call("giftCardActivate", request, options) as PosCall<loyalty.v1.GiftCardActivateResult, string>;
  }

  /**
   * Any operation by name (for harnesses that pick operations from a mix).
   * Mutating operations get an operation_id when the body has none.
   */
  call<Op extends ClientOperation>(operation: Op, message: RequestOf<Op> | MutationInput<RequestOf<Op>>, options?: CallOptions): PosCall<ResultOf<Op>> {
    const mutating = mutatingOperations.has(operation);
    let operationId: string | undefined;
    let body = message as Record<string, unknown>;
    if (mutating) {
      operationId = (body["operationId"] as string | null | undefined) || randomUUID();
      body = { ...body, operationId };
    }
    const call = this.enqueue(operation, body, mutating, operationId, options) as PosCall<ResultOf<Op>>;
    return Object.defineProperty(call, "operationId", { value: operationId, enumerable: true });
  }

  private enqueue(operation: ClientOperation, message: object, mutating: boolean, operationId: string | undefined, options: CallOptions | undefined): Promise<unknown> {
    const state = this.currentState;
    if (state === "idle" || state === "closing" || state === "closed") {
      return Promise.reject(new PosClosedError(`client is ${state}; ${operation} not sent`, false, operation, operationId));
    }
    let body: Uint8Array;
    let timeoutMs: number;
    try {
      timeoutMs = options?.timeoutMs === undefined ? this.requestTimeoutMs : positiveInteger("timeoutMs", options.timeoutMs);
      const request: loyalty.v1.Request.$Properties = operation === "ping" ? {} : { cashierId: options?.cashierId ?? this.cashierId };
      (request as Record<string, unknown>)[operation] = message;
      body = encodeRequest(request);
    } catch (error) {
      // A bad timeoutMs, or protobufjs throwing on a value of the wrong type
      // (only reachable past the TS types): the caller's bug, reported as a rejection.
      return Promise.reject(new PosClientError(`${operation} could not be sent: ${(error as Error).message}`, operation, operationId, { cause: error }));
    }
    // The daemon closes the connection on an oversized frame; sending one would
    // make the client reconnect and re-send it forever.
    if (body.length + requestIdBytesMax > this.frameLimit) {
      return Promise.reject(new PosRequestTooLargeError(body.length, this.frameLimit, operation, operationId));
    }
    const canSendNow = this.queue.size === 0 && this.canWrite();
    if (!canSendNow && this.queue.size >= this.queueMax) {
      return Promise.reject(new PosBackpressureError(this.inFlight.size, this.queue.size, operation, operationId));
    }
    return new Promise((resolve, reject) => {
      const pending: PendingRequest = {
        operation, operationId: mutating ? operationId : undefined, body, seq: ++this.lastSeq, timeoutMs,
        state: "queued", sent: false, timer: undefined, resolve, reject,
      };
      pending.timer = setTimeout(this.onRequestTimeout, timeoutMs, pending);
      if (canSendNow) this.write(pending);
      else this.queue.add(pending);
    });
  }

  /** True when one more request may go on the wire now. */
  private canWrite(): boolean {
    const socket = this.socket;
    return (this.currentState === "open" || this.currentState === "closing")
      && socket !== undefined && this.hello === undefined && socket.readyState === WebSocket.OPEN
      && this.inFlight.size < this.window && socket.bufferedAmount <= this.bufferedBytesMax;
  }

  private write(pending: PendingRequest): void {
    const requestId = this.nextRequestId();
    pending.state = "inFlight";
    pending.sent = true;
    this.inFlight.set(requestId, pending);
    const socket = this.socket!;
    this.corkUntilCheckpoint(socket);
    socket.send(withRequestId(pending.body, requestId), this.onWritten);
  }

  /**
   * Frames written in one run of JavaScript (a timer callback, or the promise
   * jobs that follow the answers of one read, each sending its next request)
   * leave in one writev instead of one syscall each: the TCP socket under ws
   * is corked at the first write and uncorked by a microtask. Microtasks run
   * before the event loop polls I/O or runs a timer again, so no frame waits
   * for anything but the JavaScript already running. Each write is a syscall
   * that on loopback also delivers the segment and wakes the receiver, in the
   * sender's time, so fewer writes spare both sides. ws keeps its net.Socket as
   * `_socket`, which is not public API: without it frames go out one by one.
   */
  private corkUntilCheckpoint(socket: WebSocket): void {
    if (this.corkedTransport !== undefined) return;
    const transport = (socket as unknown as { _socket?: Duplex | null })._socket;
    if (transport == null || typeof transport.cork !== "function") return;
    transport.cork();
    this.corkedTransport = transport;
    queueMicrotask(this.uncorkTransport);
  }

  private readonly uncorkTransport = (): void => {
    const transport = this.corkedTransport;
    this.corkedTransport = undefined;
    transport?.uncork();
  };

  /** Sends queued requests while the window and the socket buffer allow. */
  private pump(): void {
    while (this.queue.size > 0 && this.canWrite()) {
      const next = this.queue.values().next().value!;
      this.queue.delete(next);
      this.write(next);
    }
  }

  /**
   * ws calls this when a frame has been handed to the kernel: the moment the
   * buffer shrank, so queued requests held back by bufferedBytesMax may go.
   * A write error needs no handling here: the socket closes and the close
   * handler re-queues everything that was in flight.
   */
  private readonly onWritten = (error?: Error): void => {
    if (error === undefined && this.queue.size > 0) this.pump();
  };

  private readonly onRequestTimeout = (pending: PendingRequest): void => {
    pending.timer = undefined;
    if (pending.state === "queued") {
      this.queue.delete(pending);
      pending.state = "settled";
    } else if (pending.state === "inFlight") {
      // Stays in inFlight: the daemon still counts it against our window until it answers or the socket closes.
      pending.state = "abandoned";
    } else {
      return;
    }
    pending.reject(new PosTimeoutError(pending.timeoutMs, pending.sent, pending.operation, pending.operationId));
    if (this.currentState === "closing") this.closeWhenDrained();
  };

  private nextRequestId(): number {
    this.lastRequestId = this.lastRequestId >= Number.MAX_SAFE_INTEGER ? 1 : this.lastRequestId + 1;
    return this.lastRequestId;
  }

  // ---------------------------------------------------------------------------
  // Connection attempts
  // ---------------------------------------------------------------------------

  private startAttempt(): void {
    const socket = new WebSocket(this.url, {
      perMessageDeflate: false, // frames are small protobuf; compression only adds latency
      maxPayload: frameBytesMax,
      handshakeTimeout: this.requestTimeoutMs,
      followRedirects: false,
    });
    socket.binaryType = "nodebuffer";
    const exchange: HelloExchange = {
      socket, requestId: this.nextRequestId(), failure: undefined, socketError: undefined,
      timer: setTimeout(() => {
        exchange.failure ??= new PosTimeoutError(this.requestTimeoutMs, true, "hello");
        socket.terminate();
      }, this.requestTimeoutMs),
    };
    this.socket = socket;
    this.hello = exchange;
    socket.on("open", () => {
      socket.send(withRequestId(encodeRequest({
        hello: {
          protocolVersion, terminalId: this.terminalId, secret: this.secret,
          clientName: this.clientName, clientVersion: this.clientVersion,
        },
      }), exchange.requestId));
    });
    socket.on("message", (data, isBinary) => this.onFrame(socket, data as Buffer, isBinary));
    // ws always emits "close" after "error"; the close handler does the work.
    socket.on("error", (error) => {
      exchange.socketError ??= error;
    });
    socket.on("close", (code, reason) => this.onSocketClose(socket, code, reason.toString()));
  }

  private onHelloAnswer(exchange: HelloExchange, response: loyalty.v1.Response): void {
    if (response.error) {
      const e = response.error;
      exchange.failure = new PosError(e.code ?? ErrorCode.ERROR_CODE_UNSPECIFIED, e.message ?? "", e.details ?? {}, e.retryAfterMs ?? 0, "hello");
      exchange.socket.terminate();
      return;
    }
    const hello = response.hello as loyalty.v1.HelloResult | null | undefined;
    if (!hello || hello.protocolVersion !== protocolVersion) {
      exchange.failure = new PosProtocolError(hello
        ? `daemon speaks protocol version ${hello.protocolVersion}, this client ${protocolVersion}`
        : `hello answered with ${response.body ?? "an empty body"}`, "hello");
      exchange.socket.terminate();
      return;
    }
    clearTimeout(exchange.timer);
    this.hello = undefined;
    this.onSessionOpen(hello);
  }

  private onSessionOpen(hello: loyalty.v1.HelloResult): void {
    const reconnected = this.currentState === "reconnecting";
    this.lastHello = hello;
    const limits = hello.limits;
    this.window = Math.min(this.inFlightMax, limits?.inFlightMax || Infinity);
    this.frameLimit = Math.min(frameBytesMax, limits?.frameBytesMax || Infinity);
    this.reconnectAttempt = 0;
    if (reconnected) this.reconnects += 1;
    this.currentState = "open";
    this.startKeepAlive(limits?.idleTimeoutMs ?? 0);
    const waiter = this.connectWaiter;
    this.connectWaiter = undefined;
    this.emit("connected", hello, { reconnected });
    waiter?.resolve(hello);
    this.pump();
  }

  private onSocketClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.stopKeepAlive();
    const exchange = this.hello;
    if (exchange) {
      this.hello = undefined;
      clearTimeout(exchange.timer);
      const failure = exchange.failure ?? new PosConnectionError(
        `connection to ${this.url} closed before hello was answered (${exchange.socketError?.message ?? `code ${code}`})`,
        "hello", undefined, { cause: exchange.socketError },
      );
      this.onAttemptFailed(failure);
      return;
    }
    // An established session ended: everything unanswered goes back to the
    // head of the queue in its original order, to be re-sent as is.
    this.requeueInFlight();
    if (this.currentState === "closing") {
      this.finishClose(undefined);
      return;
    }
    const willReconnect = this.reconnectOptions !== undefined;
    this.emit("disconnected", { code, reason, willReconnect });
    if (!willReconnect) {
      this.currentState = "closing";
      this.finishClose(new PosConnectionError(`connection closed (code ${code}) and reconnect is off`));
      return;
    }
    this.currentState = "reconnecting";
    this.scheduleReconnect(undefined);
  }

  private onAttemptFailed(failure: Error): void {
    switch (this.currentState) {
      case "closing":
        this.finishClose(undefined);
        return;
      case "connecting": {
        this.currentState = "idle";
        this.failAll((p) => new PosClosedError(`connect failed: ${failure.message}`, p.sent, p.operation, p.operationId, failure));
        const waiter = this.connectWaiter;
        this.connectWaiter = undefined;
        waiter?.reject(failure);
        return;
      }
      case "reconnecting":
        if (failure instanceof PosProtocolError || (failure instanceof PosError && fatalHelloCodes.has(failure.code))) {
          this.currentState = "closing";
          this.finishClose(failure);
        } else {
          this.scheduleReconnect(failure);
        }
        return;
      default:
        throw new Error(`assertion failed: connection attempt ended while ${this.currentState}`);
    }
  }

  private scheduleReconnect(lastError: Error | undefined): void {
    const options = this.reconnectOptions!;
    let delayMs = reconnectDelayMs(this.reconnectAttempt, options, this.random);
    if (lastError instanceof PosError) delayMs = Math.max(delayMs, lastError.retryAfterMs);
    this.reconnectAttempt += 1;
    this.emit("reconnecting", { attempt: this.reconnectAttempt, delayMs, error: lastError });
    // A listener may have closed the client.
    if (this.currentState !== "reconnecting") return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.startAttempt();
    }, delayMs);
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private requeueInFlight(): void {
    const resend: PendingRequest[] = [];
    for (const pending of this.inFlight.values()) {
      if (pending.state === "inFlight") {
        pending.state = "queued";
        resend.push(pending);
      }
    }
    this.inFlight.clear();
    if (resend.length === 0) return;
    resend.sort((a, b) => a.seq - b.seq);
    this.queue = new Set([...resend, ...this.queue]);
  }

  // ---------------------------------------------------------------------------
  // Frames
  // ---------------------------------------------------------------------------

  private onFrame(socket: WebSocket, data: Buffer, isBinary: boolean): void {
    if (socket !== this.socket) return;
    this.receivedSinceTick = true;
    if (!isBinary) {
      this.reportProtocolError(new PosProtocolError(`the daemon sent a text frame (${data.length} bytes); the protocol uses binary frames only`));
      return;
    }
    let response: loyalty.v1.Response;
    try {
      response = decodeResponse(data);
    } catch (error) {
      this.reportProtocolError(new PosProtocolError(`undecodable frame from the daemon (${data.length} bytes): ${(error as Error).message}`, undefined, undefined, { cause: error }));
      return;
    }
    const requestId = response.requestId;
    const exchange = this.hello;
    if (exchange !== undefined) {
      if (requestId === exchange.requestId) this.onHelloAnswer(exchange, response);
      else this.reportProtocolError(new PosProtocolError(`answer to request ${requestId} before hello was answered`));
      return;
    }
    if (requestId !== 0 && requestId === this.keepAlivePingId) {
      this.keepAlivePingId = 0;
      return;
    }
    const pending = this.inFlight.get(requestId);
    if (pending === undefined) {
      const what = response.error ? `error ${response.error.code}: ${response.error.message}` : response.body;
      this.reportProtocolError(new PosProtocolError(`answer for unknown request_id ${requestId} (${what})`));
      return;
    }
    this.inFlight.delete(requestId);
    if (pending.state === "abandoned") {
      this.lateAnswers += 1;
    } else {
      this.settle(pending, response);
    }
    if (this.queue.size > 0) this.pump();
    if (this.currentState === "closing") this.closeWhenDrained();
  }

  private settle(pending: PendingRequest, response: loyalty.v1.Response): void {
    clearTimeout(pending.timer);
    pending.timer = undefined;
    pending.state = "settled";
    const { operation, operationId } = pending;
    const error = response.error;
    if (error) {
      pending.reject(new PosError(error.code ?? ErrorCode.ERROR_CODE_UNSPECIFIED, error.message ?? "", error.details ?? {}, error.retryAfterMs ?? 0, operation, operationId));
      return;
    }
    const expected = resultCase[operation];
    if (response.body !== expected) {
      const failure = new PosProtocolError(`${operation} answered with ${response.body ?? "an empty body"}`, operation, operationId);
      pending.reject(failure);
      this.reportProtocolError(failure);
      return;
    }
    pending.resolve((response as unknown as Record<string, unknown>)[expected]);
  }

  /**
   * Without a listener, emitting "error" would throw out of the socket
   * callback and crash the process, which is exactly what must not happen;
   * the count in stats() still records it.
   */
  private reportProtocolError(error: Error): void {
    this.protocolErrors += 1;
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }

  // ---------------------------------------------------------------------------
  // Keep-alive
  // ---------------------------------------------------------------------------

  private startKeepAlive(idleTimeoutMs: number): void {
    const intervalMs = this.keepAliveOption ?? Math.floor(idleTimeoutMs / 3);
    if (intervalMs <= 0) return;
    this.receivedSinceTick = true;
    this.keepAlivePingId = 0;
    this.keepAliveTimer = setInterval(this.onKeepAliveTick, intervalMs);
  }

  private stopKeepAlive(): void {
    if (this.keepAliveTimer !== undefined) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
    this.keepAlivePingId = 0;
  }

  private readonly onKeepAliveTick = (): void => {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) return;
    if (this.receivedSinceTick) {
      this.receivedSinceTick = false;
      if (this.keepAlivePingId === -1) this.keepAlivePingId = 0;
      return;
    }
    if (this.keepAlivePingId !== 0) {
      // A whole interval without even a Pong: the path is dead (a NAT dropped
      // it, the daemon hangs). Replacing the socket re-sends what is unanswered.
      socket.terminate();
      return;
    }
    if (this.inFlight.size >= this.window) {
      // A ping now would exceed the daemon's in-flight limit. The full window
      // is as good a probe: its answers are due, so silence until the next
      // tick means the same as an unanswered ping.
      this.keepAlivePingId = -1;
      return;
    }
    this.keepAlivePingId = this.nextRequestId();
    socket.send(withRequestId(encodeRequest({ ping: { nonce: this.keepAlivePingId } }), this.keepAlivePingId));
  };

  // ---------------------------------------------------------------------------
  // Closing
  // ---------------------------------------------------------------------------

  /** While closing: once nothing is queued or awaiting an answer, close the socket. */
  private closeWhenDrained(): void {
    if (this.queue.size > 0) return;
    for (const pending of this.inFlight.values()) if (pending.state === "inFlight") return;
    const socket = this.socket;
    if (socket === undefined) {
      this.finishClose(undefined);
    } else if (socket.readyState === WebSocket.OPEN) {
      socket.close(1000, "client closing");
    }
  }

  /** Rejects everything outstanding, stops every timer and enters "closed". */
  private finishClose(error: Error | undefined): void {
    if (this.currentState === "closed") return;
    this.currentState = "closed";
    this.clearReconnectTimer();
    this.stopKeepAlive();
    this.failAll((p) => new PosClosedError(`client closed${error ? `: ${error.message}` : ""}; ${p.operation} ${p.sent ? "may have reached the daemon" : "was not sent"}`, p.sent, p.operation, p.operationId, error));
    for (const pending of this.inFlight.values()) clearTimeout(pending.timer);
    this.inFlight.clear();
    const connectWaiter = this.connectWaiter;
    this.connectWaiter = undefined;
    connectWaiter?.reject(error ?? new PosClosedError("client closed before it connected", false));
    this.emit("closed", { error });
    this.closeWaiter?.resolve();
  }

  private failAll(makeError: (pending: PendingRequest) => Error): void {
    const victims = [...this.inFlight.values(), ...this.queue].filter((p) => p.state === "queued" || p.state === "inFlight");
    this.queue.clear();
    for (const [id, pending] of this.inFlight) if (pending.state === "inFlight") this.inFlight.delete(id);
    for (const pending of victims) {
      clearTimeout(pending.timer);
      pending.timer = undefined;
      pending.state = "settled";
      pending.reject(makeError(pending));
    }
  }
}
