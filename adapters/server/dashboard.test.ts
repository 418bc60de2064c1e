import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { KioskTwins } from "../../core/twin.js"
import { sqljsTestLayer } from "../store/testing.js"
import { chromiumAvailable, launchChromium, screenshotPath } from "../web/chromium.js"
import { deployment, liveServer } from "./testing.js"

const promise = <A>(run: () => Promise<A>) => Effect.promise(run)

describe.skipIf(!chromiumAvailable)("the fleet dashboard in Chromium", () => {
  it.scopedLive("refuses a wrong token, and shows the fleet with a kiosk's delta live", () =>
    Effect.gen(function* () {
      const server = yield* liveServer(sqljsTestLayer)
      const token = yield* server.issue("operator", "night shift", "operator")
      const twins = yield* Effect.provide(KioskTwins, server.context)
      const browser = yield* launchChromium
      const page = yield* promise(() => browser.newPage({ viewport: { width: 1400, height: 900 } }))

      yield* promise(() => page.goto(`${server.baseUrl}/`))
      yield* promise(() => page.fill("#token", "eo_not_a_real_token"))
      yield* promise(() => page.click("button[type=submit]"))
      const refusal = yield* promise(() => page.locator("[role=alert]").textContent())
      expect(refusal).toMatch(/credential|token|key/i)
      yield* promise(() => page.screenshot({ path: screenshotPath("dashboard-login-refused") }))

      yield* promise(() => page.fill("#token", token))
      yield* promise(() => page.click("button[type=submit]"))
      const row1 = page.locator(`tr[data-kiosk=${deployment.kiosk1}]`)
      yield* promise(() => row1.waitFor())
      expect(yield* promise(() => row1.textContent())).toContain("no report")

      // The kiosk reports running disabled while it should be enabled: the delta reaches the page live.
      const twin = yield* twins.get(deployment.kiosk1)
      yield* twins.report(deployment.kiosk1, twin.reportedVersion + 1, {
        deviceStatus: "ok",
        stackerLevel: deployment.stackerCards,
        stackerSensed: "ok",
        binCount: 0,
        unidentifiedCaptures: 0,
        softwareVersion: "agent 1.0.0",
        appliedDesiredVersion: twin.desiredVersion,
        enabled: false,
        returnDeadlineDays: twin.desired.returnDeadlineDays,
        catalogVersion: twin.regionCatalogVersion,
        config: twin.desired.config
      })
      yield* promise(() => row1.locator("td.delta").first().waitFor({ timeout: 10_000 }))
      expect(yield* promise(() => row1.locator("td.delta").count())).toBeGreaterThan(0)
      expect(yield* promise(() => row1.textContent())).toContain("wants true, is false")
      yield* promise(() => page.screenshot({ path: screenshotPath("dashboard-fleet-delta"), fullPage: true }))
      // Disabling a kiosk from the page, with its live agent turning out of service:
      // scenarios/kiosk-disabled-from-dashboard.test.ts.
    }), 60_000)
})
