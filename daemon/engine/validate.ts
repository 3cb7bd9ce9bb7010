// Field validation for POS requests: every limit from protocol/limits.ts is
// checked before any state is read, and a violation names the field.
import type { loyalty } from "../../protocol/codec.js";
import { amountMinorMax, couponsMax, idBytesMax, linesMax, quantityMilliMax, textBytesMax } from "../../protocol/limits.js";
import { invalid, type Resp } from "./common.js";
import type { BasketLine } from "./pricing.js";

const utf8 = new TextEncoder();

export function byteLength(s: string): number {
  // Fast path: ASCII strings are their length; only encode when needed.
  for (let i = 0; i < s.length; i += 1) if (s.charCodeAt(i) > 127) return utf8.encode(s).length;
  return s.length;
}

export function checkId(value: string | null | undefined, field: string, required: boolean): Resp | null {
  const v = value ?? "";
  if (v.length === 0) return required ? invalid(field, "is required") : null;
  if (byteLength(v) > idBytesMax) return invalid(field, `longer than ${idBytesMax} bytes`);
  return null;
}

export function checkText(value: string | null | undefined, field: string): Resp | null {
  return byteLength(value ?? "") > textBytesMax ? invalid(field, `longer than ${textBytesMax} bytes`) : null;
}

export function checkAmount(value: number | null | undefined, field: string, min = 0): Resp | null {
  const v = value ?? 0;
  if (!Number.isSafeInteger(v) || v < min || v > amountMinorMax) return invalid(field, `must be an integer from ${min} to ${amountMinorMax}`);
  return null;
}

/** Validates basket lines and converts them; returns a Resp on the first bad field. */
export function basketLines(lines: loyalty.v1.Line.$Properties[] | null | undefined): BasketLine[] | Resp {
  const list = lines ?? [];
  if (list.length === 0) return invalid("lines", "at least one line is required");
  if (list.length > linesMax) return invalid("lines", `at most ${linesMax} lines`);
  const out: BasketLine[] = [];
  for (let i = 0; i < list.length; i += 1) {
    const l = list[i]!;
    const f = `lines[${i}]`;
    const bad =
      checkId(l.sku, `${f}.sku`, true) ?? checkId(l.group, `${f}.group`, true) ??
      checkAmount(l.priceMinor, `${f}.price_minor`) ?? checkAmount(l.amountMinor, `${f}.amount_minor`);
    if (bad) return bad;
    const qty = l.quantityMilli ?? 0;
    if (!Number.isSafeInteger(qty) || qty <= 0 || qty > quantityMilliMax) return invalid(`${f}.quantity_milli`, `must be an integer from 1 to ${quantityMilliMax}`);
    out.push({ sku: l.sku!, grp: l.group!, qty, price: l.priceMinor ?? 0, amt: l.amountMinor ?? 0 });
  }
  return out;
}

export function checkCoupons(coupons: string[] | null | undefined): Resp | null {
  const list = coupons ?? [];
  if (list.length > couponsMax) return invalid("coupons", `at most ${couponsMax} coupons`);
  for (let i = 0; i < list.length; i += 1) {
    const bad = checkId(list[i], `coupons[${i}]`, true);
    if (bad) return bad;
  }
  return null;
}
