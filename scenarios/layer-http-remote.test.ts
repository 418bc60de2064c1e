import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServe, type ServeProcess } from "../adapters/server/serve-process.js"
import { catalog } from "./catalog.js"
import { checkServer, remoteHttpLayer, remoteRefusal } from "./layer-http-remote.js"
import { simLayer } from "./layer-sim.js"
import { runSuite, type ScenarioResult } from "./runner.js"

/**
 * `ecoupon scenarios run --layer http --server URL`: the runner against a server it did not start,
 * here a real `ecoupon serve --gateways demo` process on a fresh store and a port the OS chose. The
 * smoke suite passes with the answers the sim layer gives (what a shared server cannot run is skipped
 * with its reason); two runs side by side on the same server do not meet; and the CLI refuses a bad
 * token or an unreachable server in one line with a non-zero exit status.
 */

const mainPath = fileURLToPath(new URL("../adapters/cli/main.ts", import.meta.url))

const answers = (results: ReadonlyArray<ScenarioResult>) => results.map((r) => [r.name, r.steps.map((s) => s.answer)])

/** `ecoupon scenarios run ...` as QA type it: exit status and what it wrote. */
const cli = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) =>
  new Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", mainPath, "scenarios", "run", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ECOUPON_TOKEN: "", ...env }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.once("exit", (code) => resolve({ code, stdout, stderr }))
  })

/** A port nothing listens on: one the OS gave, then closed. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer()
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 9))
    })
  })

let directory: string
let serve: ServeProcess

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "ecoupon-remote-scenarios-"))
  serve = await startServe(directory, { gateways: "demo" })
}, 90_000)

afterAll(async () => {
  serve?.child.kill("SIGTERM")
  await serve?.exited
  rmSync(directory, { recursive: true, force: true })
}, 30_000)

describe("the http layer against --server URL (ecoupon serve --gateways demo in its own process)", () => {
  it("passes the smoke suite with the answers the sim layer gives, skipping what a shared server cannot run", async () => {
    const token = serve.token ?? ""
    const layer = remoteHttpLayer({ url: serve.baseUrl, token })
    expect(await checkServer({ url: serve.baseUrl, token })).toBeUndefined()
    const remote = await runSuite({ layer, suite: ["smoke"], seed: 2, runs: 1 })
    expect(remote.filter((r) => !r.ok).map((r) => `${r.name}: ${r.failure}`)).toEqual([])
    const smoke = catalog.filter((s) => s.smoke)
    const skipped = smoke.filter((s) => remoteRefusal(s.commands) !== undefined).map((s) => s.name)
    // The two smoke scenarios that let days pass; the other eight run.
    expect(skipped).toEqual(["claim-10-returned-card-to-institution", "claim-11-unreturned-card-billed"])
    expect(remote.filter((r) => r.skipped !== undefined).map((r) => r.name)).toEqual(skipped)
    const ran = remote.filter((r) => r.skipped === undefined)
    expect(ran.length).toBe(8)
    expect(new Set(ran.map((r) => r.layer))).toEqual(new Set(["http"]))
    for (const result of ran) expect(result.end?.ok, result.name).toBe(true)
    const sim = await runSuite({ layer: simLayer, suite: ran.map((r) => r.name), seed: 2, runs: 1 })
    expect(answers(ran)).toEqual(answers(sim))
  }, 300_000)

  it("lets two runs share the server at once without meeting, and skips the model-based suite with its reason", async () => {
    const layer = remoteHttpLayer({ url: serve.baseUrl, token: serve.token ?? "" })
    const suite = ["claim-3-register-identify-grant", "claim-9-coupon-on-card"]
    const [first, second] = await Promise.all([runSuite({ layer, suite, seed: 5, runs: 1 }), runSuite({ layer, suite, seed: 5, runs: 1 })])
    for (const result of [...(first ?? []), ...(second ?? [])]) expect([result.name, result.failure ?? "ok"]).toEqual([result.name, "ok"])
    // Same seed, same answers: registered (not "identified") both times, every balance its own.
    expect(answers(first ?? [])).toEqual(answers(second ?? []))
    const [model] = await runSuite({ layer, suite: ["model"], seed: 1, runs: 5 })
    expect(model?.skipped).toContain("needs the runner's own server")
  }, 240_000)

  it("refuses a bad token and an unreachable server in one line, exit status 1; runs with the token from ECOUPON_TOKEN", async () => {
    const badToken = await cli(["--layer", "http", "--server", serve.baseUrl, "--suite", "claim-9-coupon-on-card"], { ECOUPON_TOKEN: "eo_0000000000000000.not-a-real-secret" })
    expect(badToken.code).toBe(1)
    expect(badToken.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^ecoupon scenarios: the server at http:\/\/127\.0\.0\.1:\d+ does not accept the token \(401: .*\); give an admin token with --token or ECOUPON_TOKEN$/)])
    expect(badToken.stderr + badToken.stdout).not.toContain("not-a-real-secret")

    const port = await closedPort()
    const unreachable = await cli(["--layer", "http", "--server", `http://127.0.0.1:${port}`, "--token", "eo_x.y"])
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr.trim().split("\n")).toEqual([expect.stringMatching(new RegExp(`^ecoupon scenarios: cannot reach the server at http://127\\.0\\.0\\.1:${port} \\(.*\\); is \`ecoupon serve\` running there\\?$`))])

    const noToken = await cli(["--layer", "http", "--server", serve.baseUrl])
    expect([noToken.code, noToken.stderr.trim()]).toEqual([2, "ecoupon scenarios: --server needs an admin's token: give --token or set ECOUPON_TOKEN"])

    const good = await cli(["--layer", "http", "--server", serve.baseUrl, "--suite", "claim-9-coupon-on-card,claim-11-unreturned-card-billed"], { ECOUPON_TOKEN: serve.token ?? "" })
    expect(good.code).toBe(0)
    expect(good.stderr).toContain("skip claim-11-unreturned-card-billed [http]: needs the runner's own server")
    expect(good.stdout).toContain("1 passed, 0 failed, 1 skipped, on the http layer")
    expect(good.stderr + good.stdout).not.toContain(serve.token ?? "no token")
  }, 240_000)
})
