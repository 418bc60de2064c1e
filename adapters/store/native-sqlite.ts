import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Layer } from "effect"
import { NativeDatabase } from "./native-database.js"
import * as SqljsClient from "./sqljs-client.js"
import { asSqlError, type SqliteConnection } from "./sqljs-database.js"

export interface NativeLayerOptions {
  /** Sees every statement just before it runs (see `SqliteConnection.observer`): the SQL floor's recorder. */
  readonly observer?: SqliteConnection["observer"]
  /** The database in a temporary file (removed when the layer closes) instead of in memory: long runs. */
  readonly temporaryFile?: boolean
}

/**
 * An in-memory native SQLite store (better-sqlite3 12.11.1) for the fleet simulator's `--store native`:
 * the same dialect, migrations, pragmas and client as the sql.js store (`native-database.ts` under
 * `sqljs-client.ts`), so the same refusals and the same cheap statement and transaction paths.
 * Synchronous like sql.js, so it runs inside virtual time. Not a durable store: `serve` keeps the
 * embedded sql.js one.
 */
export const layer = (options: NativeLayerOptions = {}): Layer.Layer<SqlClient.SqlClient> =>
  Layer.scoped(
    SqlClient.SqlClient,
    Effect.gen(function* () {
      const db = yield* Effect.try({ try: () => NativeDatabase.open(undefined, options.temporaryFile === true), catch: (cause): SqlError => asSqlError(cause, "<open>") })
      db.observer = options.observer
      const { client } = yield* SqljsClient.make(db)
      return client
    })
  ).pipe(Layer.provide(Reactivity.layer), Layer.orDie)
