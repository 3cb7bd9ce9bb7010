// The boundary between the network layer (daemon/net) and the engine with its
// storage (daemon/service.ts). The network layer owns frames, sessions and
// limits; the service owns meaning. Tests of the network layer use a fake.
import type { ErrorCode, Request } from "../../protocol/codec.js";

/** What a successful hello binds a connection to. */
export interface TerminalSession {
  readonly merchantId: string;
  readonly storeId: string;
  readonly terminalId: string;
  /** The merchant program's hold lifetime at hello, announced in HelloResult.limits. */
  readonly holdTtlMs?: number;
}

export type AuthOutcome =
  | { readonly ok: true; readonly session: TerminalSession }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** An answer: the encoded Response body without request_id, and its error code (0 = success). */
export interface ExecuteResult {
  readonly body: Uint8Array;
  readonly errorCode: ErrorCode;
}

export interface PosService {
  /**
   * Checks a terminal's credentials (constant-time against the stored salted
   * hash). Synchronous: terminal records are memory-mapped reads. Disabled
   * terminals get FORBIDDEN, unknown ones and wrong secrets UNAUTHENTICATED
   * with the same message (no oracle for which terminal ids exist).
   */
  authenticate(terminalId: string, secret: string): AuthOutcome;

  /**
   * Executes one authenticated request whose body is neither hello nor ping.
   * Business declines resolve with an error body; the promise rejects only on
   * an internal failure, which the network layer answers as INTERNAL.
   * Mutating operations resolve only after their effect is durable.
   */
  execute(session: TerminalSession, request: Request): Promise<ExecuteResult> | ExecuteResult;

  /** False while starting, shutting down or unable to commit; /readyz reports it. */
  isReady(): boolean;
}
