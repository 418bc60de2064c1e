import { describe, expect, it } from "vitest"
import * as fc from "fast-check"
import { blocksAnnounced, CardFormatError, COUPONS_PER_CARD_MAX, crc16, decodeCard, encodeCard } from "./card-format.js"

const base32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
const codeArb = fc.array(fc.constantFrom(...base32), { minLength: 12, maxLength: 12 }).map((cs) => {
  const s = cs.join("")
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`
})
const couponArb = fc.record({
  code: codeArb,
  valuePoints: fc.integer({ min: 0, max: 0xffffffff }),
  expiresAtMs: fc.integer({ min: 0, max: 2 ** 48 - 1 })
})

describe("card format", () => {
  it("round-trips any list of coupons that fits a card", () => {
    fc.assert(
      fc.property(fc.array(couponArb, { minLength: 1, maxLength: COUPONS_PER_CARD_MAX }), (coupons) => {
        const blocks = encodeCard(coupons)
        expect(blocks.every((b) => b.data.length === 16 && b.block <= 2 && b.sector >= 1 && b.sector <= 15)).toBe(true)
        expect(blocksAnnounced(blocks[0]!.data)).toBe(blocks.length)
        expect(decodeCard(blocks.map((b) => b.data))).toEqual(coupons)
      })
    )
  })

  it("a single coupon takes three blocks of sector 1 and leaves trailers alone", () => {
    const blocks = encodeCard([{ code: "7K3M-Q9RT-2XWB", valuePoints: 5000, expiresAtMs: 1_800_000_000_000 }])
    expect(blocks.map((b) => [b.sector, b.block])).toEqual([[1, 0], [1, 1], [1, 2]])
    expect(Array.from(blocks[0]!.data.subarray(0, 4))).toEqual([0x45, 0x43, 1, 1])
  })

  it("refuses a blank card, a foreign header and a corrupted payload", () => {
    expect(decodeCard([new Uint8Array(16)])).toBeInstanceOf(CardFormatError)
    const blocks = encodeCard([{ code: "7K3M-Q9RT-2XWB", valuePoints: 5000, expiresAtMs: 1 }]).map((b) => Uint8Array.from(b.data))
    blocks[1]![3] ^= 0x01
    const corrupted = decodeCard(blocks)
    expect(corrupted instanceof CardFormatError && corrupted.reason).toContain("checksum")
    const newer = Uint8Array.from(blocks[0]!)
    newer[2] = 9
    expect((decodeCard([newer, ...blocks.slice(1)]) as CardFormatError).reason).toContain("version 9")
  })

  it("refuses to encode what does not fit", () => {
    expect(() => encodeCard([])).toThrow(RangeError)
    expect(() => encodeCard([{ code: "bad", valuePoints: 1, expiresAtMs: 1 }])).toThrow(/12 base32/)
    expect(() => encodeCard([{ code: "7K3M-Q9RT-2XWB", valuePoints: -1, expiresAtMs: 1 }])).toThrow(/u32/)
  })

  it("uses CRC-16/CCITT-FALSE (check value 0x29B1)", () => {
    expect(crc16(new TextEncoder().encode("123456789"))).toBe(0x29b1)
  })

  it("computes the CRC a byte at a time as the bitwise definition does", () => {
    const bitwise = (bytes: Uint8Array) => {
      let crc = 0xffff
      for (const byte of bytes) {
        crc ^= byte << 8
        for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
      }
      return crc
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 720 }), (bytes) => crc16(bytes) === bitwise(bytes)), { numRuns: 300 })
  })
})
