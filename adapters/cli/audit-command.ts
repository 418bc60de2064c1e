import { Command, Options } from "@effect/cli"
import { statSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { Console, Effect, Layer, Option } from "effect"
import { Auditor } from "../../core/audit.js"
import { formatReport, type AuditReport } from "../../core/domain/audit.js"
import * as SqljsClient from "../store/sqljs-client.js"
import { describeStoreTarget, storeLayer } from "../store/store-target.js"
import { databaseOption, requireExistingStore, storeTargetOf } from "./db-options.js"

/**
 * `ecoupon audit`: runs the invariant auditor (DESIGN §5: 1-6, 8, 9) against a database and prints
 * the report; exit status 1 on any violation. The database is the embedded store's directory, a
 * PostgreSQL URL, or a single sql.js export file (an SQLite image, as `db snapshot` and the simulator
 * write), which is loaded into memory and never written back.
 */
const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

export const auditDatabase = (database: Option.Option<string>): Effect.Effect<{ readonly where: string; readonly report: AuditReport }, { readonly message: string }> => {
  const path = Option.getOrUndefined(database)
  if (path !== undefined && isFile(path)) {
    return Effect.tryPromise({ try: () => readFile(path), catch: (cause) => ({ message: `cannot read ${path}: ${String(cause)}` }) }).pipe(
      Effect.flatMap((bytes) =>
        Effect.flatMap(Auditor, (auditor) => auditor.run).pipe(
          Effect.provide(Auditor.Default.pipe(Layer.provide(SqljsClient.layer({ bytes: new Uint8Array(bytes) })))),
          Effect.mapError((error) => ({ message: `${path} is not a readable ecoupon database: ${error.message}` }))
        )
      ),
      Effect.map((report) => ({ where: `sql.js database file ${path}`, report }))
    )
  }
  const target = storeTargetOf(database)
  return Effect.flatMap(Auditor, (auditor) => auditor.run).pipe(
    Effect.provide(Auditor.Default.pipe(Layer.provide(Layer.fresh(storeLayer(target))))),
    Effect.mapError((error) => ({ message: error.message })),
    (audit) => Effect.zipRight(requireExistingStore(target), audit),
    Effect.map((report) => ({ where: describeStoreTarget(target), report }))
  )
}

export const auditCommand = Command.make(
  "audit" as string,
  { database: databaseOption, json: Options.boolean("json").pipe(Options.withDescription("print the report as JSON")) },
  ({ database, json }) =>
    auditDatabase(database).pipe(
      Effect.flatMap(({ where, report }) =>
        Effect.zipRight(
          json ? Console.log(JSON.stringify({ where, ok: report.ok, checkedAtMs: report.checkedAtMs, checks: report.checks }, null, 2)) : Console.log(`audit of ${where}\n${formatReport(report)}`),
          Effect.sync(() => {
            if (!report.ok) process.exitCode = 1
          })
        )
      ),
      Effect.catchAll((error) => Effect.zipRight(Console.error(`ecoupon audit: ${error.message}`), Effect.sync(() => void (process.exitCode = 1))))
    )
).pipe(
  Command.withDescription(
    "Check the invariants of DESIGN §5 (ledger balances, points conserved, orders, coupons, cards, replays, statements, charges) against a database; exit 1 on any violation"
  )
)
