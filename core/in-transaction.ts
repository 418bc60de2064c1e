import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"

/**
 * Runs `joined` in the caller's transaction when one is open, otherwise `own` in a transaction of its
 * own. `sql.withTransaction` inside another opens a savepoint, one more statement on every call; a
 * service whose `joined` form leaves no trace when it fails (it refuses before writing, or takes back
 * by hand what it wrote) needs none. A defect still rolls the caller's whole transaction back.
 */
export const inTransactionOr = <A, E, R>(
  sql: SqlClient.SqlClient,
  joined: Effect.Effect<A, E, R>,
  own: Effect.Effect<A, E, R>
): Effect.Effect<A, E | SqlError, R> =>
  Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (outer) => (Option.isSome(outer) ? joined : sql.withTransaction(own)))
