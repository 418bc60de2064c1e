import { randomUUID } from "node:crypto"
import { closeSync, openSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { runMigrations } from "./migrate.js"
import * as NativeSqlite from "./native-sqlite.js"
import * as PostgresStore from "./postgres.js"
import * as SqljsClient from "./sqljs-client.js"

/**
 * Stores for tests, each a fresh database with the core schema migrated.
 *
 *     import { testStores } from "../adapters/store/testing.js"
 *
 *     for (const store of testStores) {
 *       describe(`ledger on ${store.name}`, () => {
 *         it.effect("posts a transfer", () => Effect.gen(function* () { ... }).pipe(Effect.provide(store.layer)))
 *       })
 *     }
 *
 * Every `Effect.provide(store.layer)` builds a new database: tests never see each other's rows. (With
 * `@effect/vitest`'s `layer(store.layer)(...)` the tests of that block share one database instead.)
 *
 * - "sqljs": an in-memory sql.js database (no journal, no files). Always present.
 * - "postgres": present when ECOUPON_TEST_DATABASE_URL is set (`.ci/run` sets it). Each build creates
 *   a schema with a unique name on that database, points the pool's `search_path` at it, migrates it,
 *   and drops it (CASCADE) when the layer is released. Without the variable the run prints one line
 *   saying the PostgreSQL tests are skipped.
 *
 * Setup failures (migrations, connection) are defects: a broken store should fail the test loudly.
 * Stores differ in one visible way: PostgreSQL returns BIGINT/COUNT as decimal strings, sql.js as
 * numbers; decode integer columns with a schema that accepts both.
 */
export interface TestStore {
  readonly name: "sqljs" | "postgres"
  readonly layer: Layer.Layer<SqlClient.SqlClient>
}

const migrated = <E>(store: Layer.Layer<SqlClient.SqlClient, E>): Layer.Layer<SqlClient.SqlClient> =>
  Layer.effectDiscard(Effect.orDie(runMigrations())).pipe(Layer.provideMerge(Layer.orDie(store)))

/** A fresh in-memory sql.js database with the schema. */
export const sqljsTestLayer: Layer.Layer<SqlClient.SqlClient> = migrated(SqljsClient.layer())

/**
 * A fresh in-memory native SQLite database (better-sqlite3) with the schema: not in `testStores`
 * (it runs under the sql.js store's client), for the tests of the code the benchmarks run on it.
 */
export const nativeTestLayer: Layer.Layer<SqlClient.SqlClient> = migrated(NativeSqlite.layer())

/** A fresh schema on the PostgreSQL database at `url`, migrated, dropped on release. */
export const postgresTestLayer = (url: string): Layer.Layer<SqlClient.SqlClient> =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const schema = `ecoupon_test_${process.pid}_${randomUUID().slice(0, 8)}`
      yield* Effect.acquireRelease(
        PostgresStore.withAdminClient(url, (sql) => sql`CREATE SCHEMA ${sql(schema)}`),
        () =>
          PostgresStore.withAdminClient(url, (sql) => sql`DROP SCHEMA ${sql(schema)} CASCADE`).pipe(
            Effect.catchAll((error) => Effect.logWarning(`could not drop test schema ${schema}: ${error.message}`))
          )
      ).pipe(Effect.orDie)
      return migrated(PostgresStore.layer({ url: PostgresStore.withSearchPath(url, schema), maxConnections: 4 }))
    })
  )

const testDatabaseUrl = process.env["ECOUPON_TEST_DATABASE_URL"]

// Test files run in several worker processes; one marker per test run (keyed by the runner's pid)
// makes the skip notice appear once rather than once per file.
const noticeOnce = (line: string): void => {
  try {
    closeSync(openSync(join(tmpdir(), `ecoupon-postgres-skip-notice-${process.ppid}`), "wx"))
  } catch {
    return
  }
  process.stderr.write(`${line}\n`)
}

if (testDatabaseUrl === undefined || testDatabaseUrl === "") {
  noticeOnce("PostgreSQL store tests skipped: set ECOUPON_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run them")
}

export const testStores: ReadonlyArray<TestStore> = [
  { name: "sqljs", layer: sqljsTestLayer },
  ...(testDatabaseUrl === undefined || testDatabaseUrl === ""
    ? []
    : [{ name: "postgres" as const, layer: postgresTestLayer(testDatabaseUrl) }])
]
