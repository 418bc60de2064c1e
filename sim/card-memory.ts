import { CardUid } from "../core/domain/ids.js"
import type { MifareKeyType } from "../core/ports/card-unit.js"
import type { DeviceRandom } from "./rng.js"

/**
 * A simulated Mifare Classic 1K card: a UID and 16 sectors of 4 blocks of 16 bytes, the last block of
 * each sector its trailer (key A, access bits, key B). The card is a plain object that travels: out of
 * one kiosk's gate, in the customer's pocket, into another kiosk's gate, with its memory intact.
 *
 * Memory is sparse: only written blocks are stored, the rest read as the factory content (zeros, the
 * manufacturer block, transport trailers with keys FF..FF). A fleet run makes hundreds of thousands of
 * cards and each carries a coupon of a few blocks, so a full 1 KiB per card would be most of the heap.
 */

export const sectorCount = 16
export const blocksPerSector = 4
export const blockBytes = 16
export const keyBytes = 6

/** Access bits of a new card ("transport configuration"): key A may do everything, key B is readable. */
const transportAccessBits = [0xff, 0x07, 0x80, 0x69] as const
const transportKey = new Uint8Array(keyBytes).fill(0xff)

export class SimCard {
  /** Blocks written since manufacture, by absolute block number (sector * 4 + block). */
  private readonly written = new Map<number, Uint8Array>()

  constructor(
    readonly uid: CardUid,
    readonly uidBytes: Uint8Array,
    /** ATQA and SAK as the card answers RF activation: Classic 1K is SAK 0x08. */
    readonly atqa: number,
    readonly sak: number
  ) {}

  /** The block as stored, trailers included with their keys (what the card itself holds). */
  private stored(absolute: number): Uint8Array {
    const block = this.written.get(absolute)
    if (block !== undefined) return block
    if (absolute === 0) return this.manufacturerBlock()
    if (absolute % blocksPerSector === blocksPerSector - 1) return transportTrailer()
    return new Uint8Array(blockBytes)
  }

  private manufacturerBlock(): Uint8Array {
    const block = new Uint8Array(blockBytes)
    block.set(this.uidBytes, 0)
    let at = this.uidBytes.length
    if (this.uidBytes.length === 4) {
      // A 4-byte UID is followed by its BCC (XOR of the UID bytes).
      block[at++] = this.uidBytes.reduce((x, b) => x ^ b, 0)
    }
    block[at++] = this.sak
    block[at++] = this.atqa & 0xff
    block[at] = (this.atqa >> 8) & 0xff
    return block
  }

  keyMatches(sector: number, keyType: MifareKeyType, key: Uint8Array): boolean {
    const trailer = this.stored(sector * blocksPerSector + blocksPerSector - 1)
    const offset = keyType === "A" ? 0 : 10
    if (key.length !== keyBytes) return false
    for (let i = 0; i < keyBytes; i++) if (trailer[offset + i] !== key[i]) return false
    return true
  }

  /** What a read returns: a copy, and key A of a trailer reads as zeros as on a real card. */
  read(sector: number, block: number): Uint8Array {
    const copy = Uint8Array.from(this.stored(sector * blocksPerSector + block))
    if (block === blocksPerSector - 1) copy.fill(0, 0, keyBytes)
    return copy
  }

  /** Writes 16 bytes. The caller has checked the address; block 0 of sector 0 is read-only. */
  write(sector: number, block: number, data: Uint8Array): void {
    this.written.set(sector * blocksPerSector + block, Uint8Array.from(data))
  }

  /** The blocks written since manufacture, by absolute block number (to save the card and make it again). */
  writtenEntries(): ReadonlyArray<readonly [number, Uint8Array]> {
    return [...this.written.entries()].sort((a, b) => a[0] - b[0])
  }

  /** How many blocks differ from a new card (for inspection). */
  get writtenBlocks(): number {
    return this.written.size
  }
}

const transportTrailer = (): Uint8Array => {
  const trailer = new Uint8Array(blockBytes)
  trailer.set(transportKey, 0)
  trailer.set(transportAccessBits, keyBytes)
  trailer.set(transportKey, 10)
  return trailer
}

/** Why an address is not usable for `op`, or undefined when it is. */
export const addressProblem = (sector: number, block: number, op: "read" | "write"): string | undefined => {
  if (!Number.isInteger(sector) || sector < 0 || sector >= sectorCount) return `sector ${sector} is not 0-15`
  if (!Number.isInteger(block) || block < 0 || block >= blocksPerSector) return `block ${block} is not 0-3`
  if (op === "write" && sector === 0 && block === 0) return "block 0 of sector 0 is the read-only manufacturer block"
  return undefined
}

export const toHex = (bytes: Uint8Array): string => {
  let hex = ""
  for (const b of bytes) hex += (b < 16 ? "0" : "") + b.toString(16)
  return hex.toUpperCase()
}

export const fromHex = (hex: string): Uint8Array => {
  const bytes = new Uint8Array(hex.length / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return bytes
}

/**
 * A card with a given UID (a card of another system, or one a test names): 4 bytes answer as a
 * Classic 1K with ATQA 0x0004, 7 bytes with ATQA 0x0044 (double-size UID); both SAK 0x08.
 */
export const cardWithUid = (uidHex: string): SimCard => {
  const uid = CardUid.make(uidHex.toUpperCase())
  const bytes = fromHex(uid)
  return new SimCard(uid, bytes, bytes.length === 4 ? 0x0004 : 0x0044, 0x08)
}

/**
 * Makes blank cards with UIDs from a seeded generator, never the same UID twice. A fleet shares one
 * factory across its kiosks so that no two kiosks' stackers hold the same UID; random 7-byte UIDs
 * make a clash rare, the set makes it impossible (TigerBeetle-style: do not rely on luck at scale).
 */
export interface CardFactory {
  readonly mint: (random: DeviceRandom) => SimCard
  /** Registers a card made elsewhere (`cardWithUid`) so the factory never mints its UID. */
  readonly reserve: (card: SimCard) => void
  readonly minted: () => number
}

/** Every UID is 7 bytes starting 0x04 (NXP's manufacturer code), as on current Classic 1K cards. */
export const makeCardFactory = (): CardFactory => {
  const issued = new Set<string>()
  const bytes = new Uint8Array(7)
  return {
    mint: (random) => {
      for (;;) {
        bytes[0] = 0x04
        for (let i = 1; i < 7; i++) bytes[i] = random.int(256)
        const hex = toHex(bytes)
        if (!issued.has(hex)) {
          issued.add(hex)
          return new SimCard(CardUid.make(hex), Uint8Array.from(bytes), 0x0044, 0x08)
        }
      }
    },
    reserve: (card) => void issued.add(card.uid),
    minted: () => issued.size
  }
}
