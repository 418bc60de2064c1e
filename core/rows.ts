import { Effect, Option, Schema, SchemaAST } from "effect"
import { DbInt } from "./domain/points.js"

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
  const then = rowsThen(schema)
  return <B>(rows: ReadonlyArray<unknown>, answer: (decoded: ReadonlyArray<A>) => B): Effect.Effect<B> => then(rows, (decoded) => Effect.succeed(answer(decoded)))
}

/** Decodes query rows and continues with them (`answer` may refuse, or die, itself). */
export const rowsThen = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(Schema.Array(schema))
  const fast = fastRows<A>(schema.ast)
  return <B, E>(rows: ReadonlyArray<unknown>, answer: (decoded: ReadonlyArray<A>) => Effect.Effect<B, E>): Effect.Effect<B, E> => {
    const quick = fast === undefined ? undefined : fast(rows)
    if (quick !== undefined) return answer(quick)
    const decoded = decode(rows)
    return decoded._tag === "Right" ? answer(decoded.right) : Effect.die(decoded.left)
  }
}

/**
 * The common case checked without Effect's parser (~3 us a row through it). A row struct whose
 * columns are all strings, numbers, booleans, literals, `DbInt`, their refinements (branded ids,
 * patterns, `Int`) and unions of these (`NullOr`) decodes every column to the very value it read:
 * such a row, when every column passes, is the struct of its declared columns, in their order, as the
 * parser would build it. `DbInt` is taken here only as a safe-integer number (what the stores return);
 * any column that does not pass, a bigint or decimal string, a missing required column, or a schema
 * with anything else (a transformation, a nested struct) goes through the parser, which answers as
 * before, errors included. `rows.test.ts` checks both ways agree.
 */
type Check = (u: unknown) => boolean

const checkOf = (ast: SchemaAST.AST): Check | undefined => {
  if (ast === DbInt.ast) return (u) => typeof u === "number" && Number.isSafeInteger(u)
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "UndefinedKeyword":
      return (u) => u === undefined
    case "Literal": {
      const literal = ast.literal
      return typeof literal === "bigint" ? undefined : (u) => u === literal
    }
    case "Refinement": {
      const from = checkOf(ast.from)
      if (from === undefined) return undefined
      return (u) => from(u) && Option.isNone(ast.filter(u, SchemaAST.defaultParseOption, ast))
    }
    case "Union": {
      const members: Array<Check> = []
      for (const member of ast.types) {
        const check = checkOf(member)
        if (check === undefined) return undefined
        members.push(check)
      }
      return (u) => members.some((check) => check(u))
    }
    default:
      return undefined
  }
}

const fastRows = <A>(ast: SchemaAST.AST): ((rows: ReadonlyArray<unknown>) => ReadonlyArray<A> | undefined) | undefined => {
  if (ast._tag !== "TypeLiteral" || ast.indexSignatures.length > 0 || ast.propertySignatures.length === 0) return undefined
  const columns: Array<{ readonly name: string; readonly optional: boolean; readonly check: Check }> = []
  for (const ps of ast.propertySignatures) {
    const check = checkOf(ps.type)
    if (check === undefined || typeof ps.name !== "string") return undefined
    columns.push({ name: ps.name, optional: ps.isOptional, check })
  }
  const hasOwn = Object.prototype.hasOwnProperty
  return (rows) => {
    if (!Array.isArray(rows)) return undefined
    const out = new Array<A>(rows.length)
    for (let r = 0; r < rows.length; r++) {
      const row: unknown = rows[r]
      if (typeof row !== "object" || row === null || Array.isArray(row)) return undefined
      const decoded: Record<string, unknown> = {}
      for (const column of columns) {
        if (!hasOwn.call(row, column.name)) {
          if (column.optional) continue
          return undefined
        }
        const value = (row as Record<string, unknown>)[column.name]
        if (!column.check(value)) return undefined
        decoded[column.name] = value
      }
      out[r] = decoded as A
    }
    return out
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
