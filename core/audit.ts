import { SqlClient } from "@effect/sql"
import { Clock, Effect } from "effect"
import { runCheck } from "./audit/check.js"
import { ledgerChecks } from "./audit/ledger-checks.js"
import { lifecycleChecks } from "./audit/lifecycle-checks.js"
import { AuditReport } from "./domain/audit.js"
import { traced } from "./traced.js"

/**
 * The invariant auditor: checks invariants 1-6, 8 and 9 of DESIGN §5 against a database and returns
 * a typed report. It only reads. (Invariant 7 needs the providers' side and 10 the logs: the scenario
 * runner checks those.) Every check is one aggregate query, so auditing a simulated month of a fleet
 * stays fast.
 */
export class Auditor extends Effect.Service<Auditor>()("ecoupon/Auditor", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const checks = [...ledgerChecks, ...lifecycleChecks]
    const run = Effect.gen(function* () {
      const results = yield* Effect.forEach(checks, (check) => runCheck(sql, check))
      const checkedAtMs = yield* Clock.currentTimeMillis
      return new AuditReport({ checkedAtMs, checks: results })
    }).pipe(traced("Auditor.run"))
    return { run } as const
  })
}) {}
