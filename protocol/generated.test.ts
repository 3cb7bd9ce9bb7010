// The committed generated code must be exactly what `npm run proto:gen`
// produces from loyalty.proto, so nobody edits it by hand and nobody forgets
// to regenerate after changing the protocol.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));

it("protocol/generated is up to date with loyalty.proto (run `npm run proto:gen`)", () => {
  const out = mkdtempSync(join(tmpdir(), "loyalty-proto-gen-"));
  try {
    execFileSync(process.execPath, [join(here, "scripts", "generate.mjs"), out], { stdio: "pipe" });
    for (const file of ["loyalty.js", "loyalty.d.ts"]) {
      expect(readFileSync(join(out, file), "utf8"), file).toBe(readFileSync(join(here, "generated", file), "utf8"));
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
