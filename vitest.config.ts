import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", "dist/**", "data/**"],
    // Native addons (uWebSockets.js, lmdb) are safest in separate processes.
    pool: "forks",
    reporters: ["default", "./vitest.summary-reporter.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
