import { MIFARE_BLOCK_BYTES, MIFARE_BLOCKS_PER_SECTOR, MIFARE_KEY_BYTES, MIFARE_SECTORS } from "./crt591-rf.js"

/**
 * A Mifare Classic 1K card as the emulator keeps it: UID, 64 blocks of 16 bytes, and the keys in each
 * sector trailer. Enough of the real card to exercise a driver's RF code: keys are checked, block 0
 * of sector 0 (manufacturer data) is read-only, key A reads back as zeros, writing a trailer changes
 * the sector's keys. Access bits are stored but not enforced (every blank card ships with the
 * transport configuration, where either key may read and write data blocks).
 */

export const DEFAULT_KEY = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
/** Transport configuration access bits plus the general-purpose byte. */
const TRANSPORT_ACCESS = Uint8Array.of(0xff, 0x07, 0x80, 0x69)

export const MIFARE_1K_ATQA = 0x0004
export const MIFARE_1K_SAK = 0x08

export class MifareCard {
  readonly memory = new Uint8Array(MIFARE_SECTORS * MIFARE_BLOCKS_PER_SECTOR * MIFARE_BLOCK_BYTES)
  readonly atqa = MIFARE_1K_ATQA
  readonly sak = MIFARE_1K_SAK

  constructor(readonly uid: Uint8Array) {
    if (uid.length !== 4 && uid.length !== 7 && uid.length !== 10) throw new RangeError(`a UID is 4, 7 or 10 bytes, not ${uid.length}`)
    // Block 0: the UID, for a 4-byte UID its BCC, then manufacturer bytes.
    this.memory.set(uid, 0)
    if (uid.length === 4) this.memory[4] = uid.reduce((x, b) => x ^ b, 0)
    this.memory[5] = this.sak
    for (let sector = 0; sector < MIFARE_SECTORS; sector++) {
      const trailer = offset(sector, 3)
      this.memory.set(DEFAULT_KEY, trailer)
      this.memory.set(TRANSPORT_ACCESS, trailer + MIFARE_KEY_BYTES)
      this.memory.set(DEFAULT_KEY, trailer + 10)
    }
  }

  get uidHex(): string {
    return Array.from(this.uid, (b) => b.toString(16).toUpperCase().padStart(2, "0")).join("")
  }

  keyMatches(sector: number, keyType: "A" | "B", key: Uint8Array): boolean {
    const at = offset(sector, 3) + (keyType === "A" ? 0 : 10)
    const stored = this.memory.subarray(at, at + MIFARE_KEY_BYTES)
    return key.length === MIFARE_KEY_BYTES && stored.every((b, i) => b === key[i])
  }

  read(sector: number, block: number): Uint8Array {
    const at = offset(sector, block)
    const data = this.memory.slice(at, at + MIFARE_BLOCK_BYTES)
    // A real card never reveals key A.
    if (block === 3) data.fill(0, 0, MIFARE_KEY_BYTES)
    return data
  }

  /** False for the manufacturer block, which a real card refuses to write. */
  write(sector: number, block: number, data: Uint8Array): boolean {
    if (sector === 0 && block === 0) return false
    this.memory.set(data.subarray(0, MIFARE_BLOCK_BYTES), offset(sector, block))
    return true
  }
}

const offset = (sector: number, block: number) => (sector * MIFARE_BLOCKS_PER_SECTOR + block) * MIFARE_BLOCK_BYTES

/** Deterministic 4-byte UIDs for a stacker of blank cards: the same seed gives the same cards. */
export const blankCard = (seed: number, index: number): MifareCard => {
  // A small integer hash (xorshift-multiply) spreads consecutive indexes over the UID space.
  let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0
  x ^= x >>> 16
  x = Math.imul(x, 0x7feb352d) >>> 0
  x ^= x >>> 15
  // 0x04 first: NXP's manufacturer byte, what real blanks carry.
  return new MifareCard(Uint8Array.of(0x04, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff))
}
