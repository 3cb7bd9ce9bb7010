// Storage errors: the part of the error catalogue owned by daemon/storage.
//
// Contract: every class has a stable `code` so callers branch on the code (or
// the class), never on the message. These are *operational* errors that the
// service maps to protocol answers (UNAVAILABLE) or to a crash-and-restart.
// Broken invariants are not here: they are AssertionError (daemon/assert.ts).

export type StoreErrorCode = "STORE_OVERLOADED" | "STORE_CLOSED" | "STORE_FAILED";

export abstract class StoreError extends Error {
  abstract readonly code: StoreErrorCode;
}

/**
 * Thrown synchronously by `submit` when more than `pendingCommandsMax`
 * commands already await durability. Nothing was applied, so the client may
 * retry the same request later (the service answers UNAVAILABLE).
 */
export class StoreOverloadedError extends StoreError {
  override name = "StoreOverloadedError";
  readonly code = "STORE_OVERLOADED";
  constructor(readonly pendingCommands: number, readonly pendingCommandsMax: number) {
    super(`store overloaded: ${pendingCommands} commands await durability (max ${pendingCommandsMax})`);
  }
}

/** Thrown by `submit`/`read` once `close()` was called. Nothing was applied. */
export class StoreClosedError extends StoreError {
  override name = "StoreClosedError";
  readonly code = "STORE_CLOSED";
  constructor() {
    super("store is closed");
  }
}

/**
 * A commit failed (disk full, I/O error): the in-memory overlay now disagrees
 * with disk, so the store refuses all further work. Every request of the
 * failed batch and of any later batch is rejected with this error; none of
 * them was acknowledged. The process should exit and restart on the last
 * durable state.
 */
export class StoreFailedError extends StoreError {
  override name = "StoreFailedError";
  readonly code = "STORE_FAILED";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
