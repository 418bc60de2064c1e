import { Schema } from "effect"

/**
 * What the kiosk writes on a Mifare Classic 1K card: the coupons it carries, so that a merchant's
 * reader (or a person with the printed code) can redeem them. Sector 0 is left alone (manufacturer
 * block, MAD); every sector from 1 on gives its blocks 0-2 (block 3 is the sector trailer).
 *
 * Layout, version 1 (big-endian):
 *   header block: "EC" | version (1) | coupon count (1) | payload bytes (2) | CRC-16/CCITT of payload (2) | zeros (8)
 *   payload: per coupon 24 bytes: code without dashes, 12 ASCII | value points u32 | expiry ms u48 | zeros (2)
 */
export const BLOCK_BYTES = 16
const MAGIC = [0x45, 0x43] // "EC"
const VERSION = 1
const ENTRY_BYTES = 24
const CODE_CHARS = 12
const FIRST_SECTOR = 1
const LAST_SECTOR = 15
const DATA_BLOCKS_PER_SECTOR = 3

/** Where data goes, in order: (sector, block) of every writable data block. */
export const dataBlocks: ReadonlyArray<{ readonly sector: number; readonly block: number }> = Array.from(
  { length: (LAST_SECTOR - FIRST_SECTOR + 1) * DATA_BLOCKS_PER_SECTOR },
  (_, i) => ({ sector: FIRST_SECTOR + Math.floor(i / DATA_BLOCKS_PER_SECTOR), block: i % DATA_BLOCKS_PER_SECTOR })
)

/** At most this many coupons fit on one card. */
export const COUPONS_PER_CARD_MAX = Math.floor(((dataBlocks.length - 1) * BLOCK_BYTES) / ENTRY_BYTES)

export interface CardCoupon {
  /** The printed code, with dashes (7K3M-Q9RT-2XWB). */
  readonly code: string
  readonly valuePoints: number
  readonly expiresAtMs: number
}

export class CardFormatError extends Schema.TaggedError<CardFormatError>()("CardFormatError", { reason: Schema.String }) {
  override get message() {
    return `the card's content is not readable as ecoupon data: ${this.reason}`
  }
}

/** CRC-16/CCITT (polynomial 0x1021, initial 0xFFFF) of each byte value: a byte at a time, not a bit. */
const CRC_TABLE = Uint16Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  return crc
})

export const crc16 = (bytes: Uint8Array): number => {
  let crc = 0xffff
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >>> 8) ^ bytes[i]!) & 0xff]!
  return crc
}

/** The blocks to write, in order: the header block first, then as many payload blocks as needed. */
export const encodeCard = (coupons: ReadonlyArray<CardCoupon>): ReadonlyArray<{ readonly sector: number; readonly block: number; readonly data: Uint8Array }> => {
  if (coupons.length === 0 || coupons.length > COUPONS_PER_CARD_MAX) {
    throw new RangeError(`a card carries 1 to ${COUPONS_PER_CARD_MAX} coupons, not ${coupons.length}`)
  }
  const payload = new Uint8Array(coupons.length * ENTRY_BYTES)
  const view = new DataView(payload.buffer)
  coupons.forEach((coupon, i) => {
    const code = coupon.code.replaceAll("-", "")
    if (!/^[0-9A-Z]{12}$/.test(code)) throw new RangeError(`coupon code ${coupon.code} is not 12 base32 characters`)
    if (!Number.isSafeInteger(coupon.valuePoints) || coupon.valuePoints < 0 || coupon.valuePoints > 0xffffffff) {
      throw new RangeError(`coupon value ${coupon.valuePoints} does not fit the card format (u32 points)`)
    }
    if (!Number.isSafeInteger(coupon.expiresAtMs) || coupon.expiresAtMs < 0 || coupon.expiresAtMs >= 2 ** 48) {
      throw new RangeError(`coupon expiry ${coupon.expiresAtMs} does not fit the card format (u48 ms)`)
    }
    const at = i * ENTRY_BYTES
    for (let c = 0; c < CODE_CHARS; c++) payload[at + c] = code.charCodeAt(c)
    view.setUint32(at + 12, coupon.valuePoints)
    view.setUint16(at + 16, Math.floor(coupon.expiresAtMs / 2 ** 32))
    view.setUint32(at + 18, coupon.expiresAtMs % 2 ** 32)
  })
  const header = new Uint8Array(BLOCK_BYTES)
  header.set(MAGIC, 0)
  header[2] = VERSION
  header[3] = coupons.length
  new DataView(header.buffer).setUint16(4, payload.length)
  new DataView(header.buffer).setUint16(6, crc16(payload))
  const blocks = [header]
  for (let at = 0; at < payload.length; at += BLOCK_BYTES) {
    const block = new Uint8Array(BLOCK_BYTES)
    block.set(payload.subarray(at, at + BLOCK_BYTES))
    blocks.push(block)
  }
  return blocks.map((data, i) => ({ ...dataBlocks[i]!, data }))
}

/** How many blocks a header announces (header included), or an error for a blank or foreign card. */
export const blocksAnnounced = (header: Uint8Array): number | CardFormatError => {
  if (header.length !== BLOCK_BYTES) return new CardFormatError({ reason: `a block has ${BLOCK_BYTES} bytes, got ${header.length}` })
  if (header[0] !== MAGIC[0] || header[1] !== MAGIC[1]) return new CardFormatError({ reason: "no ecoupon header (blank or foreign card)" })
  if (header[2] !== VERSION) return new CardFormatError({ reason: `format version ${header[2]} is not supported (this kiosk reads ${VERSION})` })
  const count = header[3] ?? 0
  const payloadBytes = new DataView(header.buffer, header.byteOffset).getUint16(4)
  if (count === 0 || count > COUPONS_PER_CARD_MAX || payloadBytes !== count * ENTRY_BYTES) {
    return new CardFormatError({ reason: `header announces ${count} coupons in ${payloadBytes} bytes` })
  }
  return 1 + Math.ceil(payloadBytes / BLOCK_BYTES)
}

/** Reads back what `encodeCard` wrote; `blocks[0]` is the header. */
export const decodeCard = (blocks: ReadonlyArray<Uint8Array>): ReadonlyArray<CardCoupon> | CardFormatError => {
  const header = blocks[0]
  if (header === undefined) return new CardFormatError({ reason: "no blocks read" })
  const announced = blocksAnnounced(header)
  if (typeof announced !== "number") return announced
  if (blocks.length < announced) return new CardFormatError({ reason: `header announces ${announced} blocks, ${blocks.length} read` })
  const headerView = new DataView(header.buffer, header.byteOffset)
  const payloadBytes = headerView.getUint16(4)
  const payload = new Uint8Array(payloadBytes)
  for (let i = 1; i < announced; i++) payload.set(blocks[i]!.subarray(0, Math.min(BLOCK_BYTES, payloadBytes - (i - 1) * BLOCK_BYTES)), (i - 1) * BLOCK_BYTES)
  if (crc16(payload) !== headerView.getUint16(6)) return new CardFormatError({ reason: "payload checksum does not match (torn or corrupted write)" })
  const view = new DataView(payload.buffer)
  return Array.from({ length: header[3]! }, (_, i) => {
    const at = i * ENTRY_BYTES
    const code = String.fromCharCode(...payload.subarray(at, at + CODE_CHARS))
    return {
      code: `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`,
      valuePoints: view.getUint32(at + 12),
      expiresAtMs: view.getUint16(at + 16) * 2 ** 32 + view.getUint32(at + 18)
    }
  })
}
