// The engine's only view of state: a transaction over named tables.
//
// Contract:
// - `get` sees every `put`/`del` made earlier through the same Tx, then every
//   change applied by earlier commands (committed or still being committed),
//   then the durable store. Commands therefore see each other's effects in
//   the order they were applied, whatever the group-commit batching.
// - Values are plain data (objects, arrays, strings, numbers, booleans,
//   Uint8Array) that msgpack round-trips. Values returned by `get` must be
//   treated as read-only: build a new object to change one (test stores
//   freeze them to catch mistakes).
// - Keys are strings. Table + key order is the order of `scan` in storage.
// - Nothing here does I/O the caller can observe; the engine stays
//   deterministic: same state + same command + same `now` → same writes.
export type Table =
  | "meta"        // merchant-wide counters and settings, key: merchantId or "global"; merchantId/notify (notification
                  // settings) and merchantId/outbox (outbox counters), see outbox.ts
  | "merchants"   // key: merchantId
  | "stores"      // key: merchantId/storeId
  | "terminals"   // key: terminalId (globally unique: hello only carries it)
  | "cards"       // key: merchantId/cardNumber
  | "cardIndex"   // key: merchantId/p/phone | merchantId/t/token → cardNumber
  | "customers"   // key: merchantId/customerId
  | "accounts"    // key: merchantId/cardNumber → points lots, holds, debt, spend buckets
  | "checks"      // key: merchantId/checkId → calculated or confirmed check
  | "activity"    // per card, newest first: merchantId/cardNumber/l/invertedSeq → a ledger entry (balance change);
                  // merchantId/cardNumber/h/invertedTime/checkId → { id, at } (a purchase in the history).
                  // One table so a confirm's ledger and history writes land on the same page.
  | "idempotency" // key: merchantId/terminalId/operationId → content hash, answer code (the answer is in "due")
  | "rules"       // key: merchantId → program and promotions, versioned
  | "due"         // what a scheduled job must do at a time: kind/dueAtMs/... (see `dueKinds` in model.ts):
                  // h/expiresAtMs/merchantId/checkId → calculated checks whose hold ends then;
                  // e/dayEndMs/merchantId/cardNumber → cards with lots to expire then;
                  // i/expiresAtMs/idempotencyKey → the answer of an idempotency record to forget then.
                  // One table, not three, so a check's index writes dirty one B-tree per commit.
  | "admins"      // key: admin user name → hashed credential
  | "audit"       // key: atMs/counter → one audited admin call (who, what, when, outcome)
  | "offers"      // key: merchantId → every offer of the merchant and its receipt message (offers.ts)
  | "draws"       // key: merchantId/drawId → a prize draw: seed, entrants' digest, winners (draw.ts)
  | "coupons"     // key: merchantId/code → a coupon: effect, validity, uses, holds of open calculations (coupons.ts)
  | "outbox";     // key: p/merchantId/seq → a pending customer notification; d/merchantId/seq → a dead letter (outbox.ts)

export const tables: readonly Table[] = [
  "meta", "merchants", "stores", "terminals", "cards", "cardIndex", "customers", "accounts",
  "checks", "activity", "idempotency", "rules", "due",
  "admins", "audit", "offers", "draws", "coupons", "outbox",
];

export interface Tx {
  get<T>(table: Table, key: string): T | undefined;
  put(table: Table, key: string, value: unknown): void;
  del(table: Table, key: string): void;
}

/**
 * What read-only operations get: a Tx that can also list, in key order, at
 * most `limit` entries whose key starts with `prefix`. Mutating operations
 * never scan (their cost stays a fixed number of point reads and writes).
 */
export interface ReadTx extends Tx {
  scan<T>(table: Table, prefix: string, limit: number): ReadonlyArray<readonly [string, T]>;
  /**
   * Like `scan`, keys only (values are not read or decoded), and it stops
   * before the first key ≥ `before` when given: for jobs that only need to
   * know which keys are there, such as the due entries up to now.
   */
  scanKeys(table: Table, prefix: string, limit: number, before?: string): readonly string[];
}
