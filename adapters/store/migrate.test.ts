import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { migrationsTable, runMigrations } from "./migrate.js"
import * as SqljsClient from "./sqljs-client.js"
import { testStores } from "./testing.js"

const tiny = {
  "0001_first": Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE first (id INTEGER PRIMARY KEY)`),
  "0002_second": Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE second (id INTEGER PRIMARY KEY)`)
}

describe("migrations", () => {
  it.effect("run once, in order, recorded in ecoupon_migrations", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      assert.deepStrictEqual(yield* runMigrations(tiny), [[1, "first"], [2, "second"]])
      assert.deepStrictEqual(yield* runMigrations(tiny), [])
      const ran = yield* sql`SELECT migration_id, name FROM ${sql(migrationsTable)} ORDER BY migration_id`
      assert.deepStrictEqual(ran, [{ migration_id: 1, name: "first" }, { migration_id: 2, name: "second" }])
    }).pipe(Effect.provide(SqljsClient.layer())))

  it.effect("leave the schema as it was when one fails", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const broken = { ...tiny, "0003_broken": Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE first (x)`) }
      yield* Effect.exit(runMigrations(broken))
      const tables = yield* sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('first', 'second')`
      assert.deepStrictEqual(tables, [])
    }).pipe(Effect.provide(SqljsClient.layer())))

  for (const store of testStores) {
    it.effect(`apply the core schema on ${store.name}`, () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const [latest] = yield* sql<{ migration_id: number }>`SELECT max(migration_id) AS migration_id FROM ${sql(migrationsTable)}`
        assert.isAbove(Number(latest?.migration_id), 0)
      }).pipe(Effect.provide(store.layer)))
  }
})
