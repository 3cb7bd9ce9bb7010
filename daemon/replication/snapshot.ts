// Snapshots for bootstrapping a replica: a compacted LMDB copy made with
// Store.backup while the primary serves. The copy's own system record says
// exactly which seq it holds; the replica resumes streaming after it.
import { open } from "lmdb";
import { decodeValue } from "../storage/encoding.js";
import { systemKeyLastSeq } from "../storage/lmdb-layout.js";

/** The lastSeq recorded inside a copied environment (read-only open). */
export async function readSnapshotSeq(lmdbDir: string): Promise<number> {
  const root = open({ path: lmdbDir, readOnly: true, noSubdir: false, maxDbs: 32, encoding: "binary" });
  try {
    const system = root.openDB<Buffer, string>({ name: "system", encoding: "binary", keyEncoding: "ordered-binary", create: false } as never);
    const bytes = system.getBinary(systemKeyLastSeq);
    if (bytes === undefined) throw new Error("the snapshot has no lastSeq record");
    return decodeValue<number>(bytes);
  } finally {
    await root.close();
  }
}
