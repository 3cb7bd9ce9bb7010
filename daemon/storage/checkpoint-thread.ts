// The checkpoint thread, seen from the event loop: one worker thread that
// writes checkpoints (checkpoint-codec.ts buffers) into LMDB, one at a time.
//
// Why a thread: a checkpoint at a few thousand checks per second is
// thousands of puts, and lmdb-js prepares each put on the calling thread
// (key encoding, write instructions): 15–20 ms in one block on the event loop
// every checkpoint, which every POS request then waits behind. In this thread
// the puts and the commit's flushes run on the other core.
//
// Contract:
// - `write(chunks)` (encoded batches, applied in order, all in one LMDB
//   transaction) resolves once that transaction committed
//   (durably, with the store's durability) and rejects with its error if it
//   failed (the transaction was aborted: LMDB is as before). The caller then
//   resets its own read transaction so its reads see the commit.
// - One write at a time (asserted). If the thread dies, the pending and every
//   later write reject.
// - The worker module is the built one next to this file; when this file runs
//   from TypeScript sources (tests), the built copy under dist/ (npm test
//   builds first).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { assert } from "../assert.js";
import type { Durability } from "./lmdb-layout.js";

export type CheckpointRequest = { kind: "checkpoint"; id: number; chunks: ArrayBuffer[]; lengths: number[] } | { kind: "close" };
export type CheckpointReply =
  | { kind: "ready" }
  | { kind: "closed" }
  | { kind: "done"; id: number; ok: true }
  | { kind: "done"; id: number; ok: false; message: string };

export class CheckpointWriteError extends Error {}

function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".js")) return join(here, "..", "checkpoint-worker.js");
  const built = join(here, "..", "..", "..", "dist", "daemon", "storage", "checkpoint-worker.js");
  assert(existsSync(built), `${built} is missing: build first (npm run build)`);
  return built;
}

export class CheckpointThread {
  private pending: { id: number; resolve: () => void; reject: (error: Error) => void } | null = null;
  private nextId = 1;
  private failure: Error | null = null;
  private closing: (() => void) | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (reply: CheckpointReply) => this.onReply(reply));
    worker.on("error", (error) => this.fail(new CheckpointWriteError(`checkpoint thread failed: ${error.message}`, { cause: error })));
    worker.on("exit", (code) => this.fail(new CheckpointWriteError(`checkpoint thread exited (code ${code})`)));
    // Idle, it does not keep the process alive; a pending write or close does (ref below).
    worker.unref();
  }

  static async start(path: string, durability: Durability, mapSizeBytes: number): Promise<CheckpointThread> {
    const worker = new Worker(workerFile(), { workerData: { path, durability, mapSizeBytes } });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (reply: CheckpointReply): void => {
        if (reply.kind !== "ready") return;
        worker.off("error", reject);
        worker.off("message", onMessage);
        resolve();
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
    });
    return new CheckpointThread(worker);
  }

  write(chunks: readonly Buffer[]): Promise<void> {
    assert(this.pending === null, "checkpoint writes must not overlap");
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    const buffers: ArrayBuffer[] = [];
    const lengths: number[] = [];
    for (const chunk of chunks) {
      assert(chunk.byteOffset === 0, "a checkpoint chunk must start its ArrayBuffer (it is transferred)");
      buffers.push(chunk.buffer as ArrayBuffer);
      lengths.push(chunk.length);
    }
    return new Promise<void>((resolve, reject) => {
      this.pending = { id, resolve, reject };
      this.worker.ref();
      this.worker.postMessage({ kind: "checkpoint", id, chunks: buffers, lengths } satisfies CheckpointRequest, buffers);
    });
  }

  /** Lets the thread go (after the last write settled). */
  async close(): Promise<void> {
    if (this.failure !== null) {
      await this.worker.terminate();
      return;
    }
    const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    await new Promise<void>((resolve) => {
      this.closing = resolve;
      this.worker.ref();
      this.worker.postMessage({ kind: "close" } satisfies CheckpointRequest);
    });
    this.failure = new CheckpointWriteError("checkpoint thread closed");
    // It ends by itself once it let go of the environment.
    await exited;
  }

  private onReply(reply: CheckpointReply): void {
    if (reply.kind === "closed") {
      this.closing?.();
      return;
    }
    if (reply.kind !== "done") return;
    const pending = this.pending;
    assert(pending !== null && pending.id === reply.id, "checkpoint reply for a write that is not pending");
    this.pending = null;
    this.worker.unref();
    if (reply.ok) pending.resolve();
    else pending.reject(new CheckpointWriteError(`checkpoint commit failed: ${reply.message}`));
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
    this.closing?.();
  }
}
