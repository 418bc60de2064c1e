import { HelpDoc, Options, ValidationError } from "@effect/cli"
import { Effect, ParseResult, Schema } from "effect"

/**
 * Option values that, when refused, say which option they are about in one line. @effect/cli's own
 * `Options.integer` answers `--points 1.5` with "'1.5' is not a integer", and `Options.withSchema`
 * with the schema's message alone; these name the option and what it takes.
 */

const refuse = (line: string) => ValidationError.invalidValue(HelpDoc.p(line))

const WHOLE = /^[+-]?\d+$/

/** `--name <whole number>`; `unit` says what it counts ("points" gives "a whole number of points"). */
export const integerOption = (name: string, unit?: string): Options.Options<number> =>
  Options.text(name).pipe(
    Options.mapEffect((text) => {
      const value = Number(text.trim())
      return WHOLE.test(text.trim()) && Number.isSafeInteger(value)
        ? Effect.succeed(value)
        : Effect.fail(refuse(`--${name} must be a whole number${unit === undefined ? "" : ` of ${unit}`}; got '${text}'`))
    })
  )

/** `--name <text>` decoded with `schema`; a refusal names the option and says what the schema expected. */
export const schemaOption = <A>(name: string, schema: Schema.Schema<A, string>): Options.Options<A> =>
  Options.text(name).pipe(
    Options.mapEffect((text) =>
      Schema.decodeUnknown(schema)(text).pipe(
        Effect.mapError((error) => refuse(`--${name} '${text}' is refused: ${ParseResult.TreeFormatter.formatErrorSync(error).split("\n").at(-1)?.replace(/^\s*└─\s*/, "") ?? "not valid"}`))
      )
    )
  )
