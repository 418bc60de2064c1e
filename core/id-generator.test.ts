import { Effect, Random } from "effect"
import { describe, expect, it } from "vitest"
import { newCouponCode, newId, newOtpCode } from "./id-generator.js"

/** What the generators drew before they read Effect's generator directly: one `nextIntBetween` effect a character. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
const base32 = (length: number) =>
  Effect.gen(function* () {
    let out = ""
    for (let i = 0; i < length; i++) out += ALPHABET[yield* Random.nextIntBetween(0, 32)]
    return out
  })
const reference = Effect.gen(function* () {
  const id = `ord_${yield* base32(16)}`
  const c = yield* base32(12)
  const code = `${c.slice(0, 4)}-${c.slice(4, 8)}-${c.slice(8)}`
  let otp = ""
  for (let i = 0; i < 6; i++) otp += String(yield* Random.nextIntBetween(0, 10))
  const after = yield* Random.nextInt
  return [id, code, otp, after] as const
})
const generated = Effect.gen(function* () {
  return [yield* newId("ord"), yield* newCouponCode, yield* newOtpCode(6), yield* Random.nextInt] as const
})

describe("id generator", () => {
  it("draws the same ids, codes and numbers after them as one nextIntBetween a character would, from a seeded Random", () => {
    for (const seed of [1, 2, 42, "fleet"]) {
      const expected = Effect.runSync(Effect.withRandom(reference, Random.make(seed)))
      const actual = Effect.runSync(Effect.withRandom(generated, Random.make(seed)))
      expect(actual).toEqual(expected)
      expect(actual[0]).toMatch(/^ord_[0-9A-HJKMNP-TV-Z]{16}$/)
      expect(actual[1]).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/)
      expect(actual[2]).toMatch(/^[0-9]{6}$/)
    }
  })

  it("draws through the effects of a Random that is not Effect's own", () => {
    const fixed = Random.fixed([0.5, 0.25, 0.999])
    const expected = Effect.runSync(Effect.withRandom(reference, fixed))
    const actual = Effect.runSync(Effect.withRandom(generated, Random.fixed([0.5, 0.25, 0.999])))
    expect(actual).toEqual(expected)
  })

  it("draws from the default Random too", () => {
    expect(Effect.runSync(newId("x"))).toMatch(/^x_[0-9A-HJKMNP-TV-Z]{16}$/)
  })
})
