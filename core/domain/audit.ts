import { Schema } from "effect"

/** One invariant check of DESIGN §5 and what it found. */
export class CheckResult extends Schema.Class<CheckResult>("CheckResult")({
  invariant: Schema.Int,
  name: Schema.String,
  /** How many rows (accounts, orders, cards…) the check looked at. */
  checked: Schema.Int,
  violationCount: Schema.Int,
  /** The first violations, each saying what is wrong with which row; capped, see `violationCount`. */
  violations: Schema.Array(Schema.String)
}) {
  get ok(): boolean {
    return this.violationCount === 0
  }
}

export class AuditReport extends Schema.Class<AuditReport>("AuditReport")({
  checkedAtMs: Schema.Int,
  checks: Schema.Array(CheckResult)
}) {
  get ok(): boolean {
    return this.checks.every((check) => check.ok)
  }
  get violationCount(): number {
    return this.checks.reduce((sum, check) => sum + check.violationCount, 0)
  }
}

export const formatReport = (report: AuditReport): string => {
  const lines = report.checks.map((check) => {
    const head = `${check.ok ? "ok  " : "FAIL"} [${check.invariant}] ${check.name} (${check.checked} checked${check.ok ? "" : `, ${check.violationCount} violations`})`
    return [head, ...check.violations.map((v) => `       - ${v}`)].join("\n")
  })
  const verdict = report.ok ? "audit clean: every invariant holds" : `audit FAILED: ${report.violationCount} violations`
  return [...lines, verdict].join("\n")
}
