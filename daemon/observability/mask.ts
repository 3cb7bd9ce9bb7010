// Masking of personal and secret values for logs (S: "no secrets or full card
// numbers/phones in logs"). The logger applies these to known field names
// automatically (logger.ts); call them yourself when such a value is logged
// under another name or inside a message.
//
// Masks keep the length (so a support engineer can tell a 16-digit card from
// a 19-digit one) and only what a receipt would show anyway.

const maskChar = "*";

/** `2200123456781234` → `************1234`: only the last 4 digits stay. */
export function maskCardNumber(cardNumber: string): string {
  const keep = cardNumber.length > 8 ? 4 : 0;
  return maskChar.repeat(cardNumber.length - keep) + cardNumber.slice(cardNumber.length - keep);
}

/**
 * `+79161234567` → `+7********67`: a leading `+`, the first digit (the
 * country) and the last two stay. Shorter than 7 characters: all masked.
 */
export function maskPhone(phone: string): string {
  const plus = phone.startsWith("+") ? "+" : "";
  const digits = phone.slice(plus.length);
  if (digits.length < 7) return plus + maskChar.repeat(digits.length);
  return plus + digits.slice(0, 1) + maskChar.repeat(digits.length - 3) + digits.slice(-2);
}

/** Secrets are replaced whole: not even their length is a hint. */
export function maskSecret(_secret: unknown): string {
  return "[secret]";
}

/**
 * Masks every run of 10 or more digits in free text (card numbers are 13..19
 * digits, phones 10..15), keeping the last 4. A safety net for messages and
 * error texts that embed a value by accident; 13-digit epoch times in text are
 * masked too, which is the price of not leaking a card number.
 */
export function maskDigitRuns(text: string): string {
  return text.replace(/\d{10,}/g, (run) => maskChar.repeat(run.length - 4) + run.slice(-4));
}
