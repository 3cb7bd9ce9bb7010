// Assertions that stay on in production. A broken invariant means the code or
// the data is wrong; continuing would spread the damage (a wrong balance
// written, replicated and printed on receipts). The process crashes and the
// supervisor restarts it on the last durable state.

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertSafeInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new AssertionError(`${what} is not a safe integer: ${value}`);
}

export function unreachable(value: never, what: string): never {
  throw new AssertionError(`unreachable ${what}: ${String(value)}`);
}
