// The wake-up floor of this machine: the round trip of one small message
// between two otherwise idle Node processes over loopback TCP.
//
// A POS answer needs at least that much: the daemon's thread must wake up to
// read the request and the client's must wake up to read the answer. When the
// machine's cores are busy (with the daemon, the generator, LMDB's and libuv's
// threads, other users of a shared box), a thread that becomes runnable waits
// for a core, and no code in the daemon can make that wait shorter. Measured
// on a quiet machine and again during a benchmark's window, it tells how much
// of a latency percentile is the machine's and not the daemon's.
//
// The two processes are children of the caller, so the (busy) generator's own
// event loop plays no part in the figure. One ping is in flight at a time,
// one every `everyMs` (5 ms by default: 200 round trips per second, a few
// percent of one core).
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { LatencySummary } from "./measure.js";

export interface WakeFloor {
  /** Round trips in microseconds. */
  readonly roundTripUs: LatencySummary;
  /** Ticks skipped because the previous echo was still out. */
  readonly missed: number;
}

const childScript = fileURLToPath(new URL("./wake-floor-child.js", import.meta.url));

async function firstLine(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  // Either comes first; an exit that comes later is not an error.
  const exited = once(child, "exit").then(([code]) => ({ code: code as number | null }));
  try {
    const first = await Promise.race([once(lines, "line").then(([line]) => line as string), exited]);
    if (typeof first !== "string") throw new Error(`wake-floor child exited with ${String(first.code)} before answering`);
    return first;
  } finally {
    lines.close();
  }
}

/** Starts the two processes; `stop()` ends them and returns what was measured in between. */
export async function startWakeFloor(everyMs = 5): Promise<{ stop(): Promise<WakeFloor> }> {
  const server = spawn(process.execPath, [childScript, "serve"], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    const port = Number(await firstLine(server));
    const pinger = spawn(process.execPath, [childScript, "ping", String(port), String(everyMs)], { stdio: ["pipe", "pipe", "inherit"] });
    return {
      async stop(): Promise<WakeFloor> {
        const answer = firstLine(pinger);
        pinger.stdin!.end();
        try {
          return JSON.parse(await answer) as WakeFloor;
        } finally {
          server.stdin!.end();
          await Promise.all([pinger.exitCode === null ? once(pinger, "exit") : null, server.exitCode === null ? once(server, "exit") : null]);
        }
      },
    };
  } catch (error) {
    server.kill();
    throw error;
  }
}

/** The floor over `ms` milliseconds of whatever the machine is doing now. */
export async function measureWakeFloor(ms: number, everyMs = 5): Promise<WakeFloor> {
  const probe = await startWakeFloor(everyMs);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return probe.stop();
}
