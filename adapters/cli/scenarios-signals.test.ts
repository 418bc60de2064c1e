import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { catalog } from "../../scenarios/catalog.js"

/**
 * Ctrl-C (and SIGTERM) on a real `ecoupon scenarios run` process: it stops between two steps, prints
 * what ran with a PARTIAL line, writes the JUnit XML and the HTML report of what ran (marked
 * partial), and exits 130 within about a second.
 */

const mainPath = fileURLToPath(new URL("./main.ts", import.meta.url))
const projectRoot = fileURLToPath(new URL("../../", import.meta.url))
const STOP_WITHIN_MS = 1_500
const dir = mkdtempSync(join(tmpdir(), "ecoupon-scenarios-signal-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("ecoupon scenarios run under a signal", () => {
  it("stops mid-suite on SIGTERM, reports what ran marked partial, exits 130", async () => {
    const junit = join(dir, "partial.xml")
    const html = join(dir, "partial.html")
    // The full suite with far more model runs than the test waits for: the signal lands in the model suite.
    const child = spawn(process.execPath, ["--import", "tsx", mainPath, "scenarios", "run", "--suite", "full", "--runs", "100000", "--junit", junit, "--html", html], {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString()))
    const inModel = new Promise<void>((resolve) =>
      child.stderr.on("data", (chunk: Buffer) => {
        err += chunk.toString()
        if (/model: \d+ run\(s\)/.test(err)) resolve()
      })
    )
    const exited = new Promise<{ code: number | null; atMs: number }>((resolve) => child.on("exit", (code) => resolve({ code, atMs: performance.now() })))
    try {
      await inModel
      const sentAt = performance.now()
      child.kill("SIGTERM")
      const { code, atMs } = await exited
      const context = `${out}\n${err}`
      expect(code, context).toBe(130)
      expect(atMs - sentAt, context).toBeLessThan(STOP_WITHIN_MS)
      // Every named scenario had finished; the model suite had not, and is not counted.
      expect(out, context).toContain(`PARTIAL: interrupted after ${catalog.length} scenario result(s)`)
      expect(out, context).toContain(`${catalog.length} passed, 0 failed, on the sim layer`)
      expect(readFileSync(junit, "utf8")).toContain(`tests="${catalog.length}" failures="0"`)
      expect(readFileSync(html, "utf8")).toContain("partial: interrupted")
    } finally {
      child.kill("SIGKILL")
    }
  }, 120_000)
})
