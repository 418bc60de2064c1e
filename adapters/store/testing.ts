import type { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { runMigrations } from "./migrate.js"
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
 * Migration failures are defects: a broken schema should fail the test loudly, not as a typed error.
 */
export interface TestStore {
  /** "sqljs" (always) or "postgres" (when ECOUPON_TEST_DATABASE_URL is set). */
  readonly name: string
  readonly layer: Layer.Layer<SqlClient.SqlClient>
}

/** A fresh in-memory sql.js database with the schema: no journal, no files. */
export const sqljsTestLayer: Layer.Layer<SqlClient.SqlClient> = Layer.effectDiscard(Effect.orDie(runMigrations())).pipe(
  Layer.provideMerge(Layer.orDie(SqljsClient.layer()))
)

export const testStores: ReadonlyArray<TestStore> = [{ name: "sqljs", layer: sqljsTestLayer }]
