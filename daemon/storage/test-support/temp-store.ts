// Temporary stores for storage tests: each under its own directory in
// os.tmpdir(), closed and removed by `cleanup()` (call it in afterEach).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type Store, type StoreOptions } from "../store.js";

export interface TempStores {
  /** A fresh directory; the dot in its name checks we never treat a path as a file. */
  dir(): string;
  open(path: string, options?: Partial<Omit<StoreOptions, "path">>): Promise<Store>;
  cleanup(): Promise<void>;
}

export function tempStores(): TempStores {
  const dirs: string[] = [];
  const stores = new Set<Store>();
  return {
    dir() {
      const dir = mkdtempSync(join(tmpdir(), "loyalty-storage.test-"));
      dirs.push(dir);
      return dir;
    },
    async open(path, options = {}) {
      const store = await openStore({
        path,
        durability: "sync",
        mapSizeBytes: 16 * 1024 * 1024,
        pendingCommandsMax: 10_000,
        ...options,
      });
      stores.add(store);
      const close = store.close.bind(store);
      store.close = () => {
        stores.delete(store);
        return close();
      };
      return store;
    },
    async cleanup() {
      for (const store of [...stores]) await store.close();
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
