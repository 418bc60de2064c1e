/**
 * The CRT-591 frame codec (shared/protocols/crt591.md): pure functions from values to bytes and back.
 * The driver and the emulator both use it, so a frame one side writes is by construction one the
 * other side reads. Where the public sources disagree, we send the common form and accept every form
 * seen in the field (the negative header 'N' or 'E').
 */
import { concatBytes } from "./bytes.js"

export const STX = 0xf2
export const ETX = 0x03
export const ACK = 0x06
export const NAK = 0x15
export const EOT = 0x04

export const HEADER_COMMAND = 0x43 // 'C'
export const HEADER_POSITIVE = 0x50 // 'P'
export const HEADER_NEGATIVE = 0x4e // 'N': what we emit
export const HEADER_NEGATIVE_ALT = 0x45 // 'E': printed in one place of the manual; accepted

/** Bytes around the body: STX ADDR LENH LENL ... ETX BCC. */
export const FRAME_OVERHEAD_BYTES = 6
/**
 * The largest LEN we believe. The longest legitimate frame (an RF block read, a firmware string) is
 * under 64 bytes; a bound this low lets the reader give up on a garbage length quickly.
 */
export const FRAME_LEN_MAX = 512
export const ADDRESS_MAX = 0x0f

export const Cm = {
  init: 0x30,
  status: 0x31,
  move: 0x32,
  frontEntry: 0x33,
  rf: 0x60,
  serialNumber: 0xa2,
  firmware: 0xa4,
  binCounter: 0xa5
} as const

export const InitPm = { hold: 0x30, capture: 0x31, leave: 0x33 } as const
export const MovePm = { hold: 0x30, ic: 0x31, rf: 0x32, capture: 0x33, gate: 0x39 } as const
export const FrontEntryPm = { enable: 0x30, disable: 0x31 } as const
export const StatusPm = { basic: 0x30, sensors: 0x31 } as const
export const RfPm = { activate: 0x30, mifare: 0x33 } as const
export const BinCounterPm = { read: 0x30, set: 0x31 } as const

export interface Command {
  readonly address: number
  readonly cm: number
  readonly pm: number
  readonly data: Uint8Array
}

/** ST0 card position, ST1 stacker, ST2 capture bin: each one ASCII character. */
export interface StatusBytes {
  readonly st0: number
  readonly st1: number
  readonly st2: number
}

export interface PositiveReply {
  readonly _tag: "Positive"
  readonly address: number
  readonly cm: number
  readonly pm: number
  readonly status: StatusBytes
  readonly data: Uint8Array
}

export interface NegativeReply {
  readonly _tag: "Negative"
  readonly address: number
  readonly cm: number
  readonly pm: number
  /** Two ASCII characters, E1 then E0, e.g. "A0". */
  readonly code: string
}

export type Reply = PositiveReply | NegativeReply

export type Decoded =
  | { readonly _tag: "Command"; readonly command: Command }
  | { readonly _tag: "Reply"; readonly reply: Reply }
  | { readonly _tag: "Invalid"; readonly reason: string }

/** XOR of `bytes[from, to)`. */
export const bcc = (bytes: Uint8Array, from = 0, to = bytes.length): number => {
  let x = 0
  for (let i = from; i < to; i++) x ^= bytes[i] ?? 0
  return x
}

/** Wraps a body (header byte through the last DATA byte) into a frame for `address`. */
export const encodeFrame = (address: number, body: Uint8Array): Uint8Array => {
  if (!Number.isInteger(address) || address < 0 || address > 0xff) throw new RangeError(`address ${address} is not a byte`)
  if (body.length < 1 || body.length > FRAME_LEN_MAX) throw new RangeError(`frame body of ${body.length} bytes`)
  const frame = new Uint8Array(body.length + FRAME_OVERHEAD_BYTES)
  frame[0] = STX
  frame[1] = address
  frame[2] = body.length >> 8
  frame[3] = body.length & 0xff
  frame.set(body, 4)
  frame[4 + body.length] = ETX
  frame[5 + body.length] = bcc(frame, 0, 5 + body.length)
  return frame
}


export const encodeCommand = (command: Command): Uint8Array =>
  encodeFrame(command.address, concatBytes([[HEADER_COMMAND, command.cm, command.pm], command.data]))

export const encodeReply = (reply: Reply): Uint8Array =>
  reply._tag === "Positive"
    ? encodeFrame(
        reply.address,
        concatBytes([[HEADER_POSITIVE, reply.cm, reply.pm, reply.status.st0, reply.status.st1, reply.status.st2], reply.data])
      )
    : encodeFrame(reply.address, concatBytes([[HEADER_NEGATIVE, reply.cm, reply.pm], asciiBytes(reply.code.padEnd(2, "0").slice(0, 2))]))

/** Reads a body taken out of a frame whose STX, LEN, ETX and BCC the reader has already checked. */
export const decodeBody = (address: number, frameBody: Uint8Array): Decoded => {
  const header = frameBody[0]
  const cm = frameBody[1]
  const pm = frameBody[2]
  if (header === undefined || cm === undefined || pm === undefined) {
    return { _tag: "Invalid", reason: `body of ${frameBody.length} bytes is shorter than header, CM and PM` }
  }
  switch (header) {
    case HEADER_COMMAND:
      return { _tag: "Command", command: { address, cm, pm, data: frameBody.slice(3) } }
    case HEADER_POSITIVE: {
      const [st0, st1, st2] = [frameBody[3], frameBody[4], frameBody[5]]
      if (st0 === undefined || st1 === undefined || st2 === undefined) {
        return { _tag: "Invalid", reason: "positive reply without its three status bytes" }
      }
      return { _tag: "Reply", reply: { _tag: "Positive", address, cm, pm, status: { st0, st1, st2 }, data: frameBody.slice(6) } }
    }
    case HEADER_NEGATIVE:
    case HEADER_NEGATIVE_ALT: {
      const [e1, e0] = [frameBody[3], frameBody[4]]
      if (e1 === undefined || e0 === undefined) return { _tag: "Invalid", reason: "negative reply without its error code" }
      return { _tag: "Reply", reply: { _tag: "Negative", address, cm, pm, code: String.fromCharCode(e1, e0) } }
    }
    default:
      return { _tag: "Invalid", reason: `unknown header byte 0x${hex(header)}` }
  }
}

export const asciiBytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0x7f)
export const asciiText = (bytes: Uint8Array): string => String.fromCharCode(...bytes)
export const hex = (byte: number): string => byte.toString(16).toUpperCase().padStart(2, "0")
export const hexBytes = (bytes: Uint8Array): string => Array.from(bytes, hex).join(" ")

// ---- status bytes ---------------------------------------------------------------------------------

export type Position = "none" | "gate" | "rf"
export type Stacker = "empty" | "low" | "ok"

export interface UnitState {
  readonly position: Position
  readonly stacker: Stacker
  readonly binFull: boolean
}

const st0ByPosition: Record<Position, number> = { none: 0x30, gate: 0x31, rf: 0x32 }
const st1ByStacker: Record<Stacker, number> = { empty: 0x30, low: 0x31, ok: 0x32 }

export const encodeStatus = (state: UnitState): StatusBytes => ({
  st0: st0ByPosition[state.position],
  st1: st1ByStacker[state.stacker],
  st2: state.binFull ? 0x31 : 0x30
})

/** The manual's reading of ST0-ST2, or a reason when a byte is outside its table. */
export const decodeStatus = (status: StatusBytes): UnitState | { readonly invalid: string } => {
  const position = status.st0 === 0x30 ? "none" : status.st0 === 0x31 ? "gate" : status.st0 === 0x32 ? "rf" : undefined
  const stacker = status.st1 === 0x30 ? "empty" : status.st1 === 0x31 ? "low" : status.st1 === 0x32 ? "ok" : undefined
  const binFull = status.st2 === 0x30 ? false : status.st2 === 0x31 ? true : undefined
  if (position === undefined || stacker === undefined || binFull === undefined) {
    return { invalid: `status bytes ${hexBytes(Uint8Array.of(status.st0, status.st1, status.st2))} are outside the manual's table` }
  }
  return { position, stacker, binFull }
}

// ---- error codes ----------------------------------------------------------------------------------

/** E1 E0 of a negative reply and what the manual says it means. */
export const errorMeanings: Readonly<Record<string, string>> = {
  "00": "undefined command",
  "01": "command parameter error",
  "02": "command sequence error (cannot be executed in this state)",
  "03": "command not supported by this hardware",
  "04": "command data error",
  "05": "card contact problem",
  "10": "card jam",
  "12": "sensor failure",
  "13": "card too long",
  "14": "card too short",
  "40": "card recycling (capture) disabled",
  "43": "card cannot move to that position",
  "45": "card moved by hand",
  "50": "capture counter overflow",
  "51": "motor failure",
  "60": "card power supply short",
  "61": "card activation failed (no RF card, or not answering)",
  "67": "card transmission error",
  "68": "card transmission timeout",
  A0: "stacker empty",
  A1: "capture bin full",
  B0: "not initialised (send Init first)"
}

export const errorMeaning = (code: string): string => errorMeanings[code] ?? "not in the manual's error table"
