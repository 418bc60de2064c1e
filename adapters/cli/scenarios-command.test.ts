import { Command } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, describe, expect, it, vi } from "vitest"
import { catalog } from "../../scenarios/catalog.js"
import { encodeToken } from "../../scenarios/replay-token.js"
import { scenariosCommand } from "./scenarios-command.js"

const cli = Command.run(Command.make("ecoupon").pipe(Command.withSubcommands([scenariosCommand])), { name: "ecoupon", version: "test" })
const ecoupon = (...args: ReadonlyArray<string>) => Effect.runPromise(cli(["node", "ecoupon", ...args]).pipe(Effect.provide(NodeContext.layer)))

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

const dir = mkdtempSync(join(tmpdir(), "ecoupon-scenarios-cli-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
afterEach(() => {
  process.exitCode = undefined
})

describe("ecoupon scenarios", () => {
  it("lists every scenario with its given/when/then", async () => {
    const { out } = await captured(() => ecoupon("scenarios", "list"))
    for (const scenario of catalog) expect(out).toContain(scenario.name)
    expect(out).toContain("given a customer holding a card")
  })

  it("runs the smoke suite with progress, a summary, JUnit XML and the HTML report; exit 0", async () => {
    const junit = join(dir, "smoke.xml")
    const html = join(dir, "smoke.html")
    const { out, err } = await captured(() => ecoupon("scenarios", "run", "--suite", "smoke", "--seed", "5", "--junit", junit, "--html", html))
    expect(process.exitCode ?? 0).toBe(0)
    const smoke = catalog.filter((s) => s.smoke).length
    expect(err).toContain("ok   claim-1-order-at-kiosk [sim]")
    expect(out).toContain(`${smoke} passed, 0 failed, on the sim layer`)
    expect(readFileSync(junit, "utf8")).toContain(`<testsuite name="ecoupon scenarios (sim)" tests="${smoke}" failures="0"`)
    expect(readFileSync(html, "utf8")).toContain(`All ${smoke} passed`)
  }, 30_000)

  it("replays a token, and refuses an unknown scenario or a broken token with exit 2", async () => {
    const token = encodeToken({ v: 1, layer: "sim", suite: "story-card-not-taken", seed: 3 })
    const replayed = await captured(() => ecoupon("scenarios", "run", "--replay", token))
    expect(process.exitCode ?? 0).toBe(0)
    expect(replayed.err).toContain("replaying story-card-not-taken on the sim layer, seed 3")
    const unknown = await captured(() => ecoupon("scenarios", "run", "--suite", "smoke-test,claim-99"))
    expect(process.exitCode).toBe(2)
    expect(unknown.err).toContain("no scenario named smoke-test, claim-99; `ecoupon scenarios list` names them all")
    process.exitCode = undefined
    const broken = await captured(() => ecoupon("scenarios", "run", "--replay", "abc"))
    expect(process.exitCode).toBe(2)
    expect(broken.err).toContain("copy the whole word after --replay")
  }, 30_000)

  it("checks determinism: every smoke scenario twice, the same trace hash", async () => {
    const { out } = await captured(() => ecoupon("scenarios", "run", "--check-determinism", "--seed", "9"))
    expect(process.exitCode ?? 0).toBe(0)
    const smoke = catalog.filter((s) => s.smoke).length
    expect(out).toContain(`determinism: ${smoke} of ${smoke} gave the same trace twice (seed 9)`)
    const elsewhere = await captured(() => ecoupon("scenarios", "run", "--check-determinism", "--layer", "http"))
    expect(process.exitCode).toBe(2)
    expect(elsewhere.err).toContain("--check-determinism runs each seed twice on the sim layer")
  }, 30_000)
})
