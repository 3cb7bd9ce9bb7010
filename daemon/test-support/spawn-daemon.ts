// Starts the built daemon (dist/daemon/main.js) as a child process on a
// temporary data directory and ephemeral ports, for integration tests that
// need a real process on real sockets (crash, shutdown, interop).
//
// Readiness is not guessed with sleeps: the daemon prints one JSON log line
// with msg "ready" and the ports it bound once it serves; we wait for it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, dirname } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// Run from source (tests) or compiled into dist/ (the analytics benchmark imports it): the repository root either way.
const repoRoot = join(here, "..", "..", ...(basename(join(here, "..", "..")) === "dist" ? [".."] : []));
export const daemonEntry = join(repoRoot, "dist", "daemon", "main.js");

/** What the demo seed writes to <data>/demo-credentials.json (mode 0600). */
export interface DemoCredentials {
  merchantId: string;
  terminals: { terminalId: string; storeId: string; secret: string }[];
  cards: { cardNumber: string; kind: "bonus" | "discount" | "gift"; phone?: string }[];
}

export interface SpawnedDaemon {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly posUrl: string;
  readonly httpUrl: string;
  readonly posPort: number;
  readonly httpPort: number;
  readonly adminPort: number;
  /** The replication endpoint, host:port, for another daemon's --replica-of. */
  readonly replicationAddress: string;
  /** http://127.0.0.1:<adminPort>, for admin-cli --url. */
  readonly adminUrl: string;
  /** <data>/admin-credentials.json, for admin-cli --credentials. */
  readonly adminCredentialsFile: string;
  /** Every stdout line so far (JSON logs). */
  readonly logLines: string[];
  credentials(): DemoCredentials;
  /** Sends the signal and resolves with the exit code (or null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export async function spawnDaemon(options: SpawnOptions = {}): Promise<SpawnedDaemon> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "loyalty-test-"));
  const child = spawn(process.execPath, [
    daemonEntry, "--data", dataDir, "--host", "127.0.0.1", "--pos-port", "0", "--http-port", "0",
    "--admin-port", "0", "--replication-port", "0", ...(options.args ?? []),
  ], { env: { ...process.env, LOYALTY_LOG_LEVEL: "info", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });

  const logLines: string[] = [];
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const ready = await new Promise<{ posPort: number; httpPort: number; adminPort: number; replicationPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon not ready in time; stderr:\n${stderr}`)), options.readyTimeoutMs ?? 20_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      logLines.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; posPort?: number; httpPort?: number; adminPort?: number; replicationPort?: number };
        if (entry.msg === "ready" && entry.posPort && entry.httpPort && entry.adminPort && entry.replicationPort) {
          clearTimeout(timer);
          resolve({ posPort: entry.posPort, httpPort: entry.httpPort, adminPort: entry.adminPort, replicationPort: entry.replicationPort });
        }
      } catch {
        // Not every line has to be JSON (a crash prints a stack); keep it in logLines.
      }
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`daemon exited (${code}) before ready; stderr:\n${stderr}`)); });
  }).catch(async (error: unknown) => {
    // The caller never gets a handle to a daemon that did not become ready, so
    // it must not outlive this call (a test's cleanup could not stop it).
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    throw error;
  });

  return {
    child, dataDir, logLines, ...ready,
    posUrl: `ws://127.0.0.1:${ready.posPort}/pos`,
    httpUrl: `http://127.0.0.1:${ready.httpPort}`,
    adminUrl: `http://127.0.0.1:${ready.adminPort}`,
    replicationAddress: `127.0.0.1:${ready.replicationPort}`,
    adminCredentialsFile: join(dataDir, "admin-credentials.json"),
    credentials: () => JSON.parse(readFileSync(join(dataDir, "demo-credentials.json"), "utf8")) as DemoCredentials,
    stop: (signal: NodeJS.Signals = "SIGTERM") => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      return exited;
    },
  };
}
