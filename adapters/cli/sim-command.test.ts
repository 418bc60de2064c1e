import { Command } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it, vi } from "vitest"
import { simCommand } from "./sim-command.js"

const cli = Command.run(Command.make("ecoupon").pipe(Command.withSubcommands([simCommand])), { name: "ecoupon", version: "test" })
const ecoupon = (...args: ReadonlyArray<string>) => Effect.runPromise(cli(["node", "ecoupon", ...args]).pipe(Effect.provide(NodeContext.layer)))

/** What the command wrote to stdout and stderr while `run` ran. */
const captured = async (run: () => Promise<void>) => {
  const out: Array<string> = []
  const err: Array<string> = []
  const log = vi.spyOn(console, "log").mockImplementation((...args: Array<unknown>) => void out.push(args.join(" ")))
  const error = vi.spyOn(console, "error").mockImplementation((...args: Array<unknown>) => void err.push(args.join(" ")))
  const write = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true))
  try {
    await run()
  } finally {
    log.mockRestore()
    error.mockRestore()
    write.mockRestore()
  }
  return { out: out.join("\n"), err: err.join("") }
}

afterEach(() => {
  process.exitCode = undefined
})

describe("ecoupon sim", () => {
  it("runs a small fleet and writes the event log, the KPIs and the report, ending with where the report is", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ecoupon-sim-"))
    const { out, err } = await captured(() => ecoupon("sim", "--kiosks", "1", "--merchants", "2", "--days", "2", "--seed", "4", "--customers-per-day", "15", "--out", dir))
    expect(process.exitCode ?? 0).toBe(0)
    for (const file of ["events.ndjson", "kpis.json", "report.html"]) expect(existsSync(join(dir, file)), file).toBe(true)
    expect(out).toContain("audit            clean")
    // Every claim is named with its figures.
    for (const claims of ["1, 2, 7 ", "3, 5 ", "4 ", "6, 8 ", "9 ", "10 ", "11 "]) expect(out).toContain(`\n  ${claims}`)
    expect(out.trim().split("\n").at(-1)).toBe(`report: ${join(dir, "report.html")}`)
    // Not a terminal here: one progress line per simulated day.
    expect(err).toContain("simulated day 2 of 2 done")
    const kpis = JSON.parse(readFileSync(join(dir, "kpis.json"), "utf8")) as { eventLog: { sha256: string }; journeys: { total: number } }
    expect(out).toContain(kpis.eventLog.sha256)
    expect(kpis.journeys.total).toBeGreaterThan(0)
    expect(readFileSync(join(dir, "events.ndjson"), "utf8")).not.toMatch(/\+\d{8,15}/)
  }, 60_000)

  it("gives the same event log on native SQLite (--store native, and native-file on a temporary file) as on sql.js", async () => {
    const hashes: Array<string> = []
    for (const store of ["sqljs", "native", "native-file"]) {
      const dir = mkdtempSync(join(tmpdir(), `ecoupon-sim-${store}-`))
      await captured(() => ecoupon("sim", "--kiosks", "1", "--merchants", "2", "--days", "1", "--seed", "5", "--customers-per-day", "20", "--store", store, "--out", dir))
      expect(process.exitCode ?? 0, store).toBe(0)
      const kpis = JSON.parse(readFileSync(join(dir, "kpis.json"), "utf8")) as { eventLog: { sha256: string }; journeys: { total: number }; audit: { ok: boolean } }
      expect(kpis.journeys.total, store).toBeGreaterThan(5)
      expect(kpis.audit.ok, store).toBe(true)
      hashes.push(kpis.eventLog.sha256)
    }
    expect(hashes[1]).toBe(hashes[0])
    expect(hashes[2]).toBe(hashes[0])
  }, 60_000)

  it("refuses bad flags with a clear message and exit status 2", async () => {
    const { err } = await captured(() => ecoupon("sim", "--kiosks", "0", "--faults", "card.jamm=0.1", "--out", tmpdir()))
    expect(process.exitCode).toBe(2)
    expect(err).toContain("--kiosks must be a whole number from 1 to 1000, got 0")
    expect(err).toContain('unknown fault knob "card.jamm"')
  })
})
