import type { ScenarioResult } from "./runner.js"
import { replayCommandOf } from "./report-console.js"

/**
 * JUnit XML as CI servers read it (Jenkins, GitLab, GitHub test reporters): one test suite per layer,
 * one test case per scenario, a failure with the mismatch, the shrunk steps and the replay command.
 */

const escapeXml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;")

/** XML 1.0 allows no control characters but tab, newline and carriage return. */
const clean = (text: string): string => text.replace(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd]/gu, "?")

const failureBody = (result: ScenarioResult): string => {
  const steps = result.steps.map((step) => `${step.index + 1}. ${step.text}\n   model: ${step.expected}\n   system: ${step.answer}${step.differences.length > 0 ? `\n   balances: ${step.differences.join("; ")}` : ""}`)
  return [result.failure ?? "", "", ...steps, "", `replay: ${replayCommandOf(result)}`].join("\n")
}

export const renderJunit = (results: ReadonlyArray<ScenarioResult>, timestamp: string): string => {
  const layers = [...new Set(results.map((result) => result.layer))]
  const suites = layers.map((layer) => {
    const mine = results.filter((result) => result.layer === layer)
    const failures = mine.filter((result) => !result.ok).length
    const skipped = mine.filter((result) => result.skipped !== undefined).length
    const seconds = mine.reduce((sum, result) => sum + result.durationMs, 0) / 1000
    const cases = mine.map((result) => {
      const attributes = `classname="ecoupon.scenarios.${layer}" name="${escapeXml(`${result.name} [${layer}]`)}" time="${(result.durationMs / 1000).toFixed(3)}"`
      if (result.skipped !== undefined) return `    <testcase ${attributes}>\n      <skipped message="${escapeXml(clean(result.skipped))}"/>\n    </testcase>`
      if (result.ok) return `    <testcase ${attributes}/>`
      const message = escapeXml(clean((result.failure ?? "failed").split("\n")[0] ?? "failed"))
      return `    <testcase ${attributes}>\n      <failure message="${message}" type="ScenarioFailure">${escapeXml(clean(failureBody(result)))}</failure>\n    </testcase>`
    })
    return `  <testsuite name="ecoupon scenarios (${layer})" tests="${mine.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds.toFixed(3)}" timestamp="${timestamp}">\n${cases.join("\n")}\n  </testsuite>`
  })
  const failures = results.filter((result) => !result.ok).length
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="ecoupon scenarios" tests="${results.length}" failures="${failures}" errors="0">\n${suites.join("\n")}\n</testsuites>\n`
}
