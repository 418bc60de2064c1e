import { Cause, Clock, Data, Effect, Exit, Option } from "effect"

/**
 * The bench conformance runner: an ordered list of checks, each PASS, FAIL or SKIP with its timing
 * and one line of detail. A check is an Effect that succeeds with its detail, fails with `Skip` when
 * it cannot run here (no permission to move cards, a precondition the unit does not meet), and fails
 * with anything else to FAIL. Every check has a time limit; a FAIL never stops the suite, and the
 * last checks are the ones that leave the unit idle.
 */

export class Skip extends Data.TaggedError("Skip")<{ readonly reason: string }> {}

/** A check's own verdict that the unit did not do what the protocol says. */
export class Mismatch extends Data.TaggedError("Mismatch")<{ readonly detail: string }> {
  override get message() {
    return this.detail
  }
}

export const skip = (reason: string) => Effect.fail(new Skip({ reason }))

/** Fails the check with `detail` unless `condition` holds. */
export const expectThat = (condition: boolean, detail: string): Effect.Effect<void, Mismatch> =>
  condition ? Effect.void : Effect.fail(new Mismatch({ detail }))

export interface Check<R> {
  readonly id: string
  readonly title: string
  readonly run: Effect.Effect<string, unknown, R>
  /** Overrides the suite's per-check time limit. */
  readonly timeoutMs?: number
}

export type Verdict = "PASS" | "FAIL" | "SKIP"

export interface CheckResult {
  readonly id: string
  readonly title: string
  readonly verdict: Verdict
  readonly detail: string
  readonly durationMs: number
}

export interface SuiteReport {
  readonly suite: string
  readonly target: string
  readonly results: ReadonlyArray<CheckResult>
  readonly durationMs: number
}

export const counts = (report: SuiteReport) => ({
  passed: report.results.filter((r) => r.verdict === "PASS").length,
  failed: report.results.filter((r) => r.verdict === "FAIL").length,
  skipped: report.results.filter((r) => r.verdict === "SKIP").length
})

const describeFailure = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (error instanceof Error) return `${"_tag" in error ? `${String(error._tag)}: ` : ""}${error.message}`
    return String(error)
  }
  return Cause.pretty(cause).split("\n")[0] ?? "defect"
}

export const runSuite = <R>(options: {
  readonly suite: string
  readonly target: string
  readonly checks: ReadonlyArray<Check<R>>
  readonly checkTimeoutMs: number
  readonly onResult?: (result: CheckResult) => Effect.Effect<void>
}): Effect.Effect<SuiteReport, never, R> =>
  Effect.gen(function* () {
    const suiteStarted = yield* Clock.currentTimeMillis
    const results: Array<CheckResult> = []
    for (const check of options.checks) {
      const started = yield* Clock.currentTimeMillis
      const limitMs = check.timeoutMs ?? options.checkTimeoutMs
      const exit = yield* Effect.exit(
        check.run.pipe(
          Effect.timeoutFail({ duration: limitMs, onTimeout: () => new Mismatch({ detail: `no result within ${limitMs} ms` }) })
        )
      )
      const durationMs = (yield* Clock.currentTimeMillis) - started
      const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      const result: CheckResult = Exit.isSuccess(exit)
        ? { id: check.id, title: check.title, verdict: "PASS", detail: exit.value, durationMs }
        : Option.isSome(failure) && failure.value instanceof Skip
          ? { id: check.id, title: check.title, verdict: "SKIP", detail: failure.value.reason, durationMs }
          : { id: check.id, title: check.title, verdict: "FAIL", detail: describeFailure(exit.cause), durationMs }
      results.push(result)
      if (options.onResult) yield* options.onResult(result)
    }
    return { suite: options.suite, target: options.target, results, durationMs: (yield* Clock.currentTimeMillis) - suiteStarted }
  })
