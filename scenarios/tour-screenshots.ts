import { spawn } from "node:child_process"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { chromium, type Page } from "playwright-core"
import { CHROMIUM_PATH } from "./testing/browser.js"

/**
 * The README's tour: `npx tsx scenarios/tour-screenshots.ts [DIR]` starts `ecoupon demo`, walks a
 * purchase by hand on the first kiosk's touchscreen in headless Chromium (the code read off the
 * phone page), logs into the fleet dashboard with the printed token, and writes the PNGs the README
 * shows to DIR (default docs/screenshots/). Then stops the demo with SIGINT.
 */

const projectRoot = fileURLToPath(new URL("../", import.meta.url))
const out = process.argv[2] ?? join(projectRoot, "docs", "screenshots")
mkdirSync(out, { recursive: true })

const demo = spawn(process.execPath, ["--import", "tsx", join(projectRoot, "adapters/cli/main.ts"), "demo", "--port", "0", "--kiosks", "4"], {
  cwd: projectRoot,
  stdio: ["ignore", "pipe", "ignore"],
  env: { ...process.env, ECOUPON_MASTER_KEY: "" }
})
const lines: Array<string> = []
createInterface({ input: demo.stdout }).on("line", (line) => {
  lines.push(line)
  process.stdout.write(`${line}\n`)
})
const printed = async (pattern: RegExp): Promise<string> => {
  for (let i = 0; i < 600; i++) {
    for (const line of lines) {
      const found = pattern.exec(line)?.[1]
      if (found !== undefined) return found
    }
    await new Promise((done) => setTimeout(done, 200))
  }
  throw new Error(`the demo did not print ${pattern}`)
}

const dashboard = await printed(/Fleet dashboard\s+(http:\/\/\S+)\//)
const token = await printed(/Log in with\s+(eo_\S+)/)
const touchscreen = await printed(/Touchscreen\s+(http:\/\/\S+?)\/?\s/)
const phone = await printed(/Phone\s+(http:\/\/\S+?)\/?\s/)

const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] })
const shot = (page: Page, name: string) => page.screenshot({ path: join(out, `${name}.png`) })
const onScreen = (page: Page, screen: string) => page.waitForSelector(`.frame[data-screen="${screen}"][data-busy="false"]`, { timeout: 15_000 })
const tap = (page: Page, id: string) => page.click(`[data-id="${id}"]`)
const typeDigits = async (page: Page, digits: string) => {
  for (const d of digits) await tap(page, `key-${d}`)
}

try {
  const kiosk = await (await browser.newContext({ viewport: { width: 600, height: 960 } })).newPage()
  await kiosk.goto(touchscreen)
  await onScreen(kiosk, "welcome")
  // The kiosk opens in Korean (a CJK font must be installed: Debian's fonts-noto-cjk), then the
  // walk goes on in English.
  await shot(kiosk, "kiosk-0-welcome-ko")
  await tap(kiosk, "lang")
  await kiosk.waitForSelector('.frame[data-lang="en"]')
  await shot(kiosk, "kiosk-1-welcome")
  await tap(kiosk, "start")
  await onScreen(kiosk, "phone")
  await typeDigits(kiosk, "01012345678")
  await shot(kiosk, "kiosk-2-phone")
  await tap(kiosk, "next")
  await onScreen(kiosk, "code")

  const phonePage = await (await browser.newContext({ viewport: { width: 480, height: 640 } })).newPage()
  await phonePage.goto(`${phone}/?number=010-1234-5678`)
  // The page reloads itself every 2 s; the code arrives within a second or so.
  await phonePage.waitForSelector(".inbox .code", { timeout: 15_000 })
  await shot(phonePage, "phone-page")
  const code = (await phonePage.textContent(".inbox .code")) ?? ""

  await typeDigits(kiosk, code)
  await tap(kiosk, "confirm-code")
  await onScreen(kiosk, "offers")
  await shot(kiosk, "kiosk-3-offers")
  await tap(kiosk, "offer-off_latte")
  await onScreen(kiosk, "order")
  await tap(kiosk, "next")
  await onScreen(kiosk, "confirm")
  await tap(kiosk, "buy")
  await kiosk.waitForSelector('.steps li.now[data-step="take-card"]', { timeout: 15_000 })
  await shot(kiosk, "kiosk-4-take-card")
  await tap(kiosk, "sim-take")
  await onScreen(kiosk, "receipt")
  await shot(kiosk, "kiosk-5-receipt")
  await tap(kiosk, "finish")

  // Let the simulated customers sell for a while, so the dashboard has something to show.
  await new Promise((done) => setTimeout(done, 20_000))
  const ops = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
  await ops.goto(`${dashboard}/`)
  await ops.fill("#token", token)
  await ops.click("button[type=submit]")
  await ops.waitForSelector("tr[data-kiosk]", { timeout: 15_000 })
  await new Promise((done) => setTimeout(done, 6_000))
  await ops.screenshot({ path: join(out, "dashboard.png"), fullPage: true })
} finally {
  await browser.close()
  demo.kill("SIGINT")
}
