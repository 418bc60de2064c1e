import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Option } from "effect"

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
  // Read from the fiber's context in one step (`serviceOption` and `flatMap` take five).
  Effect.withFiberRuntime((fiber) => (Option.isSome(Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)) ? joined : sql.withTransaction(own)))
