import { Effect } from "effect"
import { newId } from "./id-generator.js"

/**
 * One-time codes are never stored: a challenge keeps `sha256$<salt>$<hex>` of salt, challenge id and
 * code. The salt is per challenge, so equal codes never hash alike; the challenge id in the hash ties a
 * stored hash to its own row.
 */
const ALGORITHM = "sha256"

/** Longer input than any code is refused before hashing: it can only be wrong. */
export const CODE_LENGTH_MAX = 16

const hex = (bytes: ArrayBuffer): string => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("")

const digest = (salt: string, challengeId: string, code: string): Effect.Effect<string> =>
  Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${salt}:${challengeId}:${code}`))).pipe(Effect.map(hex))

/** A fresh salted hash of `code` for `challengeId`; the salt comes from the seeded `Random`. */
export const hashCode = (challengeId: string, code: string): Effect.Effect<string> =>
  Effect.gen(function* () {
    const salt = (yield* newId("s")).slice(2)
    return `${ALGORITHM}$${salt}$${yield* digest(salt, challengeId, code)}`
  })

/** Whether `code` is the one hashed into `stored`. */
export const codeMatches = (stored: string, challengeId: string, code: string): Effect.Effect<boolean> =>
  Effect.gen(function* () {
    const [algorithm, salt, expected] = stored.split("$")
    if (algorithm !== ALGORITHM || salt === undefined || expected === undefined) return false
    if (code.length === 0 || code.length > CODE_LENGTH_MAX) return false
    const actual = yield* digest(salt, challengeId, code)
    // Compared in full whatever the first difference: no early exit for a timing probe to measure.
    let difference = actual.length ^ expected.length
    for (let i = 0; i < Math.min(actual.length, expected.length); i++) difference |= actual.charCodeAt(i) ^ expected.charCodeAt(i)
    return difference === 0
  })
