import { describe, expect, it } from "vitest";
import { ConfigError, configHelp, defaultConfig, parseConfig } from "./config.js";
import * as constants from "./constants.js";

function problemsOf(argv: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    parseConfig(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("works with nothing given", () => {
    const config = parseConfig([], {});
    expect(config).toEqual(defaultConfig());
    expect(config).toMatchObject({
      help: false, dataDir: "./data", host: "127.0.0.1", posPort: 7700, httpPort: 7780, adminPort: 7701,
      durability: "sync", logLevel: "info", seedDemo: true, mapSizeMb: 4096, shutdownGraceMs: constants.shutdownGraceMs,
    });
    expect(config.connection).toEqual({
      inFlightPerConnectionMax: constants.inFlightPerConnectionMax,
      idleTimeoutMs: constants.idleTimeoutMs,
      frameBytesMax: constants.frameBytesMax,
      backpressureBytesMax: constants.backpressureBytesMax,
      connectionsMax: constants.connectionsMax,
    });
  });

  it("reads the environment, and flags win over it", () => {
    const env = { LOYALTY_POS_PORT: "9000", LOYALTY_HOST: "0.0.0.0", LOYALTY_DURABILITY: "none", LOYALTY_SEED_DEMO: "false", LOYALTY_IN_FLIGHT_MAX: "32" };
    const config = parseConfig(["--pos-port", "0", "--data", "/tmp/x", "--in-flight-max=64"], env);
    expect(config.posPort).toBe(0);
    expect(config.host).toBe("0.0.0.0");
    expect(config.dataDir).toBe("/tmp/x");
    expect(config.durability).toBe("none");
    expect(config.seedDemo).toBe(false);
    expect(config.connection.inFlightPerConnectionMax).toBe(64);
  });

  it("treats an empty variable as unset", () => {
    expect(parseConfig([], { LOYALTY_HOST: "", LOYALTY_POS_PORT: "" }).posPort).toBe(7700);
  });

  it("accepts --seed-demo and --no-seed-demo over the environment", () => {
    expect(parseConfig(["--no-seed-demo"], { LOYALTY_SEED_DEMO: "true" }).seedDemo).toBe(false);
    expect(parseConfig(["--seed-demo"], { LOYALTY_SEED_DEMO: "0" }).seedDemo).toBe(true);
    expect(problemsOf(["--seed-demo", "--no-seed-demo"])[0]).toMatch(/contradict/);
  });

  it("allows every port to be 0 (ephemeral) at once", () => {
    const config = parseConfig(["--pos-port", "0", "--http-port", "0", "--admin-port", "0"], {});
    expect([config.posPort, config.httpPort, config.adminPort]).toEqual([0, 0, 0]);
  });

  it("lists every problem, naming the flag or the variable", () => {
    const problems = problemsOf(["--pos-port", "70000", "--durability", "maybe", "--idle-timeout-ms", "1500"], { LOYALTY_MAP_SIZE_MB: "lots", LOYALTY_SEED_DEMO: "perhaps" });
    expect(problems).toHaveLength(5);
    expect(problems.join("\n")).toMatch(/--pos-port: must be between 0 and 65535/);
    expect(problems.join("\n")).toMatch(/--durability: expected one of sync, none/);
    expect(problems.join("\n")).toMatch(/--idle-timeout-ms: must be between/);
    expect(problems.join("\n")).toMatch(/LOYALTY_MAP_SIZE_MB: expected a non-negative integer/);
    expect(problems.join("\n")).toMatch(/LOYALTY_SEED_DEMO: expected true or false/);
  });

  it("rejects numbers in other notations, partial seconds and equal ports", () => {
    expect(problemsOf(["--http-port", "1e3"])[0]).toMatch(/non-negative integer/);
    expect(problemsOf(["--http-port", "-1"])[0]).toMatch(/--http-port/);
    expect(problemsOf(["--idle-timeout-ms", "10500"])[0]).toMatch(/whole seconds/);
    expect(problemsOf(["--pos-port", "8000", "--http-port", "8000"])[0]).toMatch(/--pos-port and --http-port are both 8000/);
  });

  it("checks how limits relate", () => {
    expect(problemsOf(["--frame-bytes-max", String(1024 * 1024), "--backpressure-bytes-max", String(1024 * 1024)])[0])
      .toMatch(/at least twice --frame-bytes-max/);
  });

  it("rejects unknown flags and positional arguments", () => {
    expect(problemsOf(["--pos-prot", "1"])[0]).toMatch(/pos-prot/);
    expect(problemsOf(["serve"])[0]).toMatch(/serve/);
  });

  it("returns help without validating the rest", () => {
    expect(parseConfig(["--help"], { LOYALTY_POS_PORT: "nonsense" }).help).toBe(true);
    expect(parseConfig(["-h"], {}).help).toBe(true);
  });

  it("documents every flag and variable in the help text", () => {
    const help = configHelp();
    for (const flag of ["--data", "--host", "--pos-port", "--http-port", "--admin-port", "--durability", "--log-level", "--[no-]seed-demo", "--map-size-mb",
      "--in-flight-max", "--idle-timeout-ms", "--frame-bytes-max", "--backpressure-bytes-max", "--connections-max", "--shutdown-grace-ms", "--help"]) {
      expect(help).toContain(flag);
    }
    for (const variable of ["LOYALTY_DATA_DIR", "LOYALTY_HOST", "LOYALTY_POS_PORT", "LOYALTY_HTTP_PORT", "LOYALTY_ADMIN_PORT", "LOYALTY_DURABILITY", "LOYALTY_LOG_LEVEL",
      "LOYALTY_SEED_DEMO", "LOYALTY_MAP_SIZE_MB", "LOYALTY_SHUTDOWN_GRACE_MS"]) {
      expect(help).toContain(variable);
    }
  });
});
