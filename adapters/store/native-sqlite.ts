import { SqliteClient } from "@effect/sql-sqlite-node"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"

/**
 * An in-memory native SQLite store (better-sqlite3 12.11.1 through @effect/sql-sqlite-node 0.53, the
 * Effect 3 line) for the fleet simulator's `--store native`: the same dialect and migrations as the
 * sql.js store, with the same pragmas that matter to results (foreign keys on). Synchronous like
 * sql.js, so it runs inside virtual time. Not a durable store: `serve` keeps the embedded sql.js one.
 */
export const layer = (): Layer.Layer<SqlClient.SqlClient> =>
  Layer.effectDiscard(
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.forEach(["PRAGMA foreign_keys = ON", "PRAGMA temp_store = MEMORY"], (pragma) => sql.unsafe(pragma).raw, { discard: true })
    )
  ).pipe(
    Layer.provideMerge(SqliteClient.layer({ filename: ":memory:", disableWAL: true })),
    Layer.orDie
  )
