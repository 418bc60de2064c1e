import { describe, expect, it } from "vitest"
import { socatAvailable } from "../hil/testing/socat.js"
import { serialLayer } from "./layer-serial.js"
import { simLayer } from "./layer-sim.js"
import { runSuite } from "./runner.js"

/**
 * The same scenario code on the serial layer (drivers to emulators over socat ptys) as on the sim
 * layer: the scenarios pass on both, with the same answers step by step.
 */
/** Card, paper, a return at the other kiosk, a jam and power cuts: what the serial hardware changes. (`--layer serial --suite full` runs them all.) */
const suite = ["claim-6-coupon-output-at-kiosk", "claim-9-coupon-on-card", "story-card-returned-elsewhere", "story-jam-mid-dispense", "story-power-cut-mid-order"]

describe.skipIf(!socatAvailable)("the serial layer", () => {
  it("passes card, paper, return, jam and power-cut scenarios with the answers the sim layer gives", async () => {
    const serial = await runSuite({ layer: serialLayer, suite, seed: 4, runs: 1 })
    expect(serial.filter((r) => !r.ok).map((r) => `${r.name}: ${r.failure}`)).toEqual([])
    expect(new Set(serial.map((r) => r.layer))).toEqual(new Set(["serial"]))
    const sim = await runSuite({ layer: simLayer, suite, seed: 4, runs: 1 })
    const answers = (results: typeof sim) => results.map((r) => [r.name, r.steps.map((s) => s.answer)])
    expect(answers(serial)).toEqual(answers(sim))
  }, 60_000)
})
