import { existsSync } from "node:fs"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { screenshotPath } from "../adapters/web/chromium.js"
import { codeSentFor, deployment, kioskBackendOver } from "../adapters/server/testing.js"
import { OrderId } from "../core/domain/ids.js"
import { type Browser, CHROMIUM_PATH, onScreen, openBrowser } from "./testing/browser.js"
import { type LiveKiosk, startLiveKiosk } from "./testing/live-kiosk.js"

/**
 * The operators' dashboard and a kiosk's touchscreen in one real Chromium, both live: the dashboard
 * served by the management server, the touchscreen by kiosk 1's agent (`ecoupon kiosk` on sim
 * hardware, over HTTP on 127.0.0.1 through a link the test can cut). An operator disables the kiosk
 * while its link is down: the dashboard shows the delta as long as the kiosk cannot hear of it; once
 * the link is back the touchscreen turns "out of service", sells nothing, and the delta clears. Enabled
 * again, it is back at welcome. Screenshots: .screenshots/dashboard-*.png and .screenshots/kiosk/.
 */

const haveChromium = existsSync(CHROMIUM_PATH)
if (!haveChromium) console.log(`dashboard-to-kiosk test skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`)

const LIVE_MS = 10_000
let kiosk: LiveKiosk
let browser: Browser

beforeAll(async () => {
  if (!haveChromium) return
  // The twin timer far beyond the test: only events and the reports they trigger move the twin.
  kiosk = await startLiveKiosk({ reportIntervalMs: 600_000, reconnectMinMs: 100, reconnectMaxMs: 400 })
  browser = await openBrowser(kiosk.agent.uiUrl)
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await kiosk?.close()
})

/** A customer signs in at kiosk 1 over HTTP (its key, as the agent's) and orders: the server's answer to the order. */
const orderAtDisabledKiosk = Effect.gen(function* () {
  const backend = yield* kioskBackendOver(kiosk.server.baseUrl, yield* kiosk.server.issue("kiosk", kiosk.kioskId))
  const sent = yield* backend.requestCode("+821020000077")
  const session = yield* backend.verifyCode(sent.challengeId, yield* codeSentFor(sent.challengeId).pipe(Effect.provide(kiosk.server.context)))
  const catalog = yield* backend.catalog
  const orderId = OrderId.make("ord_at_disabled_kiosk")
  return yield* Effect.flip(backend.place({ orderId, sessionId: session.sessionId, offerId: deployment.offer, quantity: 1, catalogVersion: catalog.version, medium: "paper" }))
}).pipe(Effect.orDie)

describe.skipIf(!haveChromium)("a kiosk disabled from the dashboard", () => {
  it("shows the delta while pending, turns the touchscreen out of service and sells nothing, and comes back when enabled", async () => {
    const touchscreen = browser.page
    const dashboard = await browser.context.newPage()
    await dashboard.setViewportSize({ width: 1400, height: 900 })
    const shoot = (name: string) => dashboard.screenshot({ path: screenshotPath(name), fullPage: true })
    const row = dashboard.locator(`tr[data-kiosk=${kiosk.kioskId}]`)
    const toggle = row.locator("td:last-child button")

    await dashboard.goto(`${kiosk.server.baseUrl}/`)
    await dashboard.fill("#token", kiosk.operatorToken)
    await dashboard.click("button[type=submit]")
    // The live agent has reported and read the catalog: no delta, enabled.
    await dashboard.locator(`tr[data-kiosk=${kiosk.kioskId}]:not(.has-delta)`).waitFor({ timeout: LIVE_MS })
    expect(await toggle.textContent()).toBe("Disable")
    await onScreen(touchscreen, "welcome")

    // The kiosk's link is down when the operator disables it: the change is pending on the dashboard.
    kiosk.link.cut()
    await toggle.click()
    await dashboard.locator(`tr.has-delta[data-kiosk=${kiosk.kioskId}]`).waitFor({ timeout: LIVE_MS })
    expect(await row.textContent()).toContain("wants false, is true")
    expect(await dashboard.locator("[role=status]").textContent()).toContain("North 1 disabled")
    expect(await toggle.textContent()).toBe("Enable")
    await shoot("dashboard-kiosk-disable-pending")
    expect(await touchscreen.getAttribute(".frame", "data-screen")).toBe("welcome")

    // The link is back: the agent reconnects, applies the desired state, reports; the delta clears.
    kiosk.link.restore()
    await onScreen(touchscreen, "out-of-service", LIVE_MS)
    await dashboard.locator(`tr[data-kiosk=${kiosk.kioskId}]:not(.has-delta)`).waitFor({ timeout: LIVE_MS })
    await shoot("dashboard-kiosk-disabled-applied")
    await touchscreen.click('[data-id="lang"]')
    await touchscreen.waitForSelector('.frame[data-lang="en"]')
    expect(await touchscreen.textContent("main h1")).toBe("Out of service")
    await browser.shot("out-of-service-from-dashboard")

    // It sells nothing: the screen offers no way in, a tap sent anyway changes nothing, and the server
    // refuses an order from this kiosk.
    expect(await touchscreen.locator('[data-id="start"], [data-id="return"]').count()).toBe(0)
    for (const action of [{ _tag: "start" }, { _tag: "return" }]) {
      const answer = await fetch(`${kiosk.agent.uiUrl}api/action`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(action) })
      await answer.text()
    }
    await new Promise((done) => setTimeout(done, 300))
    expect((await kiosk.view()).screen).toBe("out-of-service")
    expect(await touchscreen.getAttribute(".frame", "data-screen")).toBe("out-of-service")
    const refused = await Effect.runPromise(Effect.scoped(orderAtDisabledKiosk))
    expect(refused).toMatchObject({ _tag: "BackendRefused", reason: "kiosk-disabled" })

    // Enabled again from the dashboard: back at welcome, no delta.
    await toggle.click()
    await onScreen(touchscreen, "welcome", LIVE_MS)
    await dashboard.locator(`tr[data-kiosk=${kiosk.kioskId}]:not(.has-delta)`).waitFor({ timeout: LIVE_MS })
    expect(await toggle.textContent()).toBe("Disable")
    expect(await dashboard.locator(`tr[data-kiosk=${deployment.kiosk2}]`).textContent()).toContain("no report")
    await shoot("dashboard-kiosk-enabled-again")
  }, 60_000)
})
