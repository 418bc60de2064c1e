import { type CheckResult, counts, type SuiteReport } from "./suite.js"

/** The suite's results as console lines and as JUnit XML (what CI servers and test dashboards read). */

const seconds = (ms: number) => (ms / 1000).toFixed(3)

export const formatResult = (r: CheckResult): string =>
  `${r.verdict.padEnd(4)}  ${r.id.padEnd(24)} ${String(r.durationMs).padStart(6)} ms  ${r.title}${r.detail ? `: ${r.detail}` : ""}`

export const formatSummary = (report: SuiteReport): string => {
  const { passed, failed, skipped } = counts(report)
  return `${report.suite} on ${report.target}: ${passed} passed, ${failed} failed, ${skipped} skipped in ${seconds(report.durationMs)} s`
}

const escapeXml = (text: string) =>
  text
    // XML 1.0 cannot carry most control characters at all, escaped or not.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "?")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")

export const junitXml = (report: SuiteReport): string => {
  const { failed, skipped } = counts(report)
  const suite = escapeXml(report.suite)
  const cases = report.results.map((r) => {
    const open = `    <testcase classname="${suite}" name="${escapeXml(`${r.id}: ${r.title}`)}" time="${seconds(r.durationMs)}"`
    if (r.verdict === "PASS") return `${open}>\n      <system-out>${escapeXml(r.detail)}</system-out>\n    </testcase>`
    if (r.verdict === "SKIP") return `${open}>\n      <skipped message="${escapeXml(r.detail)}"/>\n    </testcase>`
    return `${open}>\n      <failure message="${escapeXml(r.detail)}" type="conformance"/>\n    </testcase>`
  })
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="ecoupon hil" tests="${report.results.length}" failures="${failed}" skipped="${skipped}" time="${seconds(report.durationMs)}">`,
    `  <testsuite name="${suite}" hostname="${escapeXml(report.target)}" tests="${report.results.length}" failures="${failed}" errors="0" skipped="${skipped}" time="${seconds(report.durationMs)}">`,
    ...cases,
    `  </testsuite>`,
    `</testsuites>`,
    ``
  ].join("\n")
}
