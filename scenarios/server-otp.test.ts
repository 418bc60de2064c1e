import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Logger, LogLevel, Schedule } from "effect"
import { PhoneNumber } from "../core/domain/ids.js"
import { liveServer, deployment } from "../adapters/server/testing.js"
import { SimSmsControl } from "../sim/sms.js"
import { SimServicesLive } from "../sim/layers.js"
import { sqljsTestLayer } from "../adapters/store/testing.js"

/**
 * One-time codes over HTTP, with the server's outbox worker sending them through the simulated SMS
 * gateway: the sixth try at a challenge (after five wrong codes) is refused even with the right code;
 * a sixth challenge for one phone within the window is rate limited (429). Every log line of the run
 * (the server's own, at every level, and anything written to stdout or stderr) is captured: none
 * carries the phone number (invariant 10).
 */
const PHONE = "+821055512345"

const post = (url: string, key: string, body: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify(body) })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  })

describe("one-time codes over HTTP", () => {
  it.scopedLive("locks a challenge after five wrong codes, rate-limits challenges per phone, and logs no phone number", () => {
    const lines: Array<string> = []
    const capture = Logger.map(Logger.logfmtLogger, (line) => void lines.push(line))
    const writes = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) }
    return Effect.gen(function* () {
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          process.stdout.write = ((chunk: string | Uint8Array, ...rest: Array<never>) => (lines.push(String(chunk)), writes.stdout(chunk, ...rest))) as typeof process.stdout.write
          process.stderr.write = ((chunk: string | Uint8Array, ...rest: Array<never>) => (lines.push(String(chunk)), writes.stderr(chunk, ...rest))) as typeof process.stderr.write
        }),
        () =>
          Effect.sync(() => {
            process.stdout.write = writes.stdout
            process.stderr.write = writes.stderr
          })
      )
      const sim = yield* Layer.build(SimServicesLive({ seed: 7 }))
      const server = yield* liveServer(
        // Built inside the run, so the server's fibers log through the capture too.
        sqljsTestLayer,
        {},
        { gateways: Layer.succeedContext(sim) }
      )
      const sms = Context.get(sim, SimSmsControl)
      const key = yield* server.issue("kiosk", deployment.kiosk1)
      const codes = `${server.baseUrl}/v1/kiosk/codes`
      const codeOnPhone = (after: number) =>
        sms.inbox(PhoneNumber.make(PHONE)).pipe(
          Effect.map((inbox) => inbox.slice(after).at(-1)?.text.match(/code (\d+)/)?.[1]),
          Effect.flatMap((code) => (code === undefined ? Effect.fail("no code yet") : Effect.succeed(code))),
          // Waits on the condition (the SMS reached the phone), for at most ten seconds.
          Effect.retry({ schedule: Schedule.spaced(Duration.millis(20)), times: 500 }),
          Effect.orDie
        )

      const first = yield* post(codes, key, { phone: PHONE })
      expect(first.status).toBe(200)
      const challengeId = String(first.body["challengeId"])
      const code = yield* codeOnPhone(0)
      expect(code).toMatch(/^\d{6}$/)
      const wrong = code === "000000" ? "111111" : "000000"
      const tries: Array<string> = []
      for (let attempt = 1; attempt <= 5; attempt++) {
        const answer = yield* post(`${codes}/${challengeId}/verify`, key, { code: wrong })
        tries.push(`${answer.status} ${String(answer.body["reason"])}`)
      }
      expect(tries.slice(0, 4)).toEqual(Array.from({ length: 4 }, () => "422 wrong-code"))
      const sixth = yield* post(`${codes}/${challengeId}/verify`, key, { code })
      expect([sixth.status, sixth.body["reason"], sixth.body["type"]]).toEqual([429, "code-locked", "urn:ecoupon:problem:code-locked"])

      const more: Array<number> = []
      for (let request = 2; request <= 6; request++) more.push((yield* post(codes, key, { phone: PHONE })).status)
      expect(more).toEqual([200, 200, 200, 200, 429])

      expect(lines.some((line) => line.includes("answered"))).toBe(true)
      const digits = PHONE.slice(1)
      expect(lines.filter((line) => line.includes(digits) || line.includes(digits.slice(-8)))).toEqual([])
    }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)), Logger.withMinimumLogLevel(LogLevel.All))
  }, 60_000)
})
