import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

/**
 * Ctrl-C on a real `ecoupon sim` process (issue 12): it stops within about a second, says how far it
 * got, leaves kpis.json, report.html and events.ndjson marked partial, and exits 130. SIGINT and
 * SIGTERM, on two processes at once to keep the test short.
 */

const mainPath = fileURLToPath(new URL("./main.ts", import.meta.url))
const projectRoot = fileURLToPath(new URL("../../", import.meta.url))
/** The bound the test holds the stop to: the aim is a second, with slack for a loaded 2-core machine. */
const STOP_WITHIN_MS = 1_500

interface Run {
  readonly child: ChildProcess
  readonly out: string
  readonly stdout: Array<string>
  readonly stderr: Array<string>
  readonly started: Promise<void>
  readonly exited: Promise<{ readonly code: number | null; readonly atMs: number }>
}

const startSim = (): Run => {
  const out = mkdtempSync(join(tmpdir(), "ecoupon-sim-signal-"))
  // A week of ten kiosks takes far longer than the test waits: the signal always lands mid-run.
  const child = spawn(process.execPath, ["--import", "tsx", mainPath, "sim", "--kiosks", "10", "--merchants", "20", "--days", "7", "--seed", "1", "--out", out], {
    cwd: projectRoot,
    stdio: ["ignore", "pipe", "pipe"]
  })
  const stdout: Array<string> = []
  const stderr: Array<string> = []
  createInterface({ input: child.stdout! }).on("line", (line) => stdout.push(line))
  const started = new Promise<void>((resolve) => {
    createInterface({ input: child.stderr! }).on("line", (line) => {
      stderr.push(line)
      if (line.includes("simulating (Ctrl-C stops it")) resolve()
    })
  })
  const exited = new Promise<{ readonly code: number | null; readonly atMs: number }>((resolve) =>
    child.once("exit", (code) => resolve({ code, atMs: performance.now() }))
  )
  return { child, out, stdout, stderr, started, exited }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("ecoupon sim under a signal", () => {
  it("stops within a second on SIGINT and on SIGTERM, exits 130 and leaves results marked partial", async () => {
    const runs = [{ signal: "SIGINT" as const, run: startSim() }, { signal: "SIGTERM" as const, run: startSim() }]
    try {
      await Promise.all(runs.map(({ run }) => run.started))
      // Into the simulated day.
      await sleep(500)
      const sentAt = performance.now()
      for (const { signal, run } of runs) run.child.kill(signal)
      for (const { signal, run } of runs) {
        const { code, atMs } = await run.exited
        const context = `${signal}\n${run.stdout.join("\n")}\n${run.stderr.join("\n")}`
        expect(code, context).toBe(130)
        expect(atMs - sentAt, context).toBeLessThan(STOP_WITHIN_MS)
        // How far it got, on both streams.
        const where = new RegExp(`PARTIAL: stopped by ${signal} on day 1 of 7 at \\d\\d:\\d\\d simulated, after \\d+ journeys`)
        expect(run.stdout[0], context).toMatch(where)
        expect(run.stderr.at(-1), context).toMatch(where)
        expect(run.stdout.join("\n")).toContain("audit            not run (partial run)")
        const kpis = JSON.parse(readFileSync(join(run.out, "kpis.json"), "utf8")) as { partial: boolean; interrupted: { reason: string; day: number; days: number }; audit: { skipped: boolean } }
        expect(kpis.partial).toBe(true)
        expect(kpis.interrupted).toMatchObject({ reason: signal, day: 1, days: 7 })
        expect(kpis.audit.skipped).toBe(true)
        const report = readFileSync(join(run.out, "report.html"), "utf8")
        expect(report).toContain("(partial)</title>")
        expect(report).toContain(`PARTIAL: stopped by ${signal}`)
        const events = readFileSync(join(run.out, "events.ndjson"), "utf8").trim().split("\n")
        expect(JSON.parse(events.at(-1) ?? "{}")).toMatchObject({ k: "run.end", partial: true, interrupted: signal })
      }
    } finally {
      for (const { run } of runs) if (run.child.exitCode === null) run.child.kill("SIGKILL")
    }
  }, 90_000)
})
