import { Clock, Effect, Option } from "effect"
import type { CouponPrinterService, PrintedCoupon } from "../../core/ports/coupon-printer.js"
import { printerProblem } from "../escpos-driver.js"
import { decodeStatusBytes, isStatusByte, statusQueries, statusRequest, type StatusQuery } from "../escpos-codec.js"
import type { SerialLink } from "../serial-transport.js"
import { type Check, expectThat, Mismatch, skip } from "./suite.js"

/**
 * The ESC/POS conformance checks, in order. Only the print check uses paper, and only with
 * `allowDispense` of at least 1 (one test coupon).
 */

export interface EscPosSuiteOptions {
  /** Pages the suite may print (0: nothing is printed). */
  readonly allowDispense: number
  /** How long the printer has to answer a real-time status query. */
  readonly statusTimeoutMs: number
}

export const testCoupon: PrintedCoupon = {
  code: "TEST-0000-0000",
  title: "ecoupon bench test",
  merchantName: "hil escpos conformance",
  valuePoints: 0,
  expiresAt: "not valid",
  lines: ["This slip is a printer test.", "It has no value."]
}

export const escposChecks = (link: SerialLink, printer: CouponPrinterService, options: EscPosSuiteOptions): ReadonlyArray<Check<never>> => {
  /** One raw query: the answer byte and how long it took, or the reason there was none. */
  const ask = (n: StatusQuery, timeoutMs: number) =>
    Effect.gen(function* () {
      yield* link.discardInput
      const started = yield* Clock.currentTimeMillis
      yield* link.write(statusRequest(n))
      const deadline = started + timeoutMs
      let odd: number | undefined
      for (;;) {
        const left = deadline - (yield* Clock.currentTimeMillis)
        const chunk = left > 0 ? yield* link.read(left) : Option.none()
        if (Option.isNone(chunk)) {
          return yield* new Mismatch({
            detail:
              odd === undefined
                ? `no answer to DLE EOT ${n} within ${timeoutMs} ms`
                : `DLE EOT ${n} answered 0x${odd.toString(16)}, whose fixed bits (1 and 4 set, 0 and 7 clear) are wrong`
          })
        }
        const answer = chunk.value.find(isStatusByte)
        if (answer !== undefined) return { answer, ms: (yield* Clock.currentTimeMillis) - started }
        odd ??= chunk.value[0]
      }
    })

  return [
    {
      id: "status.answers",
      title: "Each real-time status query (DLE EOT 1-4) is answered at once with a well-formed byte",
      run: Effect.gen(function* () {
        const parts: Array<string> = []
        for (const n of statusQueries) {
          const { answer, ms } = yield* ask(n, options.statusTimeoutMs)
          parts.push(`${n}:0x${answer.toString(16).padStart(2, "0")} in ${ms} ms`)
        }
        return parts.join(", ")
      })
    },
    {
      id: "status.ready",
      title: "The printer reports itself ready: online, cover closed, paper in, no error",
      run: Effect.gen(function* () {
        const s = yield* printer.status
        const answers: Array<number> = []
        for (const n of statusQueries) answers.push((yield* ask(n, options.statusTimeoutMs)).answer)
        const [b1 = 0, b2 = 0, b3 = 0, b4 = 0] = answers
        const problem = printerProblem("printer", decodeStatusBytes([b1, b2, b3, b4]))
        yield* expectThat(problem === undefined, problem?.message ?? "")
        return `online, paper ${s.paper}`
      })
    },
    {
      id: "print.coupon",
      title: "A test coupon prints (code as text and QR, cut), status checked before and after",
      timeoutMs: 30_000,
      run: Effect.gen(function* () {
        if (options.allowDispense < 1) return yield* skip("uses paper: run with --allow-dispense 1 or more")
        yield* printer.print(testCoupon)
        return `printed "${testCoupon.code}"; check the slip: text lines, a QR code reading ${testCoupon.code}, a clean cut`
      })
    },
    {
      id: "status.after",
      title: "The printer is still ready after the suite",
      run: Effect.gen(function* () {
        const s = yield* printer.status
        yield* expectThat(s.online && s.paper !== "out" && !s.cutterError && !s.unrecoverableError, `status after the suite: ${JSON.stringify(s)}`)
        return s.paper === "near-end" ? "ready, paper near its end" : "ready"
      })
    }
  ]
}
