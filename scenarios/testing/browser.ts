import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type BrowserContext, chromium, type Page } from "playwright-core"

/**
 * Debian's Chromium, headless, with a fresh profile that is deleted on close: what the touchscreen
 * tests and the kiosk benchmark drive. Screenshots go to `.screenshots/kiosk/` (ignored by git) for a
 * person to look at.
 */

export const CHROMIUM_PATH = process.env["ECOUPON_CHROMIUM"] ?? "/usr/bin/chromium"

export const SCREENSHOT_DIR = join(process.cwd(), ".screenshots", "kiosk")

export interface Browser {
  readonly page: Page
  readonly context: BrowserContext
  /** Saves a PNG of the page as `.screenshots/kiosk/<name>.png`. */
  readonly shot: (name: string) => Promise<void>
  readonly close: () => Promise<void>
}

export const openBrowser = async (url: string, viewport = { width: 800, height: 1280 }): Promise<Browser> => {
  const profile = mkdtempSync(join(tmpdir(), "ecoupon-chromium-"))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
  })
  const page = context.pages()[0] ?? (await context.newPage())
  await page.goto(url)
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  return {
    page,
    context,
    shot: async (name) => void (await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) })),
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  }
}

/** Waits until the touchscreen shows `screen` and is not waiting for an answer. */
export const onScreen = (page: Page, screen: string, timeoutMs = 10_000) =>
  page.waitForSelector(`.frame[data-screen="${screen}"][data-busy="false"]`, { timeout: timeoutMs })

/** Taps the button with `data-id` (the page's test hooks are its buttons' ids). */
export const tap = (page: Page, id: string) => page.click(`[data-id="${id}"]`)

/** Types digits on the on-screen keypad. */
export const typeDigits = async (page: Page, digits: string) => {
  for (const d of digits) await tap(page, `key-${d}`)
}
