// Value encoding: the one msgpack configuration used for every stored value,
// journal entry and system record.
//
// Contract:
// - `encodeValue` output depends only on the value (and, for objects, on the
//   order its keys were inserted, which the deterministic engine fixes). No
//   shared structures or records: those make bytes depend on what was encoded
//   before, which would break the state digest and replica comparison.
// - `decodeValue` returns fresh objects that share no memory with its input:
//   LMDB's `getBinaryFast` hands us a buffer that the next read overwrites,
//   and msgpackr by default returns binary fields as views into its input.
//   `copyBuffers` makes every Uint8Array in the result an owned copy.
// - Values are plain data (see daemon/engine/tx.ts). Encoding is checked
//   before the write (not undefined, bounded size) and decoding after the read
//   (the whole buffer is consumed as exactly one value).
import { Packr } from "msgpackr";
import { assert, AssertionError } from "../assert.js";
import { journalEntryBytesMax, valueBytesMax } from "./limits.js";

// Every option that affects the bytes is set explicitly, so a msgpackr
// upgrade that changes a default cannot silently change the digest.
const packr = new Packr({
  useRecords: false, // records depend on previously seen structures
  structures: undefined,
  maxSharedStructures: 0,
  structuredClone: false, // no reference tracking: the same value always encodes the same way
  moreTypes: false,
  bundleStrings: false, // bundling changes bytes depending on string reuse within a value
  useFloat32: 0, // never narrow floats (money and points are integers anyway)
  variableMapSize: false, // always map16/map32 headers: fixed choice, not size-dependent tricks
  useTimestamp32: false,
  encodeUndefinedAsNil: false,
  largeBigIntToFloat: false,
  largeBigIntToString: false,
  useBigIntExtension: false,
  copyBuffers: true, // see contract: decoded binaries must not alias the read buffer
  mapsAsObjects: true,
  int64AsType: "number",
  sequential: false,
});

/** Encodes one value. The result is never mutated afterwards (LMDB writes it from a worker thread). */
export function encodeValue(value: unknown): Buffer {
  assert(value !== undefined, "cannot store undefined: delete the key instead");
  const bytes = packr.pack(value);
  assert(bytes.length <= valueBytesMax, `encoded value is ${bytes.length} bytes (max ${valueBytesMax})`);
  return bytes;
}

/** Decodes one stored value into fresh objects the caller may keep. */
export function decodeValue<T>(bytes: Uint8Array): T {
  assert(bytes.length > 0, "stored value is empty");
  const value = unpackExactlyOne(bytes) as T;
  assert(value !== undefined, "stored value decoded to undefined");
  return value;
}

/** Encodes a journal record (a map around a command, whose fields may be undefined). */
export function encodeRecord(record: object): Buffer {
  const bytes = packr.pack(record);
  assert(bytes.length <= journalEntryBytesMax, `encoded journal record is ${bytes.length} bytes (max ${journalEntryBytesMax})`);
  return bytes;
}

export function decodeRecord(bytes: Uint8Array): unknown {
  assert(bytes.length > 0, "stored record is empty");
  return unpackExactlyOne(bytes);
}

// msgpackr throws on truncated input and on bytes left after the first value.
// Either means the stored bytes are not what we wrote: that is corruption (or
// a bug), so it surfaces as an assertion failure and crashes the process.
function unpackExactlyOne(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (error) {
    throw new AssertionError(`stored bytes do not decode as one msgpack value (${bytes.length} bytes)`, { cause: error });
  }
}
