import { Effect, Random } from "effect"

/**
 * Ids and codes the system makes itself, drawn from Effect's `Random` service: seeded in the
 * simulator and tests, so one seed gives the same ids every run; in production the default `Random`
 * is seeded from the platform. Crockford base32 (no I, L, O, U): readable aloud and unambiguous.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

const base32 = (length: number): Effect.Effect<string> =>
  Effect.gen(function* () {
    let out = ""
    for (let i = 0; i < length; i++) out += ALPHABET[yield* Random.nextIntBetween(0, 32)]
    return out
  })

/** `prefix_` and 16 base32 characters (80 bits): collisions are not a practical concern. */
export const newId = (prefix: string): Effect.Effect<string> => Effect.map(base32(16), (body) => `${prefix}_${body}`)

/** A coupon code: three groups of four base32 characters (60 bits), e.g. 7K3M-Q9RT-2XWB. */
export const newCouponCode: Effect.Effect<string> = Effect.map(base32(12), (s) => `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`)

/** A numeric one-time code of `digits` digits, leading zeros kept. */
export const newOtpCode = (digits: number): Effect.Effect<string> =>
  Effect.gen(function* () {
    let out = ""
    for (let i = 0; i < digits; i++) out += String(yield* Random.nextIntBetween(0, 10))
    return out
  })
