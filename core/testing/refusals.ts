import { SqlClient } from "@effect/sql"
import { Effect, Either } from "effect"

/**
 * The migrator's record of what ran (`migrationsTable` in adapters/store/migrate.ts): written once, by
 * the wall clock, before any test; no service writes it.
 */
const migrationsTable = "ecoupon_migrations"

/** Every table of the store (the current schema on PostgreSQL) but the migrator's, sorted by name. */
const tableNames = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql.onDialectOrElse({
    pg: () =>
      sql<{ readonly name: string }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()`,
    orElse: () => sql<{ readonly name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
  })
  return rows.map((row) => row.name).filter((name) => name !== migrationsTable).sort()
})

/** Each table's rows as text, by table name; rows sorted as text, so no table needs a unique order. */
const tableContents = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const out: Record<string, string> = {}
  for (const table of yield* tableNames) {
    const rows = yield* sql`SELECT * FROM ${sql(table)}`
    out[table] = JSON.stringify(rows.map((row) => JSON.stringify(row)).sort())
  }
  return out
}).pipe(Effect.orDie)

/**
 * Every row of every table, as one text: equal before and after means nothing was written.
 * (Ids and times come from the test's seeded Random and TestClock, so they compare too.)
 */
export const snapshotTables: Effect.Effect<string, never, SqlClient.SqlClient> = Effect.map(tableContents, (tables) => JSON.stringify(tables))

/**
 * Runs `attempt`, expects it to fail, and checks it wrote nothing to any table; answers the error.
 * `expected` names what the test expects, for the message when it succeeds instead.
 */
export const refused = <A, E extends { readonly _tag: string }, R>(
  attempt: Effect.Effect<A, E, R>,
  expected = "a refusal"
): Effect.Effect<E, never, R | SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const before = yield* tableContents
    const result = yield* Effect.either(attempt)
    const after = yield* tableContents
    if (Either.isRight(result)) return yield* Effect.dieMessage(`expected ${expected}, but it succeeded`)
    const written = Object.keys({ ...before, ...after }).filter((table) => before[table] !== after[table])
    if (written.length > 0) return yield* Effect.dieMessage(`the refusal ${result.left._tag} wrote to ${written.join(", ")}`)
    return result.left
  })

/** Runs `attempt`, expects it to fail with `tag`, and checks it wrote nothing to any table; answers the error. */
export const refusedWithoutWrites = <A, E extends { readonly _tag: string }, R, T extends E["_tag"]>(
  attempt: Effect.Effect<A, E, R>,
  tag: T
): Effect.Effect<Extract<E, { readonly _tag: T }>, never, R | SqlClient.SqlClient> =>
  Effect.flatMap(refused(attempt, tag), (error) => {
    const isTag = (e: E): e is Extract<E, { readonly _tag: T }> => e._tag === tag
    return isTag(error) ? Effect.succeed(error) : Effect.dieMessage(`expected ${tag}, got ${error._tag}: ${String(error)}`)
  })
