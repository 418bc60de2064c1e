import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

/**
 * `ecoupon serve --gateways http` as operators run it: without its settings it refuses to start in
 * one line naming the missing variable, and exits (no listener left open). The gateways working
 * with their settings: scenarios/bench/serve.ts and the gateway tests.
 */
const mainPath = fileURLToPath(new URL("../cli/main.ts", import.meta.url))
const temporaryDirectory = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "ecoupon-gateways-"))),
  (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
)

describe("ecoupon serve --gateways http", () => {
  it.scopedLive("refuses to start without its settings, in one line that names the variable", () =>
    Effect.gen(function* () {
      const directory = yield* temporaryDirectory
      const child = spawn(process.execPath, ["--import", "tsx", mainPath, "serve", "--database", directory, "--port", "0", "--gateways", "http"], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ECOUPON_MASTER_KEY: "", ECOUPON_SMS_URL: "", ECOUPON_SMS_TOKEN: "" }
      })
      const output: Array<string> = []
      child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")))
      child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")))
      const code = yield* Effect.promise(() => new Promise<number | null>((done) => child.once("exit", (exitCode: number | null) => done(exitCode))))
      const text = output.join("")
      expect(code).toBe(1)
      expect(text).toContain("ECOUPON_SMS_URL")
      expect(text).not.toMatch(/^\s+at /m)
      expect(text).not.toContain("listening on")
    }), 60_000)

})
