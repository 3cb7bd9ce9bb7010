// Turns off protobufjs's Long support before any generated code loads, so every
// 64-bit field (money, points, times, ids) decodes to a plain JS number. The
// generated module reads `util.Long` when it is evaluated, so this module must
// be imported before it (ESM evaluates imports in order; codec.ts does that).
// Numbers are exact up to 2^53; every int64 field we accept is range-checked
// far below that (see limits.ts), so nothing is silently rounded.
import $protobuf from "protobufjs/minimal.js";

$protobuf.util.Long = undefined as unknown as typeof $protobuf.util.Long;
$protobuf.configure();
