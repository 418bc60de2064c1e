import type { ScenarioResult } from "./runner.js"

/** What the console shows: a line per scenario as it ends, a summary, and each failure with its replay line. */

export const replayCommandOf = (result: ScenarioResult): string =>
  result.replayToken === undefined ? "(nothing to replay)" : `ecoupon scenarios run --replay ${result.replayToken}`

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`

export const resultLine = (result: ScenarioResult): string => {
  if (result.skipped !== undefined) return `skip ${result.name} [${result.layer}]: ${result.skipped}`
  const search = result.search === undefined ? "" : `, ${result.search.runs} run(s)${result.ok ? "" : `, ${result.search.shrinks} shrink(s) to ${result.steps.length} step(s)`}`
  return `${result.ok ? "ok  " : "FAIL"} ${result.name} [${result.layer}] (${seconds(result.durationMs)}${search})`
}

/** A failure as a person reads it: what broke, the steps with what the model expected, the replay line last. */
export const failureText = (result: ScenarioResult): string => {
  const lines = [`${result.name} [${result.layer}] failed:`, `  ${(result.failure ?? "").split("\n").join("\n  ")}`]
  if (result.steps.length > 0) {
    lines.push(`  steps${result.search === undefined ? "" : " (shrunk)"}:`)
    for (const step of result.steps) {
      const same = step.answer === step.expected && step.differences.length === 0
      lines.push(`    ${String(step.index + 1).padStart(2)}. ${step.text}`)
      lines.push(same ? `        -> ${step.answer}` : `        -> system: ${step.answer}\n           model:  ${step.expected}${step.differences.length > 0 ? `\n           balances: ${step.differences.join("; ")}` : ""}`)
    }
  }
  lines.push(`  ${replayCommandOf(result)}`)
  return lines.join("\n")
}

export const summaryText = (results: ReadonlyArray<ScenarioResult>, wallMs: number): string => {
  const failed = results.filter((result) => !result.ok)
  const skipped = results.filter((result) => result.skipped !== undefined).length
  const layers = [...new Set(results.map((result) => result.layer))].join(", ")
  return `${results.length - failed.length - skipped} passed, ${failed.length} failed${skipped > 0 ? `, ${skipped} skipped` : ""}, on the ${layers} layer in ${seconds(wallMs)}`
}
