import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ImportRow } from "../daemon/engine/admin.js";
import { withCheckDigit } from "../daemon/seed.js";
import { CsvFormatError, ImportInterruptedError, importCsv, parseCsvLine, parseHeader, parseRow } from "./import-csv.js";

const n1 = withCheckDigit("290000000000001");

describe("CSV lines", () => {
  it("splits quoted fields with commas and doubled quotes, and trims unquoted ones", () => {
    expect(parseCsvLine('a, b ,"c, d","say ""hi""",')).toEqual(["a", "b", "c, d", 'say "hi"', ""]);
    expect(parseCsvLine('"open')).toBeNull();
    expect(parseCsvLine('a"b,c')).toBeNull();
    expect(parseCsvLine('"a"x,b')).toBeNull();
  });

  it("refuses a header with an unknown, repeated or missing column, naming it", () => {
    expect(() => parseHeader("number,colour")).toThrow(/unknown column "colour"/);
    expect(() => parseHeader("number,phone,phone")).toThrow(/"phone" appears twice/);
    expect(() => parseHeader("phone,kind")).toThrow(/"number" column/);
    expect([...parseHeader("\uFEFFNumber, Phone").keys()]).toEqual(["number", "phone"]);
  });

  it("converts a good line and says which column is wrong on a bad one", () => {
    const header = parseHeader("number,kind,phone,first_name,consent_sms,tags,birth_date");
    expect(parseRow(`${n1},,8 (916) 123-45-67,Anna,yes,vip; coffee,1990-01-02`, 2, header)).toEqual({
      row: {
        line: 2, number: n1, kind: "bonus",
        customer: { phone: "89161234567", firstName: "Anna", lastName: "", email: "", birthDate: "1990-01-02", consentSms: true, consentEmail: false, tags: ["vip", "coffee"] },
      },
    });
    const reason = (line: string) => (parseRow(line, 3, header) as { reason: string }).reason;
    expect(reason(`${n1.slice(0, -1)}${(Number(n1.at(-1)) + 1) % 10},,,,,,`)).toMatch(/^number: bad check digit/);
    expect(reason("12ab,,,,,,")).toMatch(/^number:/);
    expect(reason(`${n1},gold,,,,,`)).toMatch(/^kind:/);
    expect(reason(`${n1},,123,,,,`)).toMatch(/^phone:/);
    expect(reason(`${n1},,79160000000,,maybe,,`)).toMatch(/^consent_sms:/);
    expect(reason(`${n1},,79160000000,,,,1990-1-2`)).toMatch(/^birth_date:/);
    expect(reason(`${n1},,,Anna,,,`)).toMatch(/^phone: required/);
    expect(reason(`${n1},,,,,,,extra`)).toMatch(/fields, the header has/);
  });
});

describe("importCsv", () => {
  const dir = mkdtempSync(join(tmpdir(), "import-csv-"));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const numbers = Array.from({ length: 25 }, (_, i) => withCheckDigit(`29000000000${String(i).padStart(4, "0")}`));

  it("sends every good line once, in chunks, with the daemon's rejections merged by line number", async () => {
    const lines = ["number", ...numbers.map((n, i) => (i === 7 ? "bad" : n)), ""];
    const sent: ImportRow[][] = [];
    const outcome = await importCsv({
      file: write("a.csv", lines.join("\r\n")), chunkRows: 10, concurrency: 2,
      send: async (rows) => {
        sent.push(rows);
        return { imported: rows.length - 1, rejected: [{ line: rows[0]!.line, reason: "card already exists" }] };
      },
    });
    expect(sent.map((c) => c.length)).toEqual([10, 10, 4]);
    expect(sent.flat().map((r) => r.number)).toEqual(numbers.filter((_, i) => i !== 7));
    expect(outcome.imported).toBe(21);
    expect(outcome.rejected.map((r) => r.line)).toEqual([2, 9, 13, 23]);
    expect(outcome.rejected[1]!.reason).toMatch(/^number:/);
  });

  it("stops on a daemon failure and reports what was confirmed", async () => {
    let calls = 0;
    const run = importCsv({
      file: write("b.csv", ["number", ...numbers].join("\n")), chunkRows: 5, concurrency: 1,
      send: async (rows) => {
        calls += 1;
        if (calls === 3) throw new Error("connection reset");
        return { imported: rows.length, rejected: [] };
      },
    });
    const error = await run.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ImportInterruptedError);
    expect((error as ImportInterruptedError).outcome.imported).toBe(10);
    expect(calls).toBe(3);
  });

  it("refuses an empty file", async () => {
    await expect(importCsv({ file: write("c.csv", ""), send: async () => ({ imported: 0, rejected: [] }) })).rejects.toBeInstanceOf(CsvFormatError);
  });
});
