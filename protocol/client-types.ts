// Public types of the POS client (client.ts): the operations with their
// request and result messages, options with their defaults, events, and the
// reconnect backoff schedule. Re-exported by client.ts; import from there.
import type { loyalty, Operation } from "./codec.js";
import { frameBytesMax } from "./limits.js";

/** Request body type and result type of every operation a client may call. */
export interface OperationTypes {
  ping: { request: loyalty.v1.Ping.$Properties; result: loyalty.v1.Pong };
  identify: { request: loyalty.v1.IdentifyRequest.$Properties; result: loyalty.v1.IdentifyResult };
  calculate: { request: loyalty.v1.CalculateRequest.$Properties; result: loyalty.v1.CalculateResult };
  confirm: { request: loyalty.v1.ConfirmRequest.$Properties; result: loyalty.v1.ConfirmResult };
  cancel: { request: loyalty.v1.CancelRequest.$Properties; result: loyalty.v1.CancelResult };
  refund: { request: loyalty.v1.RefundRequest.$Properties; result: loyalty.v1.RefundResult };
  history: { request: loyalty.v1.HistoryRequest.$Properties; result: loyalty.v1.HistoryResult };
  ledger: { request: loyalty.v1.LedgerRequest.$Properties; result: loyalty.v1.LedgerResult };
  register: { request: loyalty.v1.RegisterRequest.$Properties; result: loyalty.v1.RegisterResult };
  postOffline: { request: loyalty.v1.PostOfflineRequest.$Properties; result: loyalty.v1.PostOfflineResult };
  giftCardActivate: { request: loyalty.v1.GiftCardActivateRequest.$Properties; result: loyalty.v1.GiftCardActivateResult };
  giftCardBalance: { request: loyalty.v1.GiftCardBalanceRequest.$Properties; result: loyalty.v1.GiftCardBalanceResult };
}
export type ClientOperation = keyof OperationTypes & Operation;
export type RequestOf<Op extends ClientOperation> = OperationTypes[Op]["request"];
export type ResultOf<Op extends ClientOperation> = OperationTypes[Op]["result"];

/** A mutating request body whose operation_id the client generates when absent. */
export type MutationInput<T> = Omit<T, "operationId"> & { operationId?: string | null };

/**
 * The promise of a request plus its operation_id (set for mutating
 * operations), available at once so a POS can persist it before the answer.
 */
export type PosCall<T, Id extends string | undefined = string | undefined> = Promise<T> & { readonly operationId: Id };

export interface CallOptions {
  /** Overrides `requestTimeoutMs` for this request. */
  timeoutMs?: number;
  /** Overrides the client's cashier for this request. */
  cashierId?: string;
}

export interface ReconnectOptions {
  /** Delay before the first reconnect attempt. */
  initialDelayMs: number;
  /** Upper bound of the delay between attempts. */
  maxDelayMs: number;
  /** Growth of the delay per failed attempt (≥ 1). */
  factor: number;
  /** 0..1: the fraction of each delay that is randomised away, so thousands of tills do not reconnect in lockstep. */
  jitter: number;
}

export interface PosClientOptions {
  /** ws:// or wss:// URL of the daemon's POS endpoint, e.g. ws://127.0.0.1:7700/pos. */
  url: string;
  terminalId: string;
  secret: string;
  /** Sent with every request except ping; changeable later with `client.cashierId = …`. */
  cashierId: string;
  requestTimeoutMs?: number;
  /** Requests on the wire at once; the daemon's announced limit wins when smaller. */
  inFlightMax?: number;
  /** Requests waiting behind the in-flight window; more are rejected at once. */
  queueMax?: number;
  /** `false` turns reconnecting off: a dropped connection closes the client. */
  reconnect?: Partial<ReconnectOptions> | false;
  clientName?: string;
  clientVersion?: string;
  /** Stop writing while the socket has buffered more than this many bytes. */
  bufferedBytesMax?: number;
  /**
   * Interval of the keep-alive check: a ping goes out after one silent
   * interval, and the connection is considered dead (and replaced) after a
   * second one. Default: a third of the daemon's idle_timeout_ms; 0 turns it off.
   */
  keepAliveMs?: number;
  /** Source of randomness for jitter, in [0, 1). Replaceable for deterministic simulations. */
  random?: () => number;
}

export type PosClientState = "idle" | "connecting" | "open" | "reconnecting" | "closing" | "closed";

export interface PosClientEvents {
  /** A session is established (first connect or reconnect) and queued requests are being sent. */
  connected: [hello: loyalty.v1.HelloResult, info: { reconnected: boolean }];
  /** An established session was lost. */
  disconnected: [info: { code: number; reason: string; willReconnect: boolean }];
  /** A reconnect attempt is scheduled in `delayMs`; `error` is why the previous attempt failed, if one did. */
  reconnecting: [info: { attempt: number; delayMs: number; error: Error | undefined }];
  /** The client reached its final state; `error` is set when it gave up (e.g. credentials revoked). */
  closed: [info: { error: Error | undefined }];
  /** Something the daemon sent could not be used; the connection stays up. */
  error: [error: Error];
}

export interface PosClientStats {
  readonly inFlight: number;
  readonly queued: number;
  readonly reconnects: number;
  /** Frames that could not be decoded or used (see the "error" event). */
  readonly protocolErrors: number;
  /** Answers that arrived after their request had timed out. */
  readonly lateAnswers: number;
}

/** Defaults, each chosen for a till on a shop LAN talking to a sub-millisecond daemon. */
export const clientDefaults = {
  /** Long enough to ride out a commit stall or a short network hiccup, short enough for a cashier to notice. */
  requestTimeoutMs: 5_000,
  /** A till rarely has more than a few requests outstanding; the load harness raises it. */
  inFlightMax: 64,
  queueMax: 1_024,
  /** Four maximum-size frames. */
  bufferedBytesMax: 4 * frameBytesMax,
  reconnect: { initialDelayMs: 100, maxDelayMs: 10_000, factor: 2, jitter: 0.5 } satisfies ReconnectOptions,
  clientName: "loyalty-ts-client",
  clientVersion: "0.1.0",
} as const;

/**
 * The delay before reconnect attempt number `attempt` (0-based): exponential
 * growth from initialDelayMs, capped at maxDelayMs, then reduced by up to
 * `jitter` of itself. Pure, so the schedule is testable without a clock.
 */
export function reconnectDelayMs(attempt: number, options: ReconnectOptions, random: () => number): number {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** attempt);
  return Math.round(base * (1 - options.jitter * random()));
}
