import { Clock, Effect } from "effect"
import { type Crt591Timing, defaultTiming, deviceName, makeCardUnit } from "../crt591-driver.js"
import { type Crt591LinkOptions, defaultLinkOptions, makeCrt591Link } from "../crt591-link.js"
import { defaultEscPosTiming, makeCouponPrinter, printerDeviceName } from "../escpos-driver.js"
import type { LineSettings, PortBinding } from "../serial-port.js"
import { openLink } from "../serial-transport.js"
import { crt591Checks, type Crt591SuiteOptions, defaultCrt591SuiteOptions } from "./crt591-checks.js"
import { escposChecks } from "./escpos-checks.js"
import { type CheckResult, runSuite, type SuiteReport } from "./suite.js"

/**
 * Opens the port and runs one suite against whatever is on it. A port that will not open is itself
 * a result (one FAIL), so the console, the exit code and the JUnit file all say what happened.
 */

export interface BenchTarget {
  readonly path: string
  readonly line?: Partial<LineSettings>
  readonly binding?: PortBinding
  readonly onResult?: (result: CheckResult) => Effect.Effect<void>
}

const CHECK_TIMEOUT_MS = 20_000

const portFailure = (suite: string, target: BenchTarget, started: number) => (error: { readonly message: string }) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const result: CheckResult = { id: "port.open", title: `Open ${target.path}`, verdict: "FAIL", detail: error.message, durationMs: now - started }
    if (target.onResult) yield* target.onResult(result)
    return { suite, target: target.path, durationMs: now - started, results: [result] } satisfies SuiteReport
  })

export const runCrt591Bench = (
  target: BenchTarget & { readonly address?: number; readonly link?: Partial<Crt591LinkOptions>; readonly timing?: Partial<Crt591Timing> },
  options: Partial<Crt591SuiteOptions> = {}
): Effect.Effect<SuiteReport> =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const device = deviceName(target.path)
        const serial = yield* openLink({ path: target.path, device, ...(target.line ? { line: target.line } : {}), ...(target.binding ? { binding: target.binding } : {}) })
        const crt = yield* makeCrt591Link(serial, device, { ...defaultLinkOptions, ...target.link, address: target.address ?? 0 })
        const unit = makeCardUnit(crt, { ...defaultTiming, ...target.timing })
        return yield* runSuite({
          suite: "crt591",
          target: target.path,
          checks: crt591Checks(crt, unit, { ...defaultCrt591SuiteOptions, ...options }),
          checkTimeoutMs: CHECK_TIMEOUT_MS,
          ...(target.onResult ? { onResult: target.onResult } : {})
        })
      })
    ).pipe(Effect.catchAll(portFailure("crt591", target, started)))
  })

export const runEscPosBench = (target: BenchTarget, options: { readonly allowDispense: number }): Effect.Effect<SuiteReport> =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const device = printerDeviceName(target.path)
        const serial = yield* openLink({ path: target.path, device, ...(target.line ? { line: target.line } : {}), ...(target.binding ? { binding: target.binding } : {}) })
        const printer = yield* makeCouponPrinter(serial, device, defaultEscPosTiming)
        return yield* runSuite({
          suite: "escpos",
          target: target.path,
          checks: escposChecks(serial, printer, { allowDispense: options.allowDispense, statusTimeoutMs: defaultEscPosTiming.statusTimeoutMs }),
          checkTimeoutMs: CHECK_TIMEOUT_MS,
          ...(target.onResult ? { onResult: target.onResult } : {})
        })
      })
    ).pipe(Effect.catchAll(portFailure("escpos", target, started)))
  })
