import { existsSync } from "node:fs"
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { Auditor } from "../../core/audit.js"
import { type AuditReport, formatReport } from "../../core/domain/audit.js"
import { migrations } from "../../core/migrations/index.js"
import { acquireLock } from "./lock-file.js"
import { migrationsTable } from "./migrate.js"
import { recover, storeFiles } from "./recovery.js"
import * as SqljsClient from "./sqljs-client.js"
import type { SqljsDatabase } from "./sqljs-database.js"
import { StoreError } from "./store-error.js"
import { describeStoreTarget, type StoreTarget, storeLayer } from "./store-target.js"

/** What `ecoupon db check` found. `ok` is false if any part failed. */
export interface StoreCheckReport {
  readonly ok: boolean
  /** Human-readable findings, one per line, in the order they were checked. */
  readonly lines: ReadonlyArray<string>
  /** Absent when the schema is not up to date: the auditor's queries assume the current schema. */
  readonly audit: AuditReport | undefined
}

const latestKnownMigration = Math.max(...Object.keys(migrations).map((key) => Number(key.slice(0, 4))))

const schemaLine = (sql: SqlClient.SqlClient): Effect.Effect<{ readonly ok: boolean; readonly line: string }> =>
  sql<{ latest: unknown }>`SELECT max(migration_id) AS latest FROM ${sql(migrationsTable)}`.pipe(
    Effect.map((rows) => {
      const latest = Number(rows[0]?.latest ?? 0)
      return latest === latestKnownMigration
        ? { ok: true, line: `ok   schema at migration ${latest}, the latest this build knows` }
        : { ok: false, line: `FAIL schema at migration ${latest}, this build expects ${latestKnownMigration}: run ecoupon db migrate` }
    }),
    Effect.catchAll(() => Effect.succeed({ ok: false, line: "FAIL no migrations table: run ecoupon db migrate" }))
  )

const integrityLines = (db: SqljsDatabase): Effect.Effect<{ readonly ok: boolean; readonly lines: ReadonlyArray<string> }> =>
  Effect.sync(() => {
    const integrity = db.query("PRAGMA integrity_check", []).map((row) => String(Object.values(row)[0]))
    const foreignKeys = db.query("PRAGMA foreign_key_check", [])
    const integrityOk = integrity.length === 1 && integrity[0] === "ok"
    return {
      ok: integrityOk && foreignKeys.length === 0,
      lines: [
        integrityOk ? "ok   SQLite integrity check" : `FAIL SQLite integrity check: ${integrity.slice(0, 5).join("; ")}`,
        foreignKeys.length === 0
          ? "ok   foreign keys"
          : `FAIL ${foreignKeys.length} rows break foreign keys, e.g. ${JSON.stringify(foreignKeys[0])}`
      ]
    }
  })

const audit = (sql: SqlClient.SqlClient) =>
  Effect.flatMap(Auditor, (auditor) => auditor.run).pipe(
    Effect.provide(Auditor.Default),
    Effect.provideService(SqlClient.SqlClient, sql)
  )

/** The schema line, then the audit when the schema allows one. */
const schemaAndAudit = (sql: SqlClient.SqlClient) =>
  Effect.gen(function* () {
    const schema = yield* schemaLine(sql)
    if (!schema.ok) return { ok: false, lines: [schema.line, "skip invariant audit (schema not current)"], audit: undefined }
    const report = yield* audit(sql)
    return { ok: report.ok, lines: [schema.line, formatReport(report)], audit: report }
  })

/**
 * Verifies an embedded store without changing a byte of it: the lock (a running server must be
 * stopped first), the snapshot's checksum, every journal record's checksum and sequence, a replay in
 * memory, SQLite's own integrity and foreign-key checks, the schema version, and the invariant
 * auditor. A torn last record is reported (the next open drops it), not removed.
 */
const checkEmbedded = (directory: string): Effect.Effect<StoreCheckReport, StoreError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const files = storeFiles(directory)
      if (!existsSync(directory)) {
        return yield* new StoreError({ file: directory, message: `there is no store at ${directory}: the directory does not exist (ecoupon db migrate creates one)` })
      }
      yield* Effect.acquireRelease(
        Effect.try({
          try: () => acquireLock(files.lock),
          catch: (cause) => new StoreError({ file: files.lock, cause, message: cause instanceof Error ? cause.message : String(cause) })
        }),
        (release) => Effect.sync(release)
      )
      const recovered = yield* recover(files)
      const lines: Array<string> = [
        recovered.snapshotSeq > 0
          ? `ok   snapshot ${files.snapshot}: checksum good, holds transactions up to ${recovered.snapshotSeq}`
          : `ok   no snapshot yet (${files.snapshot})`
      ]
      const journal = recovered.journal
      lines.push(
        journal === undefined
          ? `ok   no journal yet (${files.journal})`
          : `ok   journal ${files.journal}: ${journal.records.length} records, checksums and sequence good, ${recovered.replayed} replayed on the snapshot`
      )
      if (journal !== undefined && journal.tornBytes > 0) {
        lines.push(`note journal ends in a torn record at offset ${journal.end} (${journal.tornBytes} bytes, never acknowledged); the next open drops it`)
      }
      const { client } = yield* SqljsClient.make(recovered.db).pipe(Effect.provide(Reactivity.layer))
      const integrity = yield* integrityLines(recovered.db)
      const audited = yield* schemaAndAudit(client)
      return { ok: integrity.ok && audited.ok, lines: [...lines, ...integrity.lines, ...audited.lines], audit: audited.audit }
    })
  )

const checkPostgres = (target: StoreTarget): Effect.Effect<StoreCheckReport, StoreError> =>
  Effect.gen(function* () {
    const audited = yield* schemaAndAudit(yield* SqlClient.SqlClient)
    return { ok: audited.ok, lines: [`ok   connected to ${describeStoreTarget(target)}`, ...audited.lines], audit: audited.audit }
  }).pipe(Effect.provide(Layer.fresh(storeLayer(target))))

/** `ecoupon db check` for either store. */
export const checkStore = (target: StoreTarget): Effect.Effect<StoreCheckReport, StoreError> =>
  target._tag === "Embedded" ? checkEmbedded(target.directory) : checkPostgres(target)
