// The error catalogue of the POS client (protocol/client.ts). One class per way
// a request can fail, each with a stable `name`, so callers branch on
// `instanceof` (or `name`) and never on message text.
//
//   PosClientError          base class; `operation` and, for mutating requests,
//   │                       the `operationId` to retry with
//   ├─ PosError             the daemon answered with an Error: `code` (ErrorCode),
//   │                       `details`, `retryAfterMs`. Business declines land here.
//   ├─ PosTimeoutError      no answer within requestTimeoutMs. For a mutating
//   │                       request the outcome is UNKNOWN: retry it with the
//   │                       same operationId and the daemon answers the original.
//   ├─ PosBackpressureError in-flight window and queue are full; nothing was sent
//   ├─ PosClosedError       the client was closed (or never connected); a request
//   │                       rejected with it may or may not have reached the daemon
//   │                       if it was on the wire (see `sent`)
//   ├─ PosRequestTooLargeError the encoded request exceeds the frame limit; not sent
//   ├─ PosConnectionError   the socket could not be opened or dropped during hello
//   └─ PosProtocolError     the daemon sent something this client cannot use
//                           (undecodable frame, an answer of the wrong type)
import type { ErrorCode } from "./codec.js";

export class PosClientError extends Error {
  override name = "PosClientError";
  /** The Request body case, e.g. "confirm"; undefined for connection-level errors. */
  readonly operation: string | undefined;
  /** Set for mutating operations: retry with this id to get the original answer. */
  readonly operationId: string | undefined;

  constructor(message: string, operation?: string, operationId?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.operation = operation;
    this.operationId = operationId;
  }
}

/** The daemon answered the request with `Error`. */
export class PosError extends PosClientError {
  override name = "PosError";
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, string>>;
  /** 0 when the daemon did not ask for a pause before retrying. */
  readonly retryAfterMs: number;

  constructor(code: ErrorCode, message: string, details: Record<string, string>, retryAfterMs: number, operation?: string, operationId?: string) {
    super(message, operation, operationId);
    this.code = code;
    this.details = details;
    this.retryAfterMs = retryAfterMs;
  }
}

export class PosTimeoutError extends PosClientError {
  override name = "PosTimeoutError";
  readonly timeoutMs: number;
  /** True when the request had been written to a socket at least once. */
  readonly sent: boolean;

  constructor(timeoutMs: number, sent: boolean, operation?: string, operationId?: string) {
    super(`${operation ?? "request"} not answered within ${timeoutMs} ms`, operation, operationId);
    this.timeoutMs = timeoutMs;
    this.sent = sent;
  }
}

export class PosBackpressureError extends PosClientError {
  override name = "PosBackpressureError";
  readonly inFlight: number;
  readonly queued: number;

  constructor(inFlight: number, queued: number, operation?: string, operationId?: string) {
    super(`client saturated: ${inFlight} requests in flight and ${queued} queued`, operation, operationId);
    this.inFlight = inFlight;
    this.queued = queued;
  }
}

export class PosClosedError extends PosClientError {
  override name = "PosClosedError";
  readonly sent: boolean;

  constructor(message: string, sent: boolean, operation?: string, operationId?: string, cause?: Error) {
    super(message, operation, operationId, cause === undefined ? undefined : { cause });
    this.sent = sent;
  }
}

/** The encoded request would exceed the frame limit; it was not sent (the daemon would close the connection). */
export class PosRequestTooLargeError extends PosClientError {
  override name = "PosRequestTooLargeError";
  readonly bytes: number;
  readonly limit: number;

  constructor(bytes: number, limit: number, operation?: string, operationId?: string) {
    super(`${operation ?? "request"} encodes to ${bytes} bytes; frames are limited to ${limit}`, operation, operationId);
    this.bytes = bytes;
    this.limit = limit;
  }
}

export class PosConnectionError extends PosClientError {
  override name = "PosConnectionError";
}

export class PosProtocolError extends PosClientError {
  override name = "PosProtocolError";
}
