import { deflateRawSync, inflateRawSync } from "node:zlib"
import { Either, Schema } from "effect"
import { CommandSchema } from "./commands.js"

/**
 * A replay token: everything needed to run a failure again, exactly, on the same layer. For the
 * model-based suite it carries fast-check's seed and path (to find the counterexample again with
 * `fc.check`) and the shrunk commands themselves (so a replay needs no search at all); for a catalog
 * scenario its name. JSON, deflated, base64url: one word to paste after `--replay`.
 */

export const ReplayToken = Schema.Struct({
  v: Schema.Literal(1),
  layer: Schema.Literal("sim", "serial", "http"),
  /** "model" or a catalog scenario's name. */
  suite: Schema.String,
  /** The system's seed (core ids, devices) and, for "model", fast-check's seed. */
  seed: Schema.Int,
  path: Schema.optional(Schema.String),
  commands: Schema.optional(Schema.Array(CommandSchema))
})
export type ReplayToken = typeof ReplayToken.Type

export const encodeToken = (token: ReplayToken): string => deflateRawSync(Buffer.from(JSON.stringify(token), "utf8")).toString("base64url")

const decode = Schema.decodeUnknownEither(Schema.parseJson(ReplayToken))

/** The token, or why it is not one (in words a user can act on). */
export const decodeToken = (text: string): Either.Either<ReplayToken, string> => {
  let json: string
  try {
    json = inflateRawSync(Buffer.from(text.trim(), "base64url")).toString("utf8")
  } catch {
    return Either.left("the replay token is not one this runner wrote (it does not unpack); copy the whole word after --replay from the failure's output")
  }
  return Either.mapLeft(decode(json), (error) => `the replay token unpacks but does not read as one: ${error.message.split("\n")[0] ?? ""}`)
}

export const replayCommand = (token: ReplayToken): string => `ecoupon scenarios run --replay ${encodeToken(token)}`
