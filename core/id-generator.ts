import { Effect, Random } from "effect"
import { PCGRandom } from "effect/Utils"

/**
 * Ids and codes the system makes itself, drawn from Effect's `Random` service: seeded in the
 * simulator and tests, so one seed gives the same ids every run; in production the default `Random`
 * is seeded from the platform. Crockford base32 (no I, L, O, U): readable aloud and unambiguous.
 *
 * An id is 16 draws. Through `Random.nextIntBetween` each draw is an effect of its own (two steps of
 * Effect's run loop: ~36 steps an id, several ids a request). Effect's own `Random` (`Random.make`,
 * and the default one) keeps its generator, a `PCGRandom` of `effect/Utils`, in the field `PRNG`, and
 * `nextIntBetween(0, n)` is `PRNG.integer(n)`: drawn from that generator directly, synchronously, the
 * same numbers come in the same order (checked against the effects in the tests). Any other `Random`
 * (a test's `Random.fixed`, one of its own) is drawn from through its effects, as before.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

/** The generator behind `random` when it is Effect's own, drawn from directly; undefined otherwise. */
const generatorOf = (random: Random.Random): PCGRandom | undefined => {
  const prng = (random as { readonly PRNG?: unknown }).PRNG
  return prng instanceof PCGRandom ? prng : undefined
}

/** `length` draws from [0, base), each as the character `chars(draw)` in the order drawn, then `finish`ed. */
const draws = (length: number, base: number, chars: (draw: number) => string, finish: (drawn: string) => string): Effect.Effect<string> =>
  Effect.randomWith((random) => {
    const prng = generatorOf(random)
    if (prng !== undefined) {
      let out = ""
      for (let i = 0; i < length; i++) out += chars(prng.integer(base))
      return Effect.succeed(finish(out))
    }
    return Effect.gen(function* () {
      let out = ""
      for (let i = 0; i < length; i++) out += chars(yield* random.nextIntBetween(0, base))
      return finish(out)
    })
  })

const base32Char = (draw: number): string => ALPHABET[draw]!
const asIs = (drawn: string): string => drawn

/** `prefix_` and 16 base32 characters (80 bits): collisions are not a practical concern. */
export const newId = (prefix: string): Effect.Effect<string> => draws(16, 32, base32Char, (body) => `${prefix}_${body}`)

/** A coupon code: three groups of four base32 characters (60 bits), e.g. 7K3M-Q9RT-2XWB. */
export const newCouponCode: Effect.Effect<string> = draws(12, 32, base32Char, (s) => `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`)

/** A numeric one-time code of `digits` digits, leading zeros kept. */
export const newOtpCode = (digits: number): Effect.Effect<string> => draws(digits, 10, String, asIs)
