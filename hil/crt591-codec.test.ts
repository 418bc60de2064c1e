import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  bcc,
  type Command,
  decodeBody,
  decodeStatus,
  encodeCommand,
  encodeFrame,
  encodeReply,
  encodeStatus,
  errorMeanings,
  type Position,
  type Reply,
  type Stacker
} from "./crt591-codec.js"
import { parseBinCount, unitError } from "./crt591-driver.js"
import { Crt591Reader } from "./crt591-reader.js"
import {
  decodeActivation,
  decodeMifareOp,
  encodeActivation,
  encodeMifareOp,
  type MifareOp,
  splitStatusWord,
  Sw,
  withStatusWord
} from "./crt591-rf.js"

const bytes = (hex: string) => Uint8Array.from(hex.split(" "), (h) => Number.parseInt(h, 16))

/** Frames through the stream reader and back, as the other side of the line would see them. */
const readAll = (wire: Uint8Array) => {
  const reader = new Crt591Reader()
  reader.push(wire)
  const out = []
  for (let t = reader.next(); t !== undefined; t = reader.next()) out.push(t)
  return out
}

const byte = fc.integer({ min: 0, max: 255 })
const data = fc.uint8Array({ maxLength: 64 })
const command: fc.Arbitrary<Command> = fc.record({ address: fc.integer({ min: 0, max: 15 }), cm: byte, pm: byte, data })
const asciiCode = fc.constantFrom(...Object.keys(errorMeanings), "ZZ", "99")
const reply: fc.Arbitrary<Reply> = fc.oneof(
  fc.record({
    _tag: fc.constant("Positive" as const),
    address: fc.integer({ min: 0, max: 15 }),
    cm: byte,
    pm: byte,
    status: fc.record({ st0: byte, st1: byte, st2: byte }),
    data
  }),
  fc.record({ _tag: fc.constant("Negative" as const), address: fc.integer({ min: 0, max: 15 }), cm: byte, pm: byte, code: asciiCode })
)

describe("CRT-591 codec", () => {
  it("matches the worked examples of the protocol page byte for byte", () => {
    expect(encodeCommand({ address: 0, cm: 0x30, pm: 0x33, data: new Uint8Array(0) })).toEqual(bytes("F2 00 00 03 43 30 33 03 B2"))
    expect(encodeCommand({ address: 0, cm: 0x31, pm: 0x30, data: new Uint8Array(0) })).toEqual(bytes("F2 00 00 03 43 31 30 03 B0"))
    expect(encodeCommand({ address: 0, cm: 0x32, pm: 0x39, data: new Uint8Array(0) })).toEqual(bytes("F2 00 00 03 43 32 39 03 BA"))
  })

  it("puts a BCC on every frame that XORs the whole frame to zero, and LEN counts header through DATA", () => {
    fc.assert(
      fc.property(command, (c) => {
        const frame = encodeCommand(c)
        expect(bcc(frame)).toBe(0)
        expect((frame[2] ?? 0) * 256 + (frame[3] ?? 0)).toBe(3 + c.data.length)
        expect(frame.length).toBe(9 + c.data.length)
      })
    )
  })

  it("round-trips commands through the stream reader", () => {
    fc.assert(
      fc.property(command, (c) => {
        const [token, ...rest] = readAll(encodeCommand(c))
        expect(rest).toEqual([])
        if (token?._tag !== "Frame") throw new Error(`expected a frame, got ${JSON.stringify(token)}`)
        expect(decodeBody(token.address, token.body)).toEqual({ _tag: "Command", command: c })
      })
    )
  })

  it("round-trips positive and negative replies through the stream reader", () => {
    fc.assert(
      fc.property(reply, (r) => {
        const [token] = readAll(encodeReply(r))
        if (token?._tag !== "Frame") throw new Error("expected a frame")
        expect(decodeBody(token.address, token.body)).toEqual({ _tag: "Reply", reply: r })
      })
    )
  })

  it("emits 'N' for a negative reply and accepts both 'N' and 'E'", () => {
    const negative: Reply = { _tag: "Negative", address: 0, cm: 0x32, pm: 0x32, code: "A0" }
    const frame = encodeReply(negative)
    expect(frame[4]).toBe(0x4e)
    const alt = encodeFrame(0, Uint8Array.of(0x45, 0x32, 0x32, 0x41, 0x30))
    const [token] = readAll(alt)
    if (token?._tag !== "Frame") throw new Error("expected a frame")
    expect(decodeBody(token.address, token.body)).toEqual({ _tag: "Reply", reply: negative })
  })

  it("refuses bodies it cannot read, with a reason", () => {
    expect(decodeBody(0, Uint8Array.of(0x43, 0x31))._tag).toBe("Invalid")
    expect(decodeBody(0, Uint8Array.of(0x50, 0x31, 0x30, 0x30))._tag).toBe("Invalid")
    expect(decodeBody(0, Uint8Array.of(0x4e, 0x31, 0x30, 0x41))._tag).toBe("Invalid")
    expect(decodeBody(0, Uint8Array.of(0x51, 0x31, 0x30))).toMatchObject({ _tag: "Invalid", reason: "unknown header byte 0x51" })
  })

  it("reads every status combination of the manual, and nothing outside it", () => {
    for (const position of ["none", "gate", "rf"] as Array<Position>)
      for (const stacker of ["empty", "low", "ok"] as Array<Stacker>)
        for (const binFull of [false, true]) {
          const state = { position, stacker, binFull }
          expect(decodeStatus(encodeStatus(state))).toEqual(state)
        }
    expect(encodeStatus({ position: "gate", stacker: "low", binFull: true })).toEqual({ st0: 0x31, st1: 0x31, st2: 0x31 })
    fc.assert(
      fc.property(byte, byte, byte, (st0, st1, st2) => {
        const inTable = st0 >= 0x30 && st0 <= 0x32 && st1 >= 0x30 && st1 <= 0x32 && (st2 === 0x30 || st2 === 0x31)
        expect("invalid" in decodeStatus({ st0, st1, st2 })).toBe(!inTable)
      })
    )
  })

  it("maps every error code of the manual to an error a kiosk can act on", () => {
    const expected: Record<string, string> = { "10": "Jam", "13": "Jam", "14": "Jam", "12": "SensorFault", A0: "StackerEmpty", A1: "BinFull", B0: "NotInitialised" }
    for (const code of Object.keys(errorMeanings)) {
      const error = unitError("CRT-591 on test", code)
      expect(error._tag, code).toBe(expected[code] ?? "DeviceRefused")
      expect(error.message.length).toBeGreaterThan(20)
      if (error._tag === "DeviceRefused") expect(error.meaning).toBe(errorMeanings[code])
    }
    expect(unitError("d", "7Z")).toMatchObject({ _tag: "DeviceRefused", meaning: "not in the manual's error table" })
  })

  it("reads the bin counter in ASCII (the manual) and binary (one field driver)", () => {
    expect(parseBinCount(Uint8Array.of(0x30, 0x34, 0x32))).toBe(42)
    expect(parseBinCount(Uint8Array.of(0x01, 0x02))).toBe(258)
    expect(parseBinCount(new Uint8Array(0))).toBeUndefined()
  })
})

describe("CRT-591 RF operations", () => {
  const uid = fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 7, maxLength: 7 }), fc.uint8Array({ minLength: 10, maxLength: 10 }))

  it("round-trips the activate reply, and reads 'no card'", () => {
    fc.assert(
      fc.property(fc.constantFrom("M" as const, "A" as const, "B" as const), fc.constantFrom(0x0004, 0x0002, 0x0044), uid, byte, (protocol, atqa, u, sak) => {
        expect(decodeActivation(encodeActivation({ protocol, atqa, uid: u, sak }))).toEqual({ protocol, atqa, uid: u, sak })
      })
    )
    expect(decodeActivation(Uint8Array.of(0x30))).toBeUndefined()
    // A Type A T=CL card adds an ATS byte after the SAK: ignored.
    expect(decodeActivation(Uint8Array.of(0x41, 0x00, 0x44, 4, 1, 2, 3, 4, 0x20, 0x78))).toMatchObject({ sak: 0x20 })
    expect(decodeActivation(Uint8Array.of(0x4d, 0x00, 0x04, 5, 1, 2, 3, 4, 5, 8))).toMatchObject({ invalid: expect.any(String) })
    expect(decodeActivation(Uint8Array.of(0x4d, 0x00, 0x04, 4, 1, 2))).toMatchObject({ invalid: expect.any(String) })
  })

  it("round-trips Mifare operations and answers malformed ones with the unit's status word", () => {
    const op: fc.Arbitrary<MifareOp> = fc.oneof(
      fc.record({ _tag: fc.constant("Auth" as const), keyType: fc.constantFrom("A" as const, "B" as const), sector: fc.integer({ min: 0, max: 15 }), key: fc.uint8Array({ minLength: 6, maxLength: 6 }) }),
      fc.record({ _tag: fc.constant("Read" as const), sector: fc.integer({ min: 0, max: 15 }), block: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ _tag: fc.constant("Write" as const), sector: fc.integer({ min: 0, max: 15 }), block: fc.integer({ min: 0, max: 3 }), data: fc.uint8Array({ minLength: 16, maxLength: 16 }) })
    )
    fc.assert(
      fc.property(op, (o) => {
        expect(decodeMifareOp(encodeMifareOp(o))).toEqual(o)
      })
    )
    expect(encodeMifareOp({ _tag: "Read", sector: 2, block: 1 })).toEqual(bytes("00 B0 02 01 01"))
    expect(decodeMifareOp(bytes("00 B0 10 00 01"))).toEqual({ sw: Sw.address })
    expect(decodeMifareOp(bytes("00 B0 01 04 01"))).toEqual({ sw: Sw.address })
    expect(decodeMifareOp(bytes("00 D1 01 00 01 00"))).toEqual({ sw: Sw.length })
    expect(decodeMifareOp(bytes("00 20 00 01 05 FF FF FF FF FF"))).toEqual({ sw: Sw.length })
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (d) => void decodeMifareOp(d)))
  })

  it("splits and joins the trailing status word", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), fc.constantFrom(Sw.ok, Sw.failed, Sw.address, Sw.length), (payload, sw) => {
        expect(splitStatusWord(withStatusWord(payload, sw))).toEqual({ payload, sw })
      })
    )
    expect(splitStatusWord(Uint8Array.of(0x90))).toBeUndefined()
  })
})
