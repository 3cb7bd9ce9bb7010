// Checks of structured input from staff (JSON bodies of the admin channel,
// rules files): each names the field with its path (`promotions[2].effect.bp`)
// and unknown fields are errors, so a typo is caught instead of ignored. The
// checkers throw a FieldError; `attempt` turns it into a value.

export interface FieldProblem {
  field: string;
  message: string;
}

export type Obj = Record<string, unknown>;

const idPattern = /^[A-Za-z0-9._:-]{1,64}$/;

export class FieldError extends Error {
  override name = "FieldError";
  constructor(readonly field: string, readonly problem: string) {
    super(`${field}: ${problem}`);
  }
}

export function fail(field: string, message: string): never {
  throw new FieldError(field, message);
}

export function object(v: unknown, field: string, allowed: readonly string[]): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(field, "must be an object");
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) fail(field ? `${field}.${k}` : k, `unknown field (expected one of: ${allowed.join(", ")})`);
  }
  return v as Obj;
}

export function int(v: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) fail(field, "must be an integer");
  if (v < min || v > max) fail(field, `must be from ${min} to ${max}`);
  return v;
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v !== "boolean") fail(field, "must be true or false");
  return v;
}

export function id(v: unknown, field: string): string {
  if (typeof v !== "string" || !idPattern.test(v)) fail(field, "must be 1-64 characters of letters, digits and . _ : -");
  return v;
}

export function text(v: unknown, field: string, max = 200): string {
  if (typeof v !== "string" || v.length === 0 || v.length > max) fail(field, `must be text of 1-${max} characters`);
  return v;
}

export function list<T>(v: unknown, field: string, max: number, each: (item: unknown, field: string) => T): T[] {
  if (!Array.isArray(v)) fail(field, "must be a list");
  if (v.length > max) fail(field, `at most ${max} entries`);
  return v.map((item, i) => each(item, `${field}[${i}]`));
}

/** Runs checks; a FieldError becomes `{ ok: false, problem }`. */
export function attempt<T>(fn: () => T): T | { ok: false; problem: FieldProblem } {
  try {
    return fn();
  } catch (error) {
    if (error instanceof FieldError) return { ok: false, problem: { field: error.field, message: error.problem } };
    throw error;
  }
}
