import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The page tests poll a real browser; give a slow machine room.
    expect: { poll: { timeout: 10_000, interval: 50 } },
  },
});
