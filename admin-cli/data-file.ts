// Files staff write by hand: promotions, program settings, tiers, baskets for
// a dry run, as JSON or YAML (by extension). Times may be written as ISO
// dates ("2026-12-01" or "2026-12-01T09:00:00+03:00"); they are sent as
// milliseconds. Parse errors name the file and the line.
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { YAMLParseError, parse as parseYaml } from "yaml";

/** A mistake in the command line or in a file the user gave: exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export function loadDataFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const yaml = [".yaml", ".yml"].includes(extname(path).toLowerCase());
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    if (error instanceof YAMLParseError) throw new UsageError(`${path}:${error.linePos?.[0].line ?? "?"}: ${error.message.split("\n")[0]}`);
    throw new UsageError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
}

/** "2026-12-01", "2026-12-01T09:00:00+03:00" or milliseconds → milliseconds. */
export function timeMs(v: unknown, field: string): number {
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  if (typeof v === "string" || v instanceof Date) {
    const ms = v instanceof Date ? v.getTime() : Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(`${field}: not a time (use an ISO date such as 2026-12-01 or 2026-12-01T09:00:00+03:00)`);
}

/** A promotions file holds a list, or an object with a `promotions` list; ISO validity times become ms. */
export function promotionsFromFile(path: string): unknown[] {
  const data = loadDataFile(path);
  const list = Array.isArray(data) ? data : (data as { promotions?: unknown } | null)?.promotions;
  if (!Array.isArray(list)) throw new UsageError(`${path}: expected a list of promotions (or an object with a "promotions" list)`);
  return list.map((p, i) => {
    if (typeof p !== "object" || p === null) return p;
    const out = { ...(p as Record<string, unknown>) };
    for (const f of ["validFrom", "validTo"]) if (out[f] !== undefined) out[f] = timeMs(out[f], `promotions[${i}].${f}`);
    return out;
  });
}
