import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { decodeToken } from "./replay-token.js"
import { httpLayer } from "./layer-http.js"
import { simLayer } from "./layer-sim.js"
import { runReplay, runSuite, type ScenarioResult } from "./runner.js"
import type { ServiceWrapper } from "./system.js"

/**
 * The same scenario code on the http layer (a management server the runner starts on a temporary
 * embedded store; kiosks, merchants, operators and provider servers over its API) as on the sim
 * layer: the smoke suite passes with the answers the sim layer gives, a short model-based run passes,
 * and a failure's replay token replays on the http layer.
 */

const answers = (results: ReadonlyArray<ScenarioResult>) => results.map((r) => [r.name, r.steps.map((s) => s.answer)])

/** Grants twice what the operator asked: the defect the runner's own test uses. */
const grantsDouble: ServiceWrapper = (services) => ({
  ...services,
  users: { ...services.users, grant: (userId, amount, id) => services.users.grant(userId, amount * 2, id) }
})

describe("the http layer", () => {
  it("passes the smoke suite with the answers the sim layer gives", async () => {
    const http = await runSuite({ layer: httpLayer, suite: ["smoke"], seed: 2, runs: 1 })
    expect(http.filter((r) => !r.ok).map((r) => `${r.name}: ${r.failure}`)).toEqual([])
    expect(new Set(http.map((r) => r.layer))).toEqual(new Set(["http"]))
    const sim = await runSuite({ layer: simLayer, suite: ["smoke"], seed: 2, runs: 1 })
    expect(answers(http)).toEqual(answers(sim))
  }, 180_000)

  it("passes a short model-based run", async () => {
    const [model] = await runSuite({ layer: httpLayer, suite: ["model"], seed: 11, runs: 2, maxCommands: 25 })
    expect([model?.layer, model?.failure ?? "ok", model?.search?.runs]).toEqual(["http", "ok", 2])
  }, 120_000)

  it("reports a defect the server's API carries, with a token that replays it on the http layer", async () => {
    const [result] = await runSuite({ layer: httpLayer, suite: ["claim-3-register-identify-grant"], seed: 3, runs: 1, wrap: grantsDouble })
    expect(result?.ok).toBe(false)
    expect(result?.failure).toContain("step 3 (an operator grants customer 1 5000 points): the balances differ: points of customer 1: model 15000, system 20000")
    const token = decodeToken(result?.replayToken ?? "")
    if (Either.isLeft(token)) throw new Error(token.left)
    expect([token.right.layer, token.right.suite]).toEqual(["http", "claim-3-register-identify-grant"])
    const again = await runReplay(token.right, httpLayer, { wrap: grantsDouble })
    expect([again.layer, again.failure]).toEqual(["http", result?.failure])
    expect((await runReplay(token.right, httpLayer, {})).ok).toBe(true)
  }, 120_000)
})
