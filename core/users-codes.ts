import { Effect } from "effect"
import { newId } from "./id-generator.js"

/**
 * One-time codes are never stored: a challenge keeps `sha256$<salt>$<hex>` of salt, challenge id and
 * code. The salt is per challenge, so equal codes never hash alike; the challenge id in the hash ties a
 * stored hash to its own row.
 *
 * SHA-256 is computed here, synchronously, rather than with `crypto.subtle.digest`: that one answers
 * through a promise settled by a worker thread, and while a fiber waits on it other fibers run, draw
 * from the seeded `Random` and take the store's lock in an order set by the wall clock, so the
 * simulator's runs would stop repeating byte for byte. `sha256Hex` is checked against
 * `crypto.subtle` in the tests.
 */
const ALGORITHM = "sha256"

/** Longer input than any code is refused before hashing: it can only be wrong. */
export const CODE_LENGTH_MAX = 16

// FIPS 180-4: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
])

const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n))

// Reused by every call (single-threaded, and nothing here yields): no arrays made per hash but the padded message.
const encoder = new TextEncoder()
const w = new Uint32Array(64)
const hex8 = (word: number): string => (word >>> 0).toString(16).padStart(8, "0")

/** SHA-256 of the UTF-8 bytes of `text`, as lower-case hex. */
export const sha256Hex = (text: string): string => {
  const message = encoder.encode(text)
  // Padding: a 1 bit, zeros, then the length in bits as a 64-bit big-endian integer.
  const blocks = Math.ceil((message.length + 9) / 64)
  const padded = new Uint8Array(blocks * 64)
  padded.set(message)
  padded[message.length] = 0x80
  const view = new DataView(padded.buffer)
  view.setUint32(padded.length - 8, Math.floor((message.length * 8) / 2 ** 32))
  view.setUint32(padded.length - 4, (message.length * 8) >>> 0)
  let h0 = 0x6a09e667, h1 = 0xbb67ae85, h2 = 0x3c6ef372, h3 = 0xa54ff53a, h4 = 0x510e527f, h5 = 0x9b05688c, h6 = 0x1f83d9ab, h7 = 0x5be0cd19
  for (let block = 0; block < blocks; block++) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block * 64 + t * 4)
    for (let t = 16; t < 64; t++) {
      const w15 = w[t - 15]!
      const w2 = w[t - 2]!
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3)
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10)
      w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) >>> 0
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7
    for (let t = 0; t < 64; t++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t]! + w[t]!) >>> 0
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0
      hh = g
      g = f
      f = e
      e = (d + t1) >>> 0
      d = c
      c = b
      b = a
      a = (t1 + t2) >>> 0
    }
    h0 = (h0 + a) >>> 0
    h1 = (h1 + b) >>> 0
    h2 = (h2 + c) >>> 0
    h3 = (h3 + d) >>> 0
    h4 = (h4 + e) >>> 0
    h5 = (h5 + f) >>> 0
    h6 = (h6 + g) >>> 0
    h7 = (h7 + hh) >>> 0
  }
  return hex8(h0) + hex8(h1) + hex8(h2) + hex8(h3) + hex8(h4) + hex8(h5) + hex8(h6) + hex8(h7)
}

const digest = (salt: string, challengeId: string, code: string): string => sha256Hex(`${salt}:${challengeId}:${code}`)

/** A fresh salted hash of `code` for `challengeId`; the salt comes from the seeded `Random`. */
export const hashCode = (challengeId: string, code: string): Effect.Effect<string> =>
  Effect.map(newId("s"), (id) => {
    const salt = id.slice(2)
    return `${ALGORITHM}$${salt}$${digest(salt, challengeId, code)}`
  })

/** Whether `code` is the one hashed into `stored`. */
export const codeMatches = (stored: string, challengeId: string, code: string): boolean => {
  const [algorithm, salt, expected] = stored.split("$")
  if (algorithm !== ALGORITHM || salt === undefined || expected === undefined) return false
  if (code.length === 0 || code.length > CODE_LENGTH_MAX) return false
  const actual = digest(salt, challengeId, code)
  // Compared in full whatever the first difference: no early exit for a timing probe to measure.
  let difference = actual.length ^ expected.length
  for (let i = 0; i < Math.min(actual.length, expected.length); i++) difference |= actual.charCodeAt(i) ^ expected.charCodeAt(i)
  return difference === 0
}
