// Encoding and decoding of POS frames, shared by the daemon and the client.
//
// Contract: a frame is one encoded `loyalty.v1.Request` (terminal → daemon) or
// `loyalty.v1.Response` (daemon → terminal). Answers to operations that are
// remembered for idempotency are stored as the encoded Response *without*
// request_id; `withRequestId` prepends the correlation id of the request being
// answered, so a retried operation gets byte-identical body bytes.
import "./long-off.js";
import { loyalty } from "./generated/loyalty.js";

export { loyalty };
export const pb = loyalty.v1;
export type Request = loyalty.v1.Request;
export type Response = loyalty.v1.Response;
export const ErrorCode = loyalty.v1.ErrorCode;
export type ErrorCode = loyalty.v1.ErrorCode;

/** The `body` oneof cases of a Request, i.e. the operations. */
export type Operation = NonNullable<loyalty.v1.Request["body"]>;
export type ResponseBody = NonNullable<loyalty.v1.Response["body"]>;

/**
 * Operations that change state. Each carries operation_id and is idempotent
 * per terminal; a client may re-send them unanswered after a reconnect.
 */
export const mutatingOperations: ReadonlySet<Operation> = new Set<Operation>([
  "calculate", "confirm", "cancel", "refund", "register", "postOffline", "giftCardActivate",
]);

/** Operations that only read; safe to retry freely and served by replicas. */
export const readOperations: ReadonlySet<Operation> = new Set<Operation>([
  "identify", "history", "ledger", "giftCardBalance",
]);

export function encodeRequest(request: loyalty.v1.Request.$Properties): Uint8Array {
  return pb.Request.encode(request).finish();
}

/** Throws on bytes that are not a Request; callers map that to MALFORMED. */
export function decodeRequest(bytes: Uint8Array): loyalty.v1.Request {
  return pb.Request.decode(bytes);
}

export function encodeResponse(response: loyalty.v1.Response.$Properties): Uint8Array {
  return pb.Response.encode(response).finish();
}

export function decodeResponse(bytes: Uint8Array): loyalty.v1.Response {
  return pb.Response.decode(bytes);
}

/**
 * Prepends field 1 (request_id, varint) to an encoded Response body. Protobuf
 * parsers accept fields in any order, so the result decodes as the Response
 * with that request_id. `requestId` must be a safe non-negative integer.
 */
export function withRequestId(body: Uint8Array, requestId: number): Uint8Array {
  if (requestId === 0) return body;
  let length = 1; // the tag byte
  for (let v = requestId; ; v = Math.floor(v / 128)) {
    length += 1;
    if (v < 128) break;
  }
  const out = new Uint8Array(length + body.length);
  out[0] = 0x08; // field 1, wire type 0 (varint)
  let i = 1;
  let v = requestId;
  while (v >= 128) {
    out[i++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[i++] = v;
  out.set(body, i);
  return out;
}

/** An encoded Response body holding only an error (no request_id). */
export function errorBody(code: ErrorCode, message: string, details?: Record<string, string>, retryAfterMs?: number): Uint8Array {
  return encodeResponse({ error: { code, message, details: details ?? {}, retryAfterMs: retryAfterMs ?? 0 } });
}
