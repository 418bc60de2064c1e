import { Effect, Option, Schema } from "effect"

/**
 * Row decoders for query results; rows that do not decode are defects (the ParseError is the defect).
 * Build each once, not per query: Effect caches the compiled parser per schema, and
 * `Schema.Array(schema)` is a new schema each time.
 *
 * They decode synchronously (`decodeUnknownEither`) and answer in one effect: decoding through
 * `Schema.decodeUnknown` and piping it through `orDie` and `map` cost five to seven steps of Effect's
 * run loop per statement on the hot paths, for the same check.
 */
const rowsDecoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(Schema.Array(schema))
  return <B>(rows: ReadonlyArray<unknown>, answer: (decoded: ReadonlyArray<A>) => B): Effect.Effect<B> => {
    const decoded = decode(rows)
    return decoded._tag === "Right" ? Effect.succeed(answer(decoded.right)) : Effect.die(decoded.left)
  }
}

const firstOf = <A>(decoded: ReadonlyArray<A>): Option.Option<A> => Option.fromNullable(decoded[0])
const allOf = <A>(decoded: ReadonlyArray<A>): ReadonlyArray<A> => decoded

/** Decodes query rows and answers the first, if any. */
export const firstRow = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = rowsDecoder(schema)
  return (rows: ReadonlyArray<unknown>): Effect.Effect<Option.Option<A>> => decode(rows, firstOf)
}

/** Decodes query rows and answers the first, if any, as `as` makes it. */
export const firstRowAs = <A, I, B>(schema: Schema.Schema<A, I>, as: (row: A) => B) => {
  const decode = rowsDecoder(schema)
  const first = (decoded: ReadonlyArray<A>): Option.Option<B> => (decoded[0] === undefined ? Option.none() : Option.some(as(decoded[0])))
  return (rows: ReadonlyArray<unknown>): Effect.Effect<Option.Option<B>> => decode(rows, first)
}

/** Decodes query rows and answers them all. */
export const allRows = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = rowsDecoder(schema)
  return (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>> => decode(rows, allOf)
}

/**
 * Runs a statement whose errors are defects and continues with its rows: `orDie` and `flatMap` in one
 * frame of the run loop instead of two.
 */
export const onRows = <R, A, E, E2, R2>(
  statement: Effect.Effect<ReadonlyArray<R>, E, R2>,
  onSuccess: (rows: ReadonlyArray<R>) => Effect.Effect<A, E2>
): Effect.Effect<A, E2, R2> => Effect.matchEffect(statement, { onFailure: Effect.die, onSuccess })

/** A statement's rows decoded by `decode` (`firstRow`, `allRows`); its errors are defects. */
export const query = <R, A, E, R2>(
  statement: Effect.Effect<ReadonlyArray<R>, E, R2>,
  decode: (rows: ReadonlyArray<unknown>) => Effect.Effect<A>
): Effect.Effect<A, never, R2> => Effect.matchEffect(statement, { onFailure: Effect.die, onSuccess: decode })
