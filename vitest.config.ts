import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: "forks",
    poolOptions: { forks: { singleFork: false, maxForks: 2 } },
    globalSetup: ["tests/global-setup.ts"],
  },
});
