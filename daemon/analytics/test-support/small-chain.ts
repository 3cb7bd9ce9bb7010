// A small demo chain in a temporary store, for report and generator tests.
import { generateDemoChain, type DemoOptions, type DemoSummary } from "../demo-generator.js";
import { storeDemoDeps } from "../store-deps.js";
import type { Store } from "../../storage/store.js";

/** Saturday 2026-11-28 00:00 Moscow time: the history ends there. */
export const smallChainEnd = Date.UTC(2026, 10, 27, 21, 0, 0);

export const smallChainOptions: DemoOptions = {
  merchantId: "chain", seed: 7, customers: 200, months: 7, stores: 4, city: "kazan", end: smallChainEnd, itemsPerCommand: 100,
};

export async function generateSmallChain(store: Store, options: Partial<DemoOptions> = {}): Promise<DemoSummary> {
  const summary = await generateDemoChain({ ...smallChainOptions, ...options }, storeDemoDeps(store));
  await store.idle();
  return summary;
}
