import { Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { KioskView } from "../adapters/kiosk-agent/journey-view.js"
import type { LiveKiosk, TwinJson } from "./testing/live-kiosk.js"
import { startLiveKiosk } from "./testing/live-kiosk.js"

/**
 * A live kiosk agent's twin converges by itself, over real HTTP on 127.0.0.1: the server records the
 * catalog version a kiosk read, so an idle kiosk that did not read a new catalog would show on the
 * dashboard as behind it until a customer happened to browse. The agent's twin timer is set far
 * beyond the test (10 min), so only the event stream and the reports it triggers can clear a delta.
 */

const SETTLE_MS = 5_000
let kiosk: LiveKiosk

beforeAll(async () => {
  kiosk = await startLiveKiosk({ reportIntervalMs: 600_000, reconnectMinMs: 100, reconnectMaxMs: 400 })
}, 60_000)
afterAll(async () => {
  await kiosk?.close()
})

const fields = (twin: TwinJson) => twin.delta.map((d) => d.field)
const converged = (twin: TwinJson) => twin.reported !== null && twin.delta.length === 0

const runPromise = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

/** The first view (the current one included) that `accept` takes. */
const viewUntil = (accept: (view: KioskView) => boolean, what: string, timeoutMs = SETTLE_MS): Promise<KioskView> =>
  Effect.runPromise(
    kiosk.agent.journey.view.changes.pipe(
      Stream.filter(accept),
      Stream.runHead,
      Effect.flatMap((found) => (found._tag === "Some" ? Effect.succeed(found.value) : Effect.dieMessage(`the view ended before ${what}`))),
      Effect.timeoutFail({ duration: timeoutMs, onTimeout: () => new Error(`the touchscreen did not show ${what} within ${timeoutMs} ms`) })
    )
  )

describe("a live kiosk agent's twin", () => {
  it("reads a catalog change while idle, so the catalog version's delta clears within seconds", async () => {
    const start = await kiosk.twinUntil(converged, "no delta after start-up", SETTLE_MS)
    expect(start.reported?.catalogVersion).toBe(start.regionCatalogVersion)
    const before = await kiosk.view()
    expect(before.screen).toBe("welcome")

    await kiosk.pushOffer("off_bread", "Bread")
    const after = await kiosk.twinUntil((t) => t.regionCatalogVersion > start.regionCatalogVersion && converged(t), "the new catalog read", SETTLE_MS)
    expect(after.reported?.catalogVersion).toBe(after.regionCatalogVersion)
    // Read in the background: the welcome screen did not move.
    const idle = await kiosk.view()
    expect([idle.screen, idle.seq]).toEqual(["welcome", before.seq])
  }, 30_000)

  it("reads it in the background while a customer types, without touching their screen", async () => {
    await kiosk.agent.journey.act({ _tag: "start" }).pipe(runPromise)
    await viewUntil((v) => v.screen === "phone" && !v.busy, "the phone screen")
    await kiosk.agent.journey.act({ _tag: "phone", digits: "01020000009" }).pipe(runPromise)
    try {
      const code = await viewUntil((v) => v.screen === "code" && !v.busy, "the code screen")
      const start = await kiosk.twin()

      await kiosk.pushOffer("off_soup", "Soup")
      const after = await kiosk.twinUntil((t) => t.regionCatalogVersion > start.regionCatalogVersion && converged(t), "the new catalog read", SETTLE_MS)
      expect(after.reported?.catalogVersion).toBe(after.regionCatalogVersion)
      expect(await kiosk.view()).toEqual(code)
    } finally {
      await kiosk.agent.journey.act({ _tag: "finish" }).pipe(runPromise)
      await viewUntil((v) => v.screen === "welcome" && !v.busy, "welcome")
    }
  }, 30_000)

  it("applies an operator's disable and enable and reports them, the delta clearing each time", async () => {
    await kiosk.setEnabled(false)
    await viewUntil((v) => v.screen === "out-of-service", "out of service")
    const disabled = await kiosk.twinUntil(converged, "the disable applied", SETTLE_MS)
    expect(disabled.reported?.enabled).toBe(false)
    await kiosk.setEnabled(true)
    await viewUntil((v) => v.screen === "welcome", "welcome")
    const enabled = await kiosk.twinUntil(converged, "the enable applied", SETTLE_MS)
    expect(enabled.reported?.enabled).toBe(true)
  }, 30_000)

  it("disabled while a customer is at it, reports itself still selling until their journey ends, then out of service", async () => {
    await kiosk.agent.journey.act({ _tag: "start" }).pipe(runPromise)
    const phone = await viewUntil((v) => v.screen === "phone" && !v.busy, "the phone screen")
    await kiosk.setEnabled(false)
    // The report the event triggered says what the kiosk does: it still serves the customer.
    await kiosk.twinUntil((t) => t.reported !== null && t.reported.appliedDesiredVersion < t.desiredVersion, "the disable pending", SETTLE_MS)
    // Long enough for the reports the event and its answer trigger.
    await new Promise((done) => setTimeout(done, 1_500))
    const still = await kiosk.twin()
    expect(still.reported?.enabled).toBe(true)
    expect(fields(still)).toEqual(expect.arrayContaining(["desiredVersion", "enabled"]))
    expect((await kiosk.view()).screen).toBe(phone.screen)

    await kiosk.agent.journey.act({ _tag: "finish" }).pipe(runPromise)
    await viewUntil((v) => v.screen === "out-of-service", "out of service")
    const disabled = await kiosk.twinUntil(converged, "the disable applied once the customer was done", SETTLE_MS)
    expect(disabled.reported?.enabled).toBe(false)

    await kiosk.setEnabled(true)
    await viewUntil((v) => v.screen === "welcome", "welcome")
    await kiosk.twinUntil(converged, "the enable applied", SETTLE_MS)
  }, 30_000)

  it("catches up on a catalog change made while its link was down, once the link is back", async () => {
    const start = await kiosk.twinUntil(converged, "no delta", SETTLE_MS)
    kiosk.link.cut()
    await kiosk.pushOffer("off_rice", "Rice")
    // The kiosk cannot hear of it: the delta stays while the link is down (and the agent keeps running).
    await new Promise((done) => setTimeout(done, 1_000))
    const cutOff = await kiosk.twin()
    expect(cutOff.regionCatalogVersion).toBeGreaterThan(start.regionCatalogVersion)
    expect(fields(cutOff)).toEqual(["catalogVersion"])
    expect((await kiosk.view()).screen).toBe("welcome")

    kiosk.link.restore()
    const back = await kiosk.twinUntil(converged, "the catalog read after the link came back", SETTLE_MS)
    expect(back.reported?.catalogVersion).toBe(cutOff.regionCatalogVersion)
  }, 30_000)
})
