import { ParseResult, Schema } from "effect"

/**
 * Money is integer points (1 point settles as 1 unit of the deployment's currency). Never a float.
 * `Points` is any safe integer (a balance may be negative for source accounts); `PositivePoints` is
 * what a transfer, a price or a grant carries.
 */
export const Points = Schema.Int.pipe(
  Schema.filter((n) => Number.isSafeInteger(n) || "points must be a safe integer"),
  Schema.brand("Points")
)
export type Points = typeof Points.Type

export const PositivePoints = Schema.Int.pipe(
  Schema.positive({ message: () => "an amount of points must be a whole number greater than zero" }),
  Schema.filter((n) => Number.isSafeInteger(n) || "points must be a safe integer"),
  Schema.brand("Points")
)

export const points = (n: number): Points => Points.make(n)

/**
 * An integer column as a driver returns it: a number (sql.js), a bigint, or a decimal string
 * (PostgreSQL's BIGINT through pg). Decodes to a safe integer number, refusing anything else, so a
 * row never smuggles a float or an overflow into the core.
 */
const IntegerCell = Schema.declare(
  (u: unknown): u is number | bigint | string => typeof u === "number" || typeof u === "bigint" || typeof u === "string",
  { identifier: "IntegerCell", description: "a number, bigint or decimal string" }
)

export const DbInt = IntegerCell.pipe(
  // One check rather than a union of refinements and a transformation (the same values accepted and
  // refused): every integer column of every row read goes through it.
  Schema.transformOrFail(Schema.Int, {
    strict: true,
    decode: (v, _, ast) => {
      const n = typeof v === "string" && v.trim() === "" ? Number.NaN : Number(v)
      return Number.isSafeInteger(n) && (typeof v !== "bigint" || BigInt(n) === v)
        ? ParseResult.succeed(n)
        : ParseResult.fail(new ParseResult.Type(ast, v, `expected a safe integer (a number, bigint or decimal string), got ${typeof v === "string" ? JSON.stringify(v) : String(v)}`))
    },
    encode: (n) => ParseResult.succeed(n)
  })
)

/** A boolean column: SQLite has no boolean type and stores 0/1. */
export const DbBool = Schema.Union(Schema.Boolean, Schema.Literal(0, 1)).pipe(
  Schema.transform(Schema.Boolean, { strict: true, decode: (v) => v === true || v === 1, encode: (b) => b })
)
