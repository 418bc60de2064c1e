import type { SqlClient, Statement } from "@effect/sql"
import { Effect } from "effect"
import { CheckResult } from "../domain/audit.js"
import { traced } from "../traced.js"

/** Violation rows beyond this are not fetched: a broken database should not flood the report. */
export const VIOLATIONS_FETCHED_MAX = 1000
/** How many violations a report spells out per check. */
export const VIOLATIONS_SHOWN_MAX = 20

export type Row = Record<string, unknown>

/** A check: how many rows it covers, which rows break the invariant, and how to say why. */
export interface Check {
  readonly invariant: number
  readonly name: string
  readonly checked: (sql: SqlClient.SqlClient) => Statement.Statement<Row>
  readonly violations: (sql: SqlClient.SqlClient) => Statement.Statement<Row>
  readonly describe: (row: Row) => string
}

const countOf = (rows: ReadonlyArray<Row>): number => Number(Object.values(rows[0] ?? {})[0] ?? 0)

export const runCheck = (sql: SqlClient.SqlClient, check: Check): Effect.Effect<CheckResult> =>
  Effect.gen(function* () {
    const checked = countOf(yield* check.checked(sql))
    const rows = yield* sql`${check.violations(sql)} LIMIT ${VIOLATIONS_FETCHED_MAX}`
    return new CheckResult({
      invariant: check.invariant,
      name: check.name,
      checked,
      violationCount: rows.length,
      violations: rows.slice(0, VIOLATIONS_SHOWN_MAX).map(check.describe)
    })
  }).pipe(Effect.orDie, traced(`Auditor.check.${check.invariant}`))

/** Renders a cell for a message: integers from PostgreSQL arrive as strings, from sql.js as numbers. */
export const v = (row: Row, key: string): string => String(row[key] ?? "null")
