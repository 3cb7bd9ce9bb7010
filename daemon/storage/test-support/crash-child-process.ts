// Runs daemon/storage/crash-child.ts as a real process. The child runs the
// built store from dist/ (vitest's TypeScript support does not reach child
// processes); `npm test` builds first. For a local run of one file:
//   npx tsc -p tsconfig.build.json && npx vitest run daemon/storage
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const storageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = join(storageDir, "..", "..");
export const crashChildEntry = join(repoRoot, "dist", "daemon", "storage", "crash-child.js");

/** Fails loudly when dist/ is missing or older than the storage sources it was built from. */
export function assertChildBuilt(): void {
  const build = "run `npx tsc -p tsconfig.build.json` (npm test does it)";
  if (!existsSync(crashChildEntry)) throw new Error(`${crashChildEntry} is missing: ${build}`);
  for (const file of readdirSync(storageDir)) {
    if (!file.endsWith(".ts") || file.endsWith(".test.ts")) continue;
    const built = join(repoRoot, "dist", "daemon", "storage", file.replace(/\.ts$/, ".js"));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(storageDir, file)).mtimeMs) {
      throw new Error(`${built} is older than daemon/storage/${file}: ${build}`);
    }
  }
}

export interface ChildRun {
  readonly child: ChildProcess;
  /** Every stdout line, appended as it arrives. */
  readonly lines: string[];
  /** Resolves when the process exited and its stdout was read to the end. */
  readonly finished: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/**
 * Spawns `command args`; `onLine` sees each stdout line as it arrives (to
 * kill the child at a chosen point, for example).
 */
export function runChild(command: string, args: readonly string[], onLine?: (line: string, run: ChildRun) => void): ChildRun {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const stdoutDone = new Promise<void>((resolve) => {
    const reader = createInterface({ input: child.stdout! });
    reader.on("line", (line) => {
      lines.push(line);
      onLine?.(line, run);
    });
    reader.once("close", resolve);
  });
  const run: ChildRun = {
    child,
    lines,
    finished: Promise.all([exited, stdoutDone]).then(([exit]) => ({ ...exit, stderr })),
  };
  return run;
}
