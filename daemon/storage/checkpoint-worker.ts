// The checkpoint thread's entry (see checkpoint-thread.ts): opens the store's
// LMDB environment in this thread (lmdb-js shares one environment per path
// across the threads of a process) and writes each checkpoint it is handed in
// one synchronous LMDB transaction — the commit's page writes and flushes
// happen here, not on the event loop.
import { parentPort, workerData } from "node:worker_threads";
import { assert } from "../assert.js";
import type { Table } from "../engine/tx.js";
import { decodeCheckpoint } from "./checkpoint-codec.js";
import { encodeValue } from "./encoding.js";
import { openLayout, systemKeyLastSeq, type Durability } from "./lmdb-layout.js";
import type { CheckpointReply, CheckpointRequest } from "./checkpoint-thread.js";

const port = parentPort;
assert(port !== null, "checkpoint-worker runs as a worker thread");
const { path, durability, mapSizeBytes } = workerData as { path: string; durability: Durability; mapSizeBytes: number };
const layout = await openLayout(path, durability, mapSizeBytes);
const reply = (message: CheckpointReply): void => port.postMessage(message);

port.on("message", (request: CheckpointRequest) => {
  if (request.kind === "close") {
    // Lets go of this thread's handle on the shared environment (lmdb-js
    // counts them; the event loop's own close closes the file), then ends
    // the thread by emptying its event loop: no terminate() in the middle
    // of native code.
    void layout.root.close().then(() => {
      reply({ kind: "closed" });
      port.close();
    });
    return;
  }
  try {
    let lastSeq = 0;
    const sink = {
      journal: (seq: number, bytes: Buffer) => void layout.journal.put(seq, bytes),
      put: (table: Table, key: string, bytes: Buffer) => void layout.tableDbs.get(table)!.put(key, bytes),
      remove: (table: Table, key: string) => void layout.tableDbs.get(table)!.remove(key),
      lastSeq: (seq: number) => void (lastSeq = seq),
    };
    layout.root.transactionSync(() => {
      // Chunk after chunk (batch after batch): a later write of a key wins.
      for (let i = 0; i < request.chunks.length; i++) decodeCheckpoint(Buffer.from(request.chunks[i]!, 0, request.lengths[i]), sink);
      void layout.system.put(systemKeyLastSeq, encodeValue(lastSeq));
    });
    reply({ kind: "done", id: request.id, ok: true });
  } catch (error) {
    reply({ kind: "done", id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) });
  }
});
reply({ kind: "ready" });
