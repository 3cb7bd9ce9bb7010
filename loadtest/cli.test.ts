import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { UsageError, parseCli, type CliConfig } from "./cli.js";

const entry = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "loadtest", "main.js");

function config(argv: string[]): CliConfig {
  const c = parseCli(argv);
  if (c === "help") throw new Error("unexpected help");
  return c;
}

describe("CLI flags", () => {
  it("takes defaults and overrides", () => {
    const c = config(["run", "--spawn"]);
    expect(c).toMatchObject({ mode: "run", spawn: true, rate: 500, seconds: 10, warmup: 2, connections: 16, durability: "sync", httpRate: 0, reuseDaemon: false });
    expect(config(["saturate", "--spawn", "--reuse-daemon"]).reuseDaemon).toBe(true);
    expect(c.workload).toMatchObject({ seed: 1, zipfS: 0.99, basketMin: 1, basketMax: 8 });
    const d = config(["saturate", "--target", "127.0.0.1:7700", "--credentials", "c.json", "--slo", "confirm:p99<=3", "--step-rate", "100", "--seed", "9"]);
    expect(d).toMatchObject({ mode: "saturate", spawn: false, target: { host: "127.0.0.1", port: 7700 }, stepRate: 100, stepFactor: undefined });
    expect(d.slo).toEqual([{ series: "confirm", percentile: "p99", maxMs: 3 }]);
    expect(d.workload.seed).toBe(9);
    expect(parseCli(["--help"])).toBe("help");
  });

  const bad: [string[], RegExp][] = [
    [[], /exactly one mode/],
    [["fly", "--spawn"], /unknown mode "fly"/],
    [["run"], /--spawn or --target/],
    [["run", "--spawn", "--target", "h:1"], /--spawn or --target/],
    [["run", "--target", "localhost"], /HOST:PORT/],
    [["run", "--target", "localhost:99999", "--credentials", "x"], /HOST:PORT/],
    [["run", "--target", "localhost:7700"], /--credentials/],
    [["run", "--spawn", "--credentials", "x"], /go with --target/],
    [["run", "--spawn", "--rate", "fast"], /--rate must be a number/],
    [["run", "--spawn", "--rate", "0"], /--rate must be/],
    [["run", "--spawn", "--connections", "1.5"], /--connections must be an integer/],
    [["run", "--spawn", "--redeem-share", "2"], /--redeem-share/],
    [["run", "--spawn", "--basket-min", "5", "--basket-max", "2"], /basket/],
    [["run", "--spawn", "--durability", "maybe"], /--durability/],
    [["run", "--spawn", "--frobnicate"], /frobnicate/],
    [["run", "--spawn", "--rate"], /rate/],
    [["saturate", "--spawn", "--slo", "confirm:p95<=1"], /--slo/],
    [["saturate", "--spawn", "--step-rate", "5", "--step-factor", "2"], /not both/],
    [["saturate", "--spawn", "--start-rate", "500", "--max-rate", "100"], /--max-rate/],
    [["run", "--target", "h:1", "--credentials", "c", "--http-rate", "10"], /--http HOST:PORT/],
  ];
  for (const [argv, message] of bad) {
    it(`rejects ${argv.join(" ") || "no arguments"}`, () => {
      expect(() => parseCli(argv)).toThrow(UsageError);
      expect(() => parseCli(argv)).toThrow(message);
    });
  }

  it("exits 2 with the reason on stderr for a bad flag, and 0 with the usage for --help (built CLI)", () => {
    const bad = spawnSync(process.execPath, [entry, "run", "--spawn", "--rate", "fast"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--rate must be a number/);
    expect(bad.stdout).toBe("");
    const help = spawnSync(process.execPath, [entry, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^loyalty-loadtest: /);
    expect(help.stdout).toMatch(/--slo TERMS/);
  });
});
