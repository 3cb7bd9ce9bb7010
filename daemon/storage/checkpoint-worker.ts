// The checkpoint thread's entry (see checkpoint-thread.ts): opens the store's
// LMDB environment in this thread (lmdb-js shares one environment per path
// across the threads of a process) and writes each checkpoint it is handed in
// one synchronous LMDB transaction — the commit's page writes and flushes
// happen here, not on the event loop.
import { parentPort, workerData } from "node:worker_threads";
import { assert } from "../assert.js";
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
    // The event loop closes the environment itself; this thread only lets go of it.
    reply({ kind: "closed" });
    return;
  }
  try {
    const data = Buffer.from(request.bytes, 0, request.length);
    layout.root.transactionSync(() => {
      decodeCheckpoint(data, {
        journal: (seq, bytes) => void layout.journal.put(seq, bytes),
        put: (table, key, bytes) => void layout.tableDbs.get(table)!.put(key, bytes),
        remove: (table, key) => void layout.tableDbs.get(table)!.remove(key),
        lastSeq: (seq) => void layout.system.put(systemKeyLastSeq, encodeValue(seq)),
      });
    });
    reply({ kind: "done", id: request.id, ok: true });
  } catch (error) {
    reply({ kind: "done", id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) });
  }
});
reply({ kind: "ready" });
