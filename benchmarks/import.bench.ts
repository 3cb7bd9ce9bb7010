// Bulk card import through admin-cli (issue 4: one million cards "well under
// a minute"): writes a CSV (half the lines with a customer), starts the
// daemon, runs `admin-cli cards import` as a child process and times it.
//
// Run: npm run build && node dist/benchmarks/import.bench.js [--cards 1000000] [--repeat 1]
import { execFile } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { withCheckDigit } from "../daemon/seed.js";
import { median } from "./support/measure.js";
import { startDaemon } from "./support/daemon-process.js";

const { values } = parseArgs({ options: { cards: { type: "string", default: "1000000" }, repeat: { type: "string", default: "1" } } });
const cards = Number(values.cards);
const cliEntry = join(dirname(fileURLToPath(import.meta.url)), "..", "admin-cli", "main.js");

async function writeCsv(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write("number,kind,phone,first_name,last_name,birth_date,consent_sms,tags\n");
  let buffer = "";
  for (let i = 0; i < cards; i += 1) {
    const number = withCheckDigit(`29${String(i).padStart(13, "0")}`);
    buffer += i % 2 === 0 ? `${number},bonus,7900${String(i).padStart(7, "0")},Anna,Ivanova,1990-01-02,yes,vip;coffee\n` : `${number},bonus,,,,,,\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, "drain");
      buffer = "";
    }
  }
  out.end(buffer);
  await once(out, "finish");
}

const seconds: number[] = [];
for (let round = 0; round < Number(values.repeat); round += 1) {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-import-bench-"));
  try {
    const csv = join(dir, "cards.csv");
    await writeCsv(csv);
    const daemon = await startDaemon({ dataDir: join(dir, "data"), durability: "sync", cpuProfileDir: undefined });
    try {
      const token = (JSON.parse(readFileSync(join(dir, "data", "admin-credentials.json"), "utf8")) as { token: string }).token;
      const started = performance.now();
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [cliEntry, "cards", "import", "--merchant", "demo", "--file", csv, "--url", daemon.adminUrl, "--token", token, "--json"],
          { maxBuffer: 64 * 1024 * 1024 }, (error, out) => (error ? reject(error) : resolve(out)));
      });
      const s = (performance.now() - started) / 1000;
      const outcome = JSON.parse(stdout) as { imported: number; rejected: unknown[] };
      if (outcome.imported !== cards || outcome.rejected.length > 0) throw new Error(`imported ${outcome.imported} of ${cards}, ${outcome.rejected.length} rejected`);
      seconds.push(s);
      process.stdout.write(`round ${round + 1}: ${cards} cards in ${s.toFixed(1)} s (${Math.round(cards / s)} cards/s)\n`);
    } finally {
      await daemon.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.stdout.write(`median: ${median(seconds).toFixed(1)} s for ${cards} cards (${Math.round(cards / median(seconds))} cards/s), durability sync\n`);
