import { describe, expect, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import * as fc from "fast-check"
import { codeMatches, hashCode, sha256Hex } from "./users-codes.js"

const subtleHex = (text: string) =>
  Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).pipe(
    Effect.map((bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join(""))
  )

describe("one-time code hashes", () => {
  it("sha256Hex matches the published test vectors", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    expect(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  })

  it.effect("sha256Hex agrees with crypto.subtle on any text, across block boundaries and multi-byte characters", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 200 }), async (text) => {
          expect(sha256Hex(text)).toBe(await Effect.runPromise(subtleHex(text)))
        }),
        { numRuns: 200 }
      )
    ))

  it.effect("a code matches its own hash only, and the same code hashes differently per challenge", () =>
    Effect.gen(function* () {
      const stored = yield* hashCode("otp_1", "123456")
      expect(stored).toMatch(/^sha256\$[0-9A-Z]{16}\$[0-9a-f]{64}$/)
      expect(codeMatches(stored, "otp_1", "123456")).toBe(true)
      expect(codeMatches(stored, "otp_1", "123457")).toBe(false)
      expect(codeMatches(stored, "otp_2", "123456")).toBe(false)
      expect(codeMatches(stored, "otp_1", "")).toBe(false)
      expect(codeMatches(stored, "otp_1", "1".repeat(17))).toBe(false)
      expect(codeMatches("md5$x$y", "otp_1", "123456")).toBe(false)
      expect(yield* hashCode("otp_1", "123456")).not.toBe(stored)
    }).pipe(Effect.withRandom(Random.make(1))))
})
