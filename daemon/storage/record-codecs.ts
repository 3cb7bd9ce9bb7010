// Fixed-schema encodings of the two records every check reads and writes:
// accounts (read by identify, calculate and confirm; written by confirm) and
// checks (written by calculate and confirm, read by confirm).
//
// Why: as generic msgpack maps these records spend most of their bytes and
// most of their encode/decode time on field names (a check with five lines
// repeats 11 line field names five times). Here a record is a msgpack array
// of its fields in a fixed order, led by a tag naming the record and its
// layout version; nested records (lines, lots, holds...) are arrays too.
// Fewer bytes mean fewer LMDB pages per commit; arrays decode and encode
// faster than maps.
//
// Contract:
// - Deterministic: the bytes depend only on the record (fixed field order,
//   the same msgpack options as encoding.ts), so the state digest stays a
//   function of the state.
// - Lossless for every record the engine writes: decode(encode(r)) deep-equals
//   r, with every field present (record-codecs.test.ts checks it over random
//   records). TypeScript makes the decoders exhaustive (their object literals
//   must name every field of the model type); the encoders assert that a
//   record has exactly the fields the layout knows, so a field added to the
//   model but not here crashes at the first write instead of being dropped.
// - A table with a codec still stores any non-record value (a number, a
//   string...) in the generic encoding: store tests use these tables as plain
//   key-value tables. Arrays are refused there, since a compact record is an
//   array: an array value would be ambiguous.
import type { Table } from "../engine/tx.js";
import type { Account, CheckLine, CheckRecord } from "../engine/model.js";
import { assert } from "../assert.js";
import { decodeValue, encodeValue } from "./encoding.js";

/** Leading element of an encoded record: which record and which layout version. */
const accountTag = 1;
const checkTag = 2;

const accountFields = 9;
const checkFields = 24;
const lineFields = 11;

type Tuple = unknown[];

function countOwnFields(value: object): number {
  let n = 0;
  for (const k in value) if (Object.prototype.hasOwnProperty.call(value, k)) n++;
  return n;
}

function assertFields(value: object, expected: number, what: string): void {
  assert(countOwnFields(value) === expected, `${what} has fields this codec does not know (expected ${expected})`);
}

function assertTuple(value: unknown, length: number, what: string): asserts value is Tuple {
  assert(Array.isArray(value) && value.length === length, `stored ${what} is not a ${length}-field record`);
}

// --- accounts ---

function accountToTuple(a: Account): Tuple {
  assertFields(a, accountFields, "account");
  return [
    accountTag,
    a.lots.map((l) => { assertFields(l, 4, "lot"); return [l.id, l.pts, l.act, l.exp]; }),
    a.holds.map((h) => { assertFields(h, 3, "hold"); return [h.check, h.pts, h.exp]; }),
    a.debt, a.bal, a.tier, a.spend, a.lastPurchaseAt, a.welcomeGranted, a.seq,
  ];
}

function accountFromTuple(t: Tuple): Account {
  assertTuple(t, accountFields + 1, "account");
  return {
    lots: (t[1] as Tuple[]).map((l) => { assertTuple(l, 4, "lot"); return { id: l[0] as string, pts: l[1] as number, act: l[2] as number, exp: l[3] as number }; }),
    holds: (t[2] as Tuple[]).map((h) => { assertTuple(h, 3, "hold"); return { check: h[0] as string, pts: h[1] as number, exp: h[2] as number }; }),
    debt: t[3] as number,
    bal: t[4] as number,
    tier: t[5] as string,
    spend: t[6] as Account["spend"],
    lastPurchaseAt: t[7] as number,
    welcomeGranted: t[8] as boolean,
    seq: t[9] as number,
  };
}

// --- checks ---

function lineToTuple(l: CheckLine): Tuple {
  assertFields(l, lineFields, "check line");
  return [l.sku, l.grp, l.qty, l.price, l.amt, l.disc, l.rpts, l.rmin, l.apts, l.promos, l.rq];
}

function lineFromTuple(l: Tuple): CheckLine {
  assertTuple(l, lineFields, "check line");
  return {
    sku: l[0] as string, grp: l[1] as string, qty: l[2] as number, price: l[3] as number, amt: l[4] as number, disc: l[5] as number,
    rpts: l[6] as number, rmin: l[7] as number, apts: l[8] as number, promos: l[9] as string[], rq: l[10] as number,
  };
}

function checkToTuple(c: CheckRecord): Tuple {
  assertFields(c, checkFields, "check");
  return [
    checkTag,
    c.id, c.state, c.store, c.terminal, c.cashier, c.card, c.op, c.createdAt, c.expiresAt, c.confirmedAt, c.receipt,
    c.lines.map(lineToTuple),
    c.total, c.discount, c.redeem, c.redeemMinor, c.accrue,
    c.promos.map((p) => { assertFields(p, 5, "applied promotion"); return [p.id, p.name, p.reason, p.discount, p.points]; }),
    c.receiptLines,
    c.gift.map((g) => { assertFields(g, 3, "gift tender"); return [g.card, g.amt, g.ret]; }),
    c.consumed.map((l) => { assertFields(l, 4, "consumed lot"); return [l.id, l.pts, l.act, l.exp]; }),
    c.refundedMinor, c.refunds, c.offline,
  ];
}

function checkFromTuple(t: Tuple): CheckRecord {
  assertTuple(t, checkFields + 1, "check");
  return {
    id: t[1] as string,
    state: t[2] as CheckRecord["state"],
    store: t[3] as string,
    terminal: t[4] as string,
    cashier: t[5] as string,
    card: t[6] as string,
    op: t[7] as string,
    createdAt: t[8] as number,
    expiresAt: t[9] as number,
    confirmedAt: t[10] as number,
    receipt: t[11] as string,
    lines: (t[12] as Tuple[]).map(lineFromTuple),
    total: t[13] as number,
    discount: t[14] as number,
    redeem: t[15] as number,
    redeemMinor: t[16] as number,
    accrue: t[17] as number,
    promos: (t[18] as Tuple[]).map((p) => {
      assertTuple(p, 5, "applied promotion");
      return { id: p[0] as string, name: p[1] as string, reason: p[2] as string, discount: p[3] as number, points: p[4] as number };
    }),
    receiptLines: t[19] as string[],
    gift: (t[20] as Tuple[]).map((g) => { assertTuple(g, 3, "gift tender"); return { card: g[0] as string, amt: g[1] as number, ret: g[2] as number }; }),
    consumed: (t[21] as Tuple[]).map((l) => {
      assertTuple(l, 4, "consumed lot");
      return { id: l[0] as string, pts: l[1] as number, act: l[2] as number, exp: l[3] as number };
    }),
    refundedMinor: t[22] as number,
    refunds: t[23] as number,
    offline: t[24] as boolean,
  };
}

interface RecordCodec {
  readonly tag: number;
  toTuple(value: never): Tuple;
  fromTuple(tuple: Tuple): unknown;
}

const codecs: ReadonlyMap<Table, RecordCodec> = new Map<Table, RecordCodec>([
  ["accounts", { tag: accountTag, toTuple: accountToTuple, fromTuple: accountFromTuple }],
  ["checks", { tag: checkTag, toTuple: checkToTuple, fromTuple: checkFromTuple }],
]);

/** The codec of `table`, or undefined for tables stored in the generic encoding. */
export function codecOf(table: Table): RecordCodec | undefined {
  return codecs.get(table);
}

/** Encodes a value for `table` (see the contract). */
export function encodeStored(codec: RecordCodec | undefined, value: unknown): Buffer {
  if (codec === undefined || value === null || typeof value !== "object") return encodeValue(value);
  assert(!Array.isArray(value), "arrays cannot be stored in a table with a record codec");
  return encodeValue(codec.toTuple(value as never));
}

/** Decodes a value stored by encodeStored with the same codec. */
export function decodeStored<T>(codec: RecordCodec | undefined, bytes: Uint8Array): T {
  const value = decodeValue<unknown>(bytes);
  if (codec === undefined || !Array.isArray(value)) return value as T;
  assert(value[0] === codec.tag, `stored record has tag ${String(value[0])}, this table's records have tag ${codec.tag}`);
  return codec.fromTuple(value) as T;
}

export type { RecordCodec };
