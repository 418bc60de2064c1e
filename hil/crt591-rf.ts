/**
 * The RF card part of the CRT-591 protocol (CM 0x60): the activate reply and the Mifare Classic
 * operations carried in PM 0x33, with their two-byte status words. Pure; shared by driver and emulator.
 */

export const MIFARE_SECTORS = 16
export const MIFARE_BLOCKS_PER_SECTOR = 4
export const MIFARE_BLOCK_BYTES = 16
export const MIFARE_KEY_BYTES = 6

/** Activate asks for Type A then Type B: DATA 'A' 'B'. */
export const ACTIVATE_DATA = Uint8Array.of(0x41, 0x42)

export const Sw = {
  ok: 0x9000,
  failed: 0x6f00,
  address: 0x6b00,
  length: 0x6700
} as const

export type RfProtocol = "M" | "A" | "B"

export interface Activation {
  readonly protocol: RfProtocol
  readonly atqa: number
  readonly uid: Uint8Array
  readonly sak: number
}

const protocolByte: Record<RfProtocol, number> = { M: 0x4d, A: 0x41, B: 0x42 }
const NO_CARD = 0x30

export const encodeActivation = (card: Activation | undefined): Uint8Array =>
  card === undefined
    ? Uint8Array.of(NO_CARD)
    : Uint8Array.of(protocolByte[card.protocol], card.atqa >> 8, card.atqa & 0xff, card.uid.length, ...card.uid, card.sak)

/** Reads the activate reply DATA; `undefined` means the unit saw no card. Trailing ATS bytes are ignored. */
export const decodeActivation = (data: Uint8Array): Activation | undefined | { readonly invalid: string } => {
  const p = data[0]
  if (p === undefined) return { invalid: "empty activate reply" }
  if (p === NO_CARD) return undefined
  const protocol: RfProtocol | undefined = p === 0x4d ? "M" : p === 0x41 ? "A" : p === 0x42 ? "B" : undefined
  if (protocol === undefined) return { invalid: `unknown card protocol byte 0x${p.toString(16)}` }
  const [atqaHigh, atqaLow, uidLength] = [data[1], data[2], data[3]]
  if (atqaHigh === undefined || atqaLow === undefined || uidLength === undefined) return { invalid: "activate reply cut short" }
  if (uidLength !== 4 && uidLength !== 7 && uidLength !== 10) return { invalid: `UID length ${uidLength} is not 4, 7 or 10` }
  const sak = data[4 + uidLength]
  if (sak === undefined) return { invalid: "activate reply ends inside the UID" }
  return { protocol, atqa: (atqaHigh << 8) | atqaLow, uid: data.slice(4, 4 + uidLength), sak }
}

// ---- Mifare Classic operations (PM 0x33) ---------------------------------------------------------

export type MifareOp =
  | { readonly _tag: "Auth"; readonly keyType: "A" | "B"; readonly sector: number; readonly key: Uint8Array }
  | { readonly _tag: "Read"; readonly sector: number; readonly block: number }
  | { readonly _tag: "Write"; readonly sector: number; readonly block: number; readonly data: Uint8Array }

export const encodeMifareOp = (op: MifareOp): Uint8Array => {
  switch (op._tag) {
    case "Auth":
      return Uint8Array.of(0x00, 0x20, op.keyType === "A" ? 0x00 : 0x01, op.sector, MIFARE_KEY_BYTES, ...op.key)
    case "Read":
      return Uint8Array.of(0x00, 0xb0, op.sector, op.block, 0x01)
    case "Write":
      return Uint8Array.of(0x00, 0xd1, op.sector, op.block, 0x01, ...op.data)
  }
}

/**
 * Reads a Mifare operation as the unit would. A malformed one yields the status word the unit answers
 * with: wrong length `67 00`, address out of range `6B 00`.
 */
export const decodeMifareOp = (data: Uint8Array): MifareOp | { readonly sw: number } => {
  const [cla, ins, p1, p2, p3] = [data[0], data[1], data[2], data[3], data[4]]
  if (cla !== 0x00 || ins === undefined || p1 === undefined || p2 === undefined || p3 === undefined) return { sw: Sw.length }
  switch (ins) {
    case 0x20: {
      if (p3 !== MIFARE_KEY_BYTES || data.length !== 5 + MIFARE_KEY_BYTES || (p1 !== 0x00 && p1 !== 0x01)) return { sw: Sw.length }
      if (p2 >= MIFARE_SECTORS) return { sw: Sw.address }
      return { _tag: "Auth", keyType: p1 === 0x00 ? "A" : "B", sector: p2, key: data.slice(5) }
    }
    case 0xb0: {
      if (p3 !== 0x01 || data.length !== 5) return { sw: Sw.length }
      if (p1 >= MIFARE_SECTORS || p2 >= MIFARE_BLOCKS_PER_SECTOR) return { sw: Sw.address }
      return { _tag: "Read", sector: p1, block: p2 }
    }
    case 0xd1: {
      if (p3 !== 0x01 || data.length !== 5 + MIFARE_BLOCK_BYTES) return { sw: Sw.length }
      if (p1 >= MIFARE_SECTORS || p2 >= MIFARE_BLOCKS_PER_SECTOR) return { sw: Sw.address }
      return { _tag: "Write", sector: p1, block: p2, data: data.slice(5) }
    }
    default:
      return { sw: Sw.length }
  }
}

/** Splits a Mifare reply DATA into its payload and the trailing status word. */
export const splitStatusWord = (data: Uint8Array): { readonly payload: Uint8Array; readonly sw: number } | undefined => {
  if (data.length < 2) return undefined
  const hi = data[data.length - 2] ?? 0
  const lo = data[data.length - 1] ?? 0
  return { payload: data.slice(0, data.length - 2), sw: (hi << 8) | lo }
}

export const withStatusWord = (payload: Uint8Array, sw: number): Uint8Array => {
  const out = new Uint8Array(payload.length + 2)
  out.set(payload)
  out[payload.length] = sw >> 8
  out[payload.length + 1] = sw & 0xff
  return out
}
