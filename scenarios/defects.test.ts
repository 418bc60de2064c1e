import { describe, expect, it } from "vitest"
import { defects } from "./defects.js"
import { simLayer } from "./layer-sim.js"
import { DEFAULT_RUNS, MODEL_SUITE, runSuite } from "./runner.js"

/**
 * Proof that the suite bites (issue 11): each known defect, seeded into the core through a wrapped
 * service, is found by `--suite full` with its default budget, and the model-based suite shrinks it
 * to a short sequence whose replay token reproduces it.
 */
const SHRUNK_STEPS_MAX = 8

describe("--suite full on the sim layer, with a defect seeded into the core", () => {
  it("passes on the core as it is", async () => {
    const results = await runSuite({ layer: simLayer, suite: [MODEL_SUITE], seed: 1, runs: DEFAULT_RUNS })
    expect(results.map((r) => r.failure ?? "ok")).toEqual(["ok"])
  }, 60_000)

  for (const defect of defects) {
    it(`finds "${defect.description}" and shrinks it`, async () => {
      const results = await runSuite({ layer: simLayer, suite: ["full"], seed: 1, runs: DEFAULT_RUNS, wrap: defect.wrap })
      const model = results.find((r) => r.name === MODEL_SUITE)
      expect(model?.ok).toBe(false)
      expect(model?.steps.length).toBeGreaterThan(0)
      expect(model?.steps.length).toBeLessThanOrEqual(SHRUNK_STEPS_MAX)
      expect(model?.replayToken).toBeDefined()
      console.log(`${defect.name}: ${results.filter((r) => !r.ok).length} of ${results.length} failed; model shrunk to ${model?.steps.length} steps after ${model?.search?.runs} runs, ${model?.search?.shrinks} shrinks, ${((model?.durationMs ?? 0) / 1000).toFixed(1)} s\n  ${model?.failure?.split("\n")[0]}`)
    }, 60_000)
  }
})
