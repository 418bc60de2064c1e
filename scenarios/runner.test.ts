import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { catalog } from "./catalog.js"
import { simLayer } from "./layer-sim.js"
import { decodeToken, encodeToken } from "./replay-token.js"
import { renderJunit } from "./report-junit.js"
import { checkDeterminism, runReplay, runSuite } from "./runner.js"
import type { ServiceWrapper } from "./system.js"

/** The runner on the sim layer: the whole catalog and a few model-based runs pass, tokens round-trip, JUnit reads. */
describe("the scenario runner on the sim layer", () => {
  it("passes every catalog scenario and a few model-based runs, each ending with a clean audit", async () => {
    const results = await runSuite({ layer: simLayer, suite: [...catalog.map((s) => s.name), "model"], seed: 7, runs: 5 })
    const failed = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.failure}`)
    expect(failed).toEqual([])
    for (const result of results.filter((r) => r.name !== "model")) {
      expect(result.end?.ok).toBe(true)
      expect(result.end?.lines.some((line) => line.startsWith("[2]"))).toBe(true)
      expect(result.steps.length).toBe(catalog.find((s) => s.name === result.name)?.commands.length)
    }
    const xml = renderJunit(results, "2026-12-05T00:00:00.000Z")
    expect(xml).toContain(`tests="${results.length}" failures="0"`)
    // Invariant 10: no phone number of the deployment in anything the runner writes.
    expect(xml + JSON.stringify(results)).not.toMatch(/\+8210\d{8}/)
  }, 60_000)

  it("reports a failing scenario with the step where the system and the model part, and a token that replays it", async () => {
    const wrap = (services: Parameters<NonNullable<Parameters<typeof simLayer.open>[0]["wrap"]>>[0]) => ({
      ...services,
      users: { ...services.users, grant: (userId: never, amount: number, id: never) => services.users.grant(userId, amount * 2, id) }
    }) as typeof services
    const [result] = await runSuite({ layer: simLayer, suite: ["claim-3-register-identify-grant"], seed: 3, runs: 1, wrap })
    expect(result?.ok).toBe(false)
    expect(result?.failure).toContain(`step 3 (an operator grants customer 1 5000 points): the balances differ: points of customer 1: model 15000, system 20000`)
    const token = decodeToken(result?.replayToken ?? "")
    expect(Either.isRight(token) && token.right.suite).toBe("claim-3-register-identify-grant")
    if (Either.isLeft(token)) return
    const again = await runReplay(token.right, simLayer, { wrap })
    expect(again.failure).toBe(result?.failure)
    expect(again.traceHash).toBe(result?.traceHash)
    expect((await runReplay(token.right, simLayer, {})).ok).toBe(true)
  }, 30_000)

  it("tells a run that depends on something beside its seed (here a counter kept between runs) from one that does not", async () => {
    let grants = 0
    const leaky: ServiceWrapper = (services) => ({ ...services, users: { ...services.users, grant: (userId, amount, id) => services.users.grant(userId, amount + (grants++ % 2), id) } })
    const suite = ["claim-3-register-identify-grant"]
    const [steady] = await checkDeterminism({ layer: simLayer, suite, seed: 5, runs: 1 })
    expect(steady?.first).toBe(steady?.second)
    const [drifting] = await checkDeterminism({ layer: simLayer, suite, seed: 5, runs: 1, wrap: leaky })
    expect(drifting?.first).not.toBe(drifting?.second)
  }, 30_000)

  it("refuses a token it did not write, saying what to do", () => {
    expect(decodeToken("not-a-token")).toEqual(Either.left(expect.stringContaining("copy the whole word after --replay")))
    const wrong = encodeToken({ v: 1, layer: "sim", suite: "model", seed: 1, commands: [] }).slice(0, 10)
    expect(Either.isLeft(decodeToken(wrong))).toBe(true)
  })
})
