import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["{core,sim,hil,adapters,scenarios}/**/*.test.ts"],
    reporters: ["default", "./scenarios/testing/summary-reporter.ts"],
    // 2 cores: more workers than that only adds contention to the timing-sensitive suites.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
