// Bulk card import from CSV (SPEC O1), streaming: the file is read line by
// line, each line checked here (so most mistakes are reported with their line
// number before anything is sent), and good lines sent in chunks of 1,000
// rows with a few chunks in flight. The daemon applies each row whole or
// rejects it whole (card exists, phone already has a card) and says which
// lines it rejected; nothing is half-written, and a rejected line never
// stops the good ones.
//
// Columns (a header line is required; only `number` is mandatory, any order):
//   number, kind (bonus|discount|gift, default bonus), discount_bp, token,
//   phone, first_name, last_name, email, birth_date (YYYY-MM-DD),
//   consent_sms, consent_email (true/false/1/0/yes/no), tags (separated by ;)
// A row with a phone creates the customer and binds the card to it.
//
// Re-running an import after an interruption is safe: lines already imported
// are reported as "already exists" and nothing is written twice.
import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import type { ImportRow } from "../daemon/engine/admin.js";
import { cardsPerCommandMax } from "../daemon/engine/admin.js";
import { luhnValid, normalizePhone } from "../daemon/engine/common.js";

export const importColumns = [
  "number", "kind", "discount_bp", "token", "phone", "first_name", "last_name", "email", "birth_date", "consent_sms", "consent_email", "tags",
] as const;
type Column = (typeof importColumns)[number];

export class CsvFormatError extends Error {
  override name = "CsvFormatError";
}

/** One CSV record on one line (RFC 4180 quoting; a quote inside a quoted field is doubled). Null when the quotes do not balance. */
export function parseCsvLine(line: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = "";
      i += 1;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        value += line.slice(i, q);
        if (line[q + 1] === '"') { value += '"'; i = q + 2; continue; }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === line.length) return fields;
      if (line[i] !== ",") return null;
      i += 1;
    } else {
      const comma = line.indexOf(",", i);
      const end = comma < 0 ? line.length : comma;
      const value = line.slice(i, end);
      if (value.includes('"')) return null;
      fields.push(value.trim());
      if (comma < 0) return fields;
      i = comma + 1;
    }
  }
}

/** Maps header names to positions; unknown or missing columns are a format error. */
export function parseHeader(line: string): Map<Column, number> {
  const names = parseCsvLine(line.replace(/^\uFEFF/, ""));
  if (!names) throw new CsvFormatError("line 1: the header is not valid CSV");
  const map = new Map<Column, number>();
  names.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (!(importColumns as readonly string[]).includes(name)) throw new CsvFormatError(`line 1: unknown column "${raw}" (known: ${importColumns.join(", ")})`);
    if (map.has(name as Column)) throw new CsvFormatError(`line 1: column "${name}" appears twice`);
    map.set(name as Column, i);
  });
  if (!map.has("number")) throw new CsvFormatError('line 1: the header must have a "number" column');
  return map;
}

const yes = new Set(["true", "1", "yes", "y"]);
const no = new Set(["false", "0", "no", "n", ""]);
const tokenPattern = /^[A-Za-z0-9._:-]{1,64}$/;

/** Checks and converts one data line; the reason names the column. */
export function parseRow(line: string, lineNo: number, header: Map<Column, number>): { row: ImportRow } | { reason: string } {
  const fields = parseCsvLine(line);
  if (!fields) return { reason: "not valid CSV (unbalanced quotes)" };
  if (fields.length > header.size) return { reason: `${fields.length} fields, the header has ${header.size}` };
  const get = (c: Column) => (header.has(c) ? fields[header.get(c)!] ?? "" : "");
  const number = get("number");
  if (!/^\d{8,19}$/.test(number)) return { reason: "number: must be 8-19 digits" };
  if (!luhnValid(number)) return { reason: "number: bad check digit" };
  const kind = get("kind") || "bonus";
  if (kind !== "bonus" && kind !== "discount" && kind !== "gift") return { reason: "kind: must be bonus, discount or gift" };
  const row: ImportRow = { line: lineNo, number, kind };
  const discount = get("discount_bp");
  if (discount) {
    if (!/^\d{1,5}$/.test(discount) || Number(discount) > 10_000) return { reason: "discount_bp: must be 0..10000" };
    row.discountBp = Number(discount);
  }
  const token = get("token");
  if (token) {
    if (!tokenPattern.test(token)) return { reason: "token: 1-64 letters, digits or . _ : -" };
    row.token = token;
  }
  const phoneText = get("phone");
  if (phoneText) {
    const phone = normalizePhone(phoneText);
    if (phone === null) return { reason: "phone: not a phone number (10-15 digits)" };
    const birthDate = get("birth_date");
    if (birthDate && !/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) return { reason: "birth_date: must be YYYY-MM-DD" };
    const consent = (c: Column): boolean | string => {
      const v = get(c).toLowerCase();
      return yes.has(v) ? true : no.has(v) ? false : `${c}: must be true or false`;
    };
    const sms = consent("consent_sms");
    const email = consent("consent_email");
    if (typeof sms === "string") return { reason: sms };
    if (typeof email === "string") return { reason: email };
    const tags = get("tags").split(";").map((t) => t.trim()).filter(Boolean);
    const badTag = tags.find((t) => !tokenPattern.test(t));
    if (badTag !== undefined) return { reason: `tags: "${badTag}" is not a valid tag` };
    const text = (c: Column) => get(c).slice(0, 200);
    row.customer = {
      phone, firstName: text("first_name"), lastName: text("last_name"), email: text("email"), birthDate, consentSms: sms, consentEmail: email, tags,
    };
  } else if (get("first_name") || get("last_name") || get("email")) {
    return { reason: "phone: required when customer fields are given" };
  }
  return { row };
}

/** The daemon failed mid-import: what was confirmed so far, and why it stopped. */
export class ImportInterruptedError extends Error {
  override name = "ImportInterruptedError";
  constructor(readonly reason: unknown, readonly outcome: ImportOutcome) {
    super(`import interrupted after ${outcome.imported} cards were confirmed imported: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}

export interface ImportOutcome {
  lines: number;
  imported: number;
  rejected: { line: number; reason: string }[];
}

export interface ImportOptions {
  file: string;
  /** Sends one chunk; resolves with what the daemon imported and rejected. */
  send: (rows: ImportRow[]) => Promise<{ imported: number; rejected: { line: number; reason: string }[] }>;
  chunkRows?: number;
  concurrency?: number;
  onProgress?: (bytesRead: number, totalBytes: number, imported: number) => void;
}

export async function importCsv(options: ImportOptions): Promise<ImportOutcome> {
  const chunkRows = options.chunkRows ?? cardsPerCommandMax;
  const concurrency = options.concurrency ?? 4;
  const totalBytes = statSync(options.file).size;
  const stream = createReadStream(options.file, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const outcome: ImportOutcome = { lines: 0, imported: 0, rejected: [] };
  const inFlight = new Set<Promise<void>>();
  let header: Map<Column, number> | null = null;
  let chunk: ImportRow[] = [];
  let failure: unknown = null;

  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const rows = chunk;
    chunk = [];
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) throw new ImportInterruptedError(failure, outcome);
    const p: Promise<void> = options.send(rows).then((r) => {
      outcome.imported += r.imported;
      outcome.rejected.push(...r.rejected);
      options.onProgress?.(stream.bytesRead, totalBytes, outcome.imported);
    }, (error: unknown) => { failure ??= error; }).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  try {
    for await (const line of lines) {
      outcome.lines += 1;
      if (header === null) {
        header = parseHeader(line);
        continue;
      }
      if (line.trim() === "") continue;
      const parsed = parseRow(line, outcome.lines, header);
      if ("reason" in parsed) outcome.rejected.push({ line: outcome.lines, reason: parsed.reason });
      else chunk.push(parsed.row);
      if (chunk.length >= chunkRows) await flush();
      if (failure) throw new ImportInterruptedError(failure, outcome);
    }
    if (header === null) throw new CsvFormatError("the file is empty: a header line is required");
    await flush();
    await Promise.all(inFlight);
    if (failure) throw new ImportInterruptedError(failure, outcome);
  } finally {
    lines.close();
    stream.destroy();
  }
  outcome.rejected.sort((a, b) => a.line - b.line);
  return outcome;
}
