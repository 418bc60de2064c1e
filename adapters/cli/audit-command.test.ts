import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runMigrations } from "../store/migrate.js"
import * as SqljsClient from "../store/sqljs-client.js"
import { auditDatabase } from "./audit-command.js"

/** A migrated sql.js database exported to a file, after `tamper` ran on it. */
const databaseFile = (tamper: Effect.Effect<void, unknown, SqlClient.SqlClient>) =>
  Effect.gen(function* () {
    yield* runMigrations()
    yield* tamper
    const bytes = yield* Effect.flatMap(SqljsClient.SqljsStore, (store) => store.export)
    const path = join(mkdtempSync(join(tmpdir(), "ecoupon-audit-")), "db.sqlite")
    writeFileSync(path, bytes)
    return path
  }).pipe(Effect.provide(Layer.fresh(SqljsClient.layer())), Effect.orDie)

describe("ecoupon audit", () => {
  it("finds a fresh database clean", async () => {
    const path = await Effect.runPromise(databaseFile(Effect.void))
    const { where, report } = await Effect.runPromise(auditDatabase(Option.some(path)))
    expect(where).toContain(path)
    expect(report.ok).toBe(true)
  })

  it("names the violation when a balance was edited behind the ledger's back", async () => {
    const tamper = Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql`INSERT INTO ledger_accounts (id, kind, floor_zero, credits_posted, created_at_ms) VALUES ('user:usr_x', 'user', 1, 500, 0)`
    )
    const path = await Effect.runPromise(databaseFile(tamper))
    const { report } = await Effect.runPromise(auditDatabase(Option.some(path)))
    expect(report.ok).toBe(false)
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name)
    expect(failed).toContain("every account's balance equals the sum of its transfers")
    expect(failed).toContain("total debits equal total credits, posted and pending")
    expect(report.checks.flatMap((c) => c.violations).join("\n")).toContain("user:usr_x")
  })

  it("refuses a file that is not a database, saying which", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "ecoupon-audit-")), "notes.txt")
    writeFileSync(path, "not sqlite at all, just some text that is long enough to not be a header")
    const result = await Effect.runPromise(Effect.either(auditDatabase(Option.some(path))))
    expect(result._tag === "Left" && result.left.message).toContain(path)
  })
})
