import { Effect, Option, Schema } from "effect"

/**
 * Decodes query rows and answers the first, if any; rows that do not decode are defects. Build it once,
 * not per query: Effect caches the compiled parser per schema, and `Schema.Array(schema)` is a new
 * schema each time.
 */
export const firstRow = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknown(Schema.Array(schema))
  return (rows: ReadonlyArray<unknown>): Effect.Effect<Option.Option<A>> =>
    decode(rows).pipe(Effect.orDie, Effect.map((decoded) => Option.fromNullable(decoded[0])))
}
