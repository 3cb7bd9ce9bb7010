// How admin-cli prints: aligned tables and key/value blocks for people,
// `--json` for scripts, and a progress line on stderr (only when stderr is a
// terminal, so logs and pipes stay clean).

export type Row = Record<string, unknown>;

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** An aligned text table; `columns` picks and orders the fields. */
export function table(rows: readonly Row[], columns: readonly string[]): string {
  if (rows.length === 0) return "(none)\n";
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return `${[line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join("\n")}\n`;
}

/** `key: value` lines, keys aligned. */
export function keyValues(obj: Row): string {
  const keys = Object.keys(obj);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return `${keys.map((k) => `${`${k}:`.padEnd(width + 1)} ${cell(obj[k])}`).join("\n")}\n`;
}

/** 12345 → "123.45". */
export function money(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

export interface Progress {
  update(done: number, note?: string): void;
  finish(note?: string): void;
}

/**
 * A progress bar on stderr, redrawn at most every 100 ms. `total` 0 means
 * unknown (elapsed time only). Silent when stderr is not a terminal.
 */
export function progress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  let last = 0;
  const enabled = stream.isTTY === true;
  const draw = (done: number, note = "", force = false) => {
    const now = Date.now();
    if (!enabled || (!force && now - last < 100)) return;
    last = now;
    const secs = ((now - started) / 1000).toFixed(1);
    const width = 30;
    const bar = total > 0 ? `[${"#".repeat(Math.round((Math.min(done, total) / total) * width)).padEnd(width, ".")}] ${Math.floor((Math.min(done, total) / total) * 100)}%` : "";
    stream.write(`\r${label} ${bar} ${secs}s ${note}`.padEnd(100).slice(0, 160));
  };
  return {
    update: (done, note) => draw(done, note),
    finish: (note) => {
      draw(total, note, true);
      if (enabled) stream.write("\n");
    },
  };
}
