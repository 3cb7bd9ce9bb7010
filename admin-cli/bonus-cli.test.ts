// Bonus mechanics from admin-cli against a real daemon: a prize draw re-run
// offline from its seed gives the same winners; a campaign's offer reaches
// exactly the customers it selected.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PosClient } from "../protocol/client.js";
import { spawnDaemon, type SpawnedDaemon } from "../daemon/test-support/spawn-daemon.js";
import { runCli } from "./test-support/run-cli.js";

describe("draws and campaigns through admin-cli", () => {
  let daemon: SpawnedDaemon;
  let pos: PosClient;
  const cli = (args: string[]) => runCli(daemon, args, ["--json"]);

  beforeAll(async () => {
    daemon = await spawnDaemon();
    const t = daemon.credentials().terminals[0]!;
    pos = new PosClient({ url: daemon.posUrl, terminalId: t.terminalId, secret: t.secret, cashierId: "c1", reconnect: false });
    await pos.connect();
  });
  afterAll(async () => {
    await pos?.close();
    await daemon?.stop();
  });

  it("runs a draw whose winners anyone can re-derive from the seed and the published entrants", async () => {
    const entrantsFile = join(mkdtempSync(join(tmpdir(), "draw-")), "entrants.txt");
    const run = await cli(["draw", "run", "--merchant", "demo", "--id", "dec-2026", "--seed", "public-seed-42", "--winners", "2", "--points", "250", "--reason", "December draw", "--entrants-out", entrantsFile]);
    expect(run.stderr).toBe("");
    const drawn = JSON.parse(run.stdout) as { entrants: number; entrantsSha256: string; winners: { customerId: string; card: string }[] };
    expect(drawn.entrants).toBe(5); // the demo customers with an active card
    expect(readFileSync(entrantsFile, "utf8").trim().split("\n")).toHaveLength(5);
    const verify = JSON.parse((await cli(["draw", "verify", "--id", "dec-2026", "--seed", "public-seed-42", "--winners", "2", "--entrants", entrantsFile])).stdout) as { entrantsSha256: string; winners: string[] };
    expect(verify.winners).toEqual(drawn.winners.map((w) => w.customerId));
    expect(verify.entrantsSha256).toBe(drawn.entrantsSha256);
    const shown = JSON.parse((await cli(["draw", "show", "--merchant", "demo", "--id", "dec-2026"])).stdout) as { seed: string; winners: { customerId: string }[] };
    expect(shown.seed).toBe("public-seed-42");
    expect(shown.winners.map((w) => w.customerId)).toEqual(verify.winners);
    expect((await cli(["draw", "run", "--merchant", "demo", "--id", "dec-2026", "--seed", "other", "--winners", "1", "--points", "1", "--reason", "again"])).code).toBe(1);
  });

  it("attaches a campaign's offer to the selected segment only", async () => {
    const dry = JSON.parse((await cli(["campaign", "run", "--merchant", "demo", "--id", "coffee-week", "--tag", "coffee-lover", "--dry-run"])).stdout) as { customers: number };
    expect(dry.customers).toBe(2);
    const members = daemon.credentials().cards.filter((c) => c.phone);
    expect((await pos.identify({ card: { cardNumber: members[0]!.cardNumber } })).offers.map((o) => o.id)).not.toContain("coffee-week");
    const ran = await cli(["campaign", "run", "--merchant", "demo", "--id", "coffee-week", "--tag", "coffee-lover", "--title", "Coffee week", "--text", "Any latte for 99", "--on-receipt"]);
    expect(JSON.parse(ran.stdout)).toMatchObject({ customers: 2, tag: "campaign:coffee-week" });
    const offered = await Promise.all(members.map(async (c) => (await pos.identify({ card: { cardNumber: c.cardNumber } })).offers.map((o) => o.id).includes("coffee-week")));
    expect(offered).toEqual([true, true, false, false, false]);
  });
});
