import { SqlClient, type Statement } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, FiberRef } from "effect"

/**
 * A hot statement compiled once, for the dialect at hand, and run straight on the open transaction's
 * connection. Running `sql\`...\`` costs about 15-20 us of Effect machinery a time on top of the
 * engine (a span, even a no-op one; the transformer FiberRef; compiling the fragments; a scope; the
 * connection look-up), several times what SQLite needs for a short statement. Inside a transaction
 * all of that can be skipped: the SQL text is fixed, and the connection is the transaction's.
 *
 * `build` writes the statement as usual, with `param(i)` where the i-th value goes; every bound value
 * must be a `param` (a constant would be frozen into the compiled parameters, so it is refused).
 * Outside a transaction, or with tracing on (so that the `sql.execute` span is still there), the
 * statement runs through `sql.unsafe` as any other. Rows come back as the driver returns them: no
 * store of ours transforms result names.
 */
export interface CompiledStatement<Row extends object> {
  /** Runs the statement with these values; answers its rows. */
  (...values: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<Row>, SqlError>
  /**
   * Runs a data change with these values; answers how many rows it changed (SQLite's changes(),
   * PostgreSQL's row count). Spares a `RETURNING` whose rows would only be counted: on SQLite a
   * RETURNING clause costs a temporary table per statement.
   */
  readonly changes: (...values: ReadonlyArray<unknown>) => Effect.Effect<number, SqlError>
  /** The compiled SQL text, for tests and profiles. */
  readonly text: string
}

const slotPrefix = "\u0000ecoupon-param:"

/** The changed-row count in a driver's raw answer: `changes` (our SQLite stores), `rowCount` (pg). */
const changesOf = (text: string) => (raw: unknown): Effect.Effect<number, SqlError> => {
  if (typeof raw === "object" && raw !== null) {
    if ("changes" in raw && typeof raw.changes === "number") return Effect.succeed(raw.changes)
    if ("rowCount" in raw && typeof raw.rowCount === "number") return Effect.succeed(raw.rowCount)
  }
  return Effect.fail(new SqlError({ message: `the store did not say how many rows changed (in SQL: ${text})` }))
}

export const compileStatement = <Row extends object>(
  sql: SqlClient.SqlClient,
  build: (param: (i: number) => unknown) => Statement.Statement<Row>
): CompiledStatement<Row> => {
  const [text, slots] = build((i) => `${slotPrefix}${i}`).compile()
  const order = slots.map((slot) => {
    const index = typeof slot === "string" && slot.startsWith(slotPrefix) ? Number(slot.slice(slotPrefix.length)) : Number.NaN
    if (!Number.isSafeInteger(index)) throw new Error(`compileStatement: a bound value is not a param(i) in ${text}`)
    return index
  })
  const bind = (values: ReadonlyArray<unknown>): Array<unknown> => {
    const params = new Array<unknown>(order.length)
    for (let i = 0; i < order.length; i++) params[i] = values[order[i]!]
    return params
  }
  const counted = changesOf(text)
  const run = (...values: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<Row>, SqlError> =>
    Effect.withFiberRuntime((fiber) => {
      const transaction = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)
      if (transaction._tag === "None" || fiber.getFiberRef(FiberRef.currentTracerEnabled)) return sql.unsafe<Row>(text, bind(values))
      return transaction.value[0].execute(text, bind(values), undefined) as Effect.Effect<ReadonlyArray<Row>, SqlError>
    })
  const changes = (...values: ReadonlyArray<unknown>): Effect.Effect<number, SqlError> =>
    Effect.withFiberRuntime((fiber) => {
      const transaction = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)
      const raw = transaction._tag === "None" || fiber.getFiberRef(FiberRef.currentTracerEnabled)
        ? sql.unsafe(text, bind(values)).raw
        : transaction.value[0].executeRaw(text, bind(values))
      return Effect.flatMap(raw, counted)
    })
  return Object.assign(run, { changes, text })
}
