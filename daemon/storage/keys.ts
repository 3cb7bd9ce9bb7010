// Table keys: what a valid key is and how keys are ordered.
//
// Contract:
// - A key is a non-empty, well-formed (no lone surrogates) string whose first
//   character is not a control character, at most `keyBytesMax` UTF-8 bytes.
// - Keys are stored with lmdb-js's default `ordered-binary` key encoding, which
//   for such strings is their plain UTF-8 bytes; LMDB orders keys bytewise, so
//   storage order is UTF-8 byte order, which equals Unicode code point order.
//   `compareKeys` implements exactly that order so the in-memory overlay can
//   be merged with LMDB ranges (scan, digest) without disagreeing about order.
//
// Why the restrictions: ordered-binary prefixes strings that start with a
// character below 0x1B with a type byte, which would break "bytes = UTF-8";
// lone surrogates all encode to U+FFFD, so two different JS strings would name
// the same stored key. Neither occurs in real ids; if one does, it is a bug.
import { assert } from "../assert.js";
import { keyBytesMax } from "./limits.js";

// A UTF-16 code unit becomes at most 3 UTF-8 bytes, so keys this short need
// no byte count (the common case: ids are far shorter).
const keyLengthAlwaysFits = Math.floor(keyBytesMax / 3);

export function assertKey(key: string): void {
  assert(typeof key === "string" && key.length > 0, "key must be a non-empty string");
  assert(key.charCodeAt(0) >= 0x20, "key must not start with a control character");
  assert((key as unknown as { isWellFormed(): boolean }).isWellFormed(), "key must be well-formed UTF-16 (no lone surrogates)");
  if (key.length > keyLengthAlwaysFits) {
    const bytes = Buffer.byteLength(key, "utf8");
    assert(bytes <= keyBytesMax, `key is ${bytes} bytes (max ${keyBytesMax})`);
  }
}

/**
 * Orders keys like LMDB does (UTF-8 bytes, i.e. code points). JS `<` compares
 * UTF-16 code units, which differs only when a surrogate (D800–DFFF, part of a
 * code point above FFFF) meets a unit in E000–FFFF; remapping both ranges
 * fixes that without decoding.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}
