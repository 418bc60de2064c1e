import { existsSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { OfferId } from "../core/domain/ids.js"
import { type Browser, CHROMIUM_PATH, onScreen, openBrowser, tap, typeDigits } from "./testing/browser.js"
import { cake, kioskId, type LocalKiosk, merchant, region, startLocalKiosk } from "./testing/local-kiosk.js"

/**
 * The touchscreen in a real browser (Debian's Chromium through playwright-core), driving a kiosk
 * agent on sim hardware over the in-process backend: every tap is a real click on the page, every
 * screen the agent's answer pushed over server-sent events. Screenshots land in .screenshots/kiosk/.
 */

const haveChromium = existsSync(CHROMIUM_PATH)
if (!haveChromium) console.log(`touchscreen tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`)

let kiosk: LocalKiosk
let browser: Browser

beforeAll(async () => {
  if (!haveChromium) return
  kiosk = await startLocalKiosk({ agent: { reportIntervalMs: 60_000 } })
  browser = await openBrowser(kiosk.agent.uiUrl)
})
afterAll(async () => {
  await browser?.close()
  await kiosk?.close()
})

const signIn = async (phoneDigits: string, shots?: string) => {
  const { page } = browser
  await onScreen(page, "welcome")
  if (shots) await browser.shot(`${shots}-01-welcome`)
  await tap(page, "start")
  await onScreen(page, "phone")
  await typeDigits(page, phoneDigits)
  if (shots) await browser.shot(`${shots}-02-phone`)
  await tap(page, "next")
  await onScreen(page, "code")
  const code = await kiosk.codeFor(`+82${phoneDigits.slice(1)}`)
  await typeDigits(page, code)
  if (shots) await browser.shot(`${shots}-03-code`)
  await tap(page, "confirm-code")
  await onScreen(page, "offers")
}

describe.skipIf(!haveChromium)("the kiosk touchscreen in Chromium", () => {
  it("sells a coupon on a card by touch, in Korean, after a wrong code and then the right one", async () => {
    const { page } = browser
    await onScreen(page, "welcome")
    await tap(page, "start")
    await onScreen(page, "phone")
    await typeDigits(page, "01020000001")
    expect(await page.textContent('[data-id="display"]')).toBe("010-2000-0001")
    await tap(page, "next")
    await onScreen(page, "code")
    expect(await page.textContent("main .lead")).toContain("•••• 0001")
    const code = await kiosk.codeFor("+821020000001")
    const wrong = code === "000000" ? "111111" : "000000"
    await typeDigits(page, wrong)
    await tap(page, "confirm-code")
    await page.waitForSelector('[data-id="notice"]')
    expect(await page.textContent('[data-id="notice"]')).toContain("인증번호가 맞지 않습니다")
    await browser.shot("ko-03-wrong-code")
    await typeDigits(page, code)
    await tap(page, "confirm-code")
    await onScreen(page, "offers")
    expect(await page.textContent('[data-id="balance"]')).toBe("10,000 P")
    await browser.shot("ko-04-offers")
    await tap(page, "offer-off_coffee")
    await onScreen(page, "order")
    await browser.shot("ko-05-order")
    await tap(page, "next")
    await onScreen(page, "confirm")
    await browser.shot("ko-06-confirm")
    await tap(page, "buy")
    await page.waitForSelector('.steps li.now[data-step="take-card"]')
    await browser.shot("ko-07-take-card")
    await tap(page, "sim-take")
    await onScreen(page, "receipt")
    expect(await page.textContent('[data-id="balance-after"]')).toBe("8,500 P")
    expect(await page.textContent('[data-id="coupon-code"]')).toMatch(/\S{4,}/)
    await browser.shot("ko-08-receipt")
    await tap(page, "finish")
    await onScreen(page, "welcome")
  })

  it("takes the card back and tells how much goes to the institution", async () => {
    const { page } = browser
    await onScreen(page, "welcome")
    await tap(page, "return")
    await onScreen(page, "return-insert")
    await browser.shot("ko-09-insert-card")
    await tap(page, "sim-insert")
    await onScreen(page, "return-result")
    expect(await page.textContent('[data-id="forwarded"]')).toContain("1,500 P")
    await browser.shot("ko-10-returned")
    await tap(page, "finish")
    await onScreen(page, "welcome")
    const audit = await kiosk.runWithServices((s) => s.auditor.run)
    expect(audit.checks.filter((c) => !c.ok)).toEqual([])
  })

  it("sells two coupons on paper in English, and re-renders the offers when the catalog changes", async () => {
    const { page } = browser
    await onScreen(page, "welcome")
    await tap(page, "lang")
    await page.waitForSelector('.frame[data-lang="en"]')
    await signIn("01020000002", "en")
    expect(await page.textContent("main h1")).toBe("Choose a coupon")
    // A merchant adds an offer while the customer looks at the list: it appears without a reload.
    await kiosk.runWithServices((s) =>
      s.catalog.upsertOffer({ offerId: OfferId.make("off_tea"), merchantId: merchant, title: "Tea", pricePoints: 1_000, stock: 20, validFromMs: 0, validUntilMs: Date.now() + 86_400_000, couponValidityMs: 86_400_000, regions: [region] })
    )
    await page.waitForSelector('[data-id="offer-off_tea"]')
    await browser.shot("en-04-offers-after-catalog-change")
    await tap(page, `offer-${cake}`)
    await onScreen(page, "order")
    await tap(page, "qty-more")
    await tap(page, "medium-paper")
    expect(await page.textContent('[data-id="total"]')).toBe("6,000 P")
    await browser.shot("en-05-order")
    await tap(page, "next")
    await onScreen(page, "confirm")
    await tap(page, "buy")
    await onScreen(page, "receipt")
    expect(await page.textContent("main h1")).toBe("Thank you!")
    expect(await page.textContent('[data-id="balance-after"]')).toBe("4,000 P")
    await browser.shot("en-08-receipt-paper")
    await tap(page, "finish")
    await onScreen(page, "welcome")
    expect(await page.getAttribute(".frame", "data-lang")).toBe("ko")
  })

  it("refuses more than the balance in plain words, and shows out of service while disabled", async () => {
    const { page } = browser
    await signIn("01020000003")
    await tap(page, `offer-${cake}`)
    await onScreen(page, "order")
    for (let i = 0; i < 3; i++) await tap(page, "qty-more")
    await tap(page, "next")
    await page.waitForSelector('[data-id="notice"]')
    expect(await page.textContent('[data-id="notice"]')).toContain("포인트가 부족합니다")
    await browser.shot("ko-11-insufficient-points")
    await tap(page, "back")
    await onScreen(page, "offers")
    await tap(page, "finish")
    await onScreen(page, "welcome")
    await kiosk.runWithServices((s) => s.twins.setDesired(kioskId, { enabled: false }))
    await onScreen(page, "out-of-service")
    await browser.shot("ko-12-out-of-service")
    await kiosk.runWithServices((s) => s.twins.setDesired(kioskId, { enabled: true }))
    await onScreen(page, "welcome")
  })
})
