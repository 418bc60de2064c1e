import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { cardWithUid, makeCardFactory, toHex } from "./card-memory.js"
import type { DeviceRandom } from "./rng.js"
import { deviceRandom } from "./rng.js"

describe("sim card memory", () => {
  it("a new card holds its UID in block 0, transport trailers and zeros elsewhere", () => {
    const card = cardWithUid("04a1b2c3")
    expect(card.uid).toBe("04A1B2C3")
    // 4-byte UID, BCC, SAK, ATQA (little-endian), zeros.
    expect(toHex(card.read(0, 0))).toBe("04A1B2C3D4080400" + "0".repeat(16))
    expect(toHex(card.read(5, 3))).toBe("000000000000FF078069FFFFFFFFFFFF")
    expect(toHex(card.read(5, 1))).toBe("0".repeat(32))
    expect(card.keyMatches(5, "A", new Uint8Array(6).fill(0xff))).toBe(true)
    expect(card.keyMatches(5, "B", new Uint8Array(6).fill(0xff))).toBe(true)
    expect(card.keyMatches(5, "A", new Uint8Array(6))).toBe(false)
  })

  it("writes are kept per block, and a read is a copy", () => {
    const card = cardWithUid("04A1B2C3D4E5F6")
    card.write(2, 1, new Uint8Array(16).fill(9))
    const read = card.read(2, 1)
    read.fill(0)
    expect(card.read(2, 1)).toEqual(new Uint8Array(16).fill(9))
    expect(card.writtenBlocks).toBe(1)
    expect([card.atqa, card.sak]).toEqual([0x0044, 0x08])
  })

  it("a card factory never makes the same UID twice, even when the generator repeats itself", () => {
    // Six bytes per UID: the generator gives the same UID twice, then another.
    const bytes = [...Array(12).fill(1), ...Array(6).fill(2)]
    let at = 0
    const repeating: DeviceRandom = { next: () => 0, int: () => bytes[at++ % bytes.length] ?? 0 }
    const factory = makeCardFactory()
    expect([factory.mint(repeating).uid, factory.mint(repeating).uid]).toEqual(["04010101010101", "04020202020202"])
    expect(factory.minted()).toBe(2)
  })

  it.effect("7-byte UIDs from a seeded generator, unique across many", () =>
    Effect.gen(function*() {
      const random = yield* deviceRandom(3)
      const factory = makeCardFactory()
      const uids = Array.from({ length: 5_000 }, () => factory.mint(random).uid)
      expect(uids.every((uid) => /^04[0-9A-F]{12}$/.test(uid))).toBe(true)
      expect(new Set(uids).size).toBe(uids.length)
      const again = yield* deviceRandom(3)
      expect(makeCardFactory().mint(again).uid).toBe(uids[0])
    }))
})
