import { existsSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { Effect, type Scope } from "effect"
import { type Browser, chromium } from "playwright-core"

/**
 * Debian's Chromium driven by playwright-core, for the browser tests of the touchscreen and the
 * dashboard (no browser is downloaded at install: `.ci/run` installs the `chromium` package). The
 * flags keep it from reaching for Google's services, which this machine's closed network refuses.
 */
export const CHROMIUM_PATH = process.env["ECOUPON_CHROMIUM"] ?? "/usr/bin/chromium"

export const chromiumAvailable = existsSync(CHROMIUM_PATH)

/** Where tests leave screenshots for a person to look at (ignored by git). */
export const SCREENSHOTS_DIR = join(process.cwd(), ".screenshots")

export const screenshotPath = (name: string): string => {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true })
  return join(SCREENSHOTS_DIR, `${name}.png`)
}

/** A headless Chromium (playwright gives each launch a fresh, temporary profile), closed with the scope. */
export const launchChromium: Effect.Effect<Browser, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() =>
    chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    })
  ),
  (browser) => Effect.promise(() => browser.close())
)
