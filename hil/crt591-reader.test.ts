import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ACK, encodeCommand, encodeReply, FRAME_LEN_MAX, NAK, type Reply, STX } from "./crt591-codec.js"
import { Crt591Reader, type Token } from "./crt591-reader.js"

/**
 * Fuzzing the stream reader: whatever arrives on the line, it never throws, never holds more than
 * its bound, and finds the next good frame after garbage, truncated or corrupted frames and stray
 * control bytes. The line going quiet is modelled by `expire()`, as the link calls it.
 */

const good: Reply = { _tag: "Positive", address: 0, cm: 0x31, pm: 0x30, status: { st0: 0x30, st1: 0x32, st2: 0x30 }, data: Uint8Array.of(1, STX, 3, ACK) }
const goodFrame = encodeReply(good)

/** Feeds `chunks`, then lets the line go quiet until nothing is pending; returns every token. */
const drain = (chunks: ReadonlyArray<Uint8Array>, reader = new Crt591Reader()): Array<Token> => {
  const out: Array<Token> = []
  const pull = () => {
    for (let t = reader.next(); t !== undefined; t = reader.next()) out.push(t)
  }
  pull()
  for (const chunk of chunks) {
    reader.push(chunk)
    pull()
  }
  for (let guard = 0; reader.pending; guard++) {
    if (guard > 10_000) throw new Error("reader never settles")
    const t = reader.expire()
    if (t !== undefined) out.push(t)
    pull()
  }
  return out
}

const isGood = (t: Token) => t._tag === "Frame" && Buffer.from(t.body).equals(Buffer.from(goodFrame.subarray(4, goodFrame.length - 2)))

/** Cuts a byte string into chunks at arbitrary points, as a serial driver delivers it. */
const chunked = (all: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let from = 0
  for (const p of [...points, all.length]) {
    out.push(all.subarray(from, p))
    from = p
  }
  return out
}

const concat = (...parts: ReadonlyArray<Uint8Array>) => Uint8Array.from(parts.flatMap((p) => Array.from(p)))

// Garbage rich in the bytes that matter: STX, ETX, control bytes, small lengths.
const lineByte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(STX, 0x03, ACK, NAK, 0x04, 0x00))
const garbage = fc.array(lineByte, { maxLength: 300 }).map((a) => Uint8Array.from(a))
const cuts = fc.array(fc.nat(), { maxLength: 8 })

describe("CRT-591 stream reader (fuzz)", () => {
  it("never throws on random bytes and stays within its buffer bound", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 10 }), (chunks) => {
        const reader = new Crt591Reader({ bufferBytesMax: 2048 })
        const tokens = drain(chunks, reader)
        for (const t of tokens) expect(["Ack", "Nak", "Eot", "Frame", "Corrupt"]).toContain(t._tag)
        expect(reader.bufferedBytes).toBe(0)
      }),
      { numRuns: 300 }
    )
  })

  it("finds the next good frame after garbage, in any chunking", () => {
    fc.assert(
      fc.property(garbage, cuts, (junk, at) => {
        expect(drain(chunked(concat(junk, goodFrame), at)).some(isGood)).toBe(true)
      }),
      { numRuns: 1000 }
    )
  })

  it("finds the next good frame after a truncated frame", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: goodFrame.length - 1 }), garbage, cuts, (keep, junk, at) => {
        const full = encodeCommand({ address: 0, cm: 0x60, pm: 0x33, data: junk.subarray(0, 40) })
        const truncated = full.subarray(0, keep)
        // A frame cut short by exactly its BCC, followed by an STX that equals that BCC, is a good
        // frame on the wire: no reader can tell (1 in 256 of such cuts). The exchange's timeouts recover.
        fc.pre(!(keep === full.length - 1 && full[full.length - 1] === STX))
        const tokens = drain(chunked(concat(truncated, goodFrame), at))
        expect(tokens.filter(isGood)).toHaveLength(1)
      }),
      { numRuns: 500 }
    )
  })

  it("reports a corrupted frame and finds the good one after it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: goodFrame.length - 1 }), fc.integer({ min: 1, max: 255 }), cuts, (at, flip, split) => {
        const corrupted = goodFrame.slice()
        corrupted[at] = (corrupted[at] ?? 0) ^ flip
        const tokens = drain(chunked(concat(corrupted, goodFrame), split))
        expect(tokens.some((t) => t._tag === "Corrupt")).toBe(true)
        expect(tokens.filter(isGood).length).toBeGreaterThanOrEqual(1)
      }),
      { numRuns: 500 }
    )
  })

  it("passes stray ACK and NAK bytes between frames through as tokens, frames intact", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(ACK, NAK), { maxLength: 5 }), fc.array(fc.constantFrom(ACK, NAK), { maxLength: 5 }), cuts, (before, after, at) => {
        const tokens = drain(chunked(concat(Uint8Array.from(before), goodFrame, Uint8Array.from(after), goodFrame), at))
        expect(tokens.map((t) => t._tag)).toEqual([
          ...before.map((b) => (b === ACK ? "Ack" : "Nak")),
          "Frame",
          ...after.map((b) => (b === ACK ? "Ack" : "Nak")),
          "Frame"
        ])
      })
    )
  })

  it("gives up on an impossible length at once, without waiting for bytes that will never come", () => {
    const reader = new Crt591Reader()
    reader.push(Uint8Array.of(STX, 0, (FRAME_LEN_MAX + 1) >> 8, (FRAME_LEN_MAX + 1) & 0xff))
    expect(reader.next()).toEqual({ _tag: "Corrupt", reason: "length" })
    reader.push(goodFrame)
    expect(reader.next()?._tag).toBe("Frame")
  })

  it("drops the oldest bytes, not the newest, when the buffer overflows", () => {
    const reader = new Crt591Reader({ bufferBytesMax: 2048 })
    reader.push(Uint8Array.of(STX, 0, 0x01, 0xff))
    reader.push(new Uint8Array(5000).fill(0x11))
    reader.push(goodFrame)
    expect(drain([], reader).some(isGood)).toBe(true)
    expect(reader.overflowBytes).toBeGreaterThan(0)
  })
})
