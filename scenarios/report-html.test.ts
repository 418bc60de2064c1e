import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium } from "playwright-core"
import { afterAll, describe, expect, it } from "vitest"
import { defectNamed } from "./defects.js"
import { simLayer } from "./layer-sim.js"
import { renderHtmlReport } from "./report-html.js"
import { runSuite } from "./runner.js"

/** The HTML report as a person sees it, in headless Chromium: the failure first, its steps side by side, the replay line. */
const dir = mkdtempSync(join(tmpdir(), "ecoupon-scenarios-html-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("the HTML report", () => {
  it("shows a failing scenario's steps next to the model's expectations, and the replay command", async () => {
    const wrap = defectNamed("card-return-refunds-twice")?.wrap
    const results = await runSuite({ layer: simLayer, suite: ["claim-1-order-at-kiosk", "story-card-returned-elsewhere"], seed: 2, runs: 1, wrap })
    const html = renderHtmlReport(results, { seed: 2, suite: "test", generatedAt: "2026-12-05T00:00:00Z", wallMs: 10 })
    expect(html).not.toMatch(/<script|https?:\/\//)
    const path = join(dir, "report.html")
    writeFileSync(path, html)
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    })
    try {
      const context = await browser.newContext()
      const page = await context.newPage()
      await page.goto(`file://${path}`)
      expect(await page.locator(".verdict").innerText()).toBe("1 of 2 failed")
      // Failures come first, open; the passing scenario's steps are folded away.
      const failed = page.locator("section.failed")
      expect(await failed.getAttribute("id")).toBe("story-card-returned-elsewhere")
      const badRow = failed.locator("tr.bad").first()
      expect(await badRow.innerText()).toContain("the holder of card #0 returns it at ksk_south")
      expect(await badRow.innerText()).toContain("institution ins_south: model 1200, system 2400")
      expect(await failed.locator("pre").innerText()).toMatch(/^ecoupon scenarios run --replay [\w-]+$/)
      expect(await page.locator("section.passed table").first().isVisible()).toBe(false)
    } finally {
      await browser.close()
    }
  }, 30_000)
})
