// Runs the built admin-cli (dist/admin-cli/main.js) as a child process, for
// end-to-end tests against a spawned daemon. The token comes from the
// daemon's credentials file, never from the test runner's environment.
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SpawnedDaemon } from "../../daemon/test-support/spawn-daemon.js";

export const cliEntry = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "admin-cli", "main.js");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `daemon` null: no --url/--credentials (offline commands, or the caller gives its own). */
export function runCli(daemon: SpawnedDaemon | null, args: string[], extra: string[] = []): Promise<CliRun> {
  const target = daemon ? ["--url", daemon.adminUrl, "--credentials", daemon.adminCredentialsFile] : [];
  return new Promise((resolve) => {
    execFile(process.execPath, [cliEntry, ...args, ...target, ...extra], { env: { ...process.env, LOYALTY_ADMIN_TOKEN: "" } }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}
