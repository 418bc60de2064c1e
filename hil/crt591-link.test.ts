import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestClock } from "effect"
import { ACK, encodeReply } from "./crt591-codec.js"
import { defaultLinkOptions, makeCrt591Link } from "./crt591-link.js"
import { Crt591Reader } from "./crt591-reader.js"
import { makeMockPair } from "./mock-pair.js"
import { openLink } from "./serial-transport.js"

/**
 * The exchange's timing on Effect's test clock: every wait is a Clock wait, so retransmission and
 * give-up times can be checked exactly, without real time passing.
 */

/** Lets the mock ports' promises run; the test clock does not move. */
const settle = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))

const framesIn = (chunks: ReadonlyArray<Uint8Array>) => {
  const reader = new Crt591Reader()
  let frames = 0
  for (const chunk of chunks) {
    reader.push(chunk)
    for (let t = reader.next(); t !== undefined; t = reader.next()) if (t._tag === "Frame") frames += 1
  }
  return frames
}

const drain = (link: { read: (ms: number) => Effect.Effect<Option.Option<Uint8Array>, unknown> }) =>
  Effect.gen(function* () {
    const chunks: Array<Uint8Array> = []
    for (;;) {
      const chunk = yield* Effect.either(link.read(0))
      if (chunk._tag === "Left" || Option.isNone(chunk.right)) return chunks
      chunks.push(chunk.right.value)
    }
  })

/** A CRT-591 link (host side) wired to a bare peer port the test plays the unit on. */
const linkRig = Effect.gen(function* () {
  const pair = makeMockPair("clock")
  const host = yield* openLink({ path: pair.pathA, device: "unit", binding: pair.binding })
  const unit = yield* openLink({ path: pair.pathB, device: "peer", binding: pair.binding })
  const crt = yield* makeCrt591Link(host, "unit", defaultLinkOptions)
  return { host, unit, crt }
})

describe("CRT-591 link on the test clock", () => {
  it.scoped("retransmits every ackTimeoutMs and gives up after the last one", () =>
    Effect.gen(function* () {
      const { unit, crt } = yield* linkRig
      const exchange = yield* Effect.fork(crt.exchange(0x31, 0x30, new Uint8Array(0), 2000))
      const sent: Array<number> = []
      for (let i = 0; i < 4; i++) {
        yield* settle
        sent.push(framesIn(yield* drain(unit)))
        yield* TestClock.adjust(defaultLinkOptions.ackTimeoutMs - 1)
        yield* settle
        expect(exchange.unsafePoll()).toBeNull()
        yield* TestClock.adjust(1)
      }
      const error = yield* Effect.flip(Fiber.join(exchange))
      expect(error).toMatchObject({ _tag: "LinkTimeout", waitedMs: 4 * defaultLinkOptions.ackTimeoutMs, waitingFor: "ACK after 4 sends" })
      expect(sent).toEqual([1, 1, 1, 1])
    })
  )

  it.scoped("waits the reply time after an ACK, then abandons the exchange with EOT", () =>
    Effect.gen(function* () {
      const { unit, crt } = yield* linkRig
      const exchange = yield* Effect.fork(crt.exchange(0x32, 0x32, new Uint8Array(0), 5000))
      yield* settle
      yield* unit.write(Uint8Array.of(ACK))
      yield* settle
      yield* TestClock.adjust(4999)
      yield* settle
      expect(exchange.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      const error = yield* Effect.flip(Fiber.join(exchange))
      expect(error).toMatchObject({ _tag: "LinkTimeout", waitingFor: "the reply" })
      yield* settle
      const tail = (yield* drain(unit)).flatMap((c) => Array.from(c))
      expect(tail.at(-1)).toBe(0x04)
    })
  )

  it.scoped("takes a reply whose ACK was lost as the ACK, and ACKs it", () =>
    Effect.gen(function* () {
      const { unit, crt } = yield* linkRig
      const exchange = yield* Effect.fork(crt.exchange(0x31, 0x30, new Uint8Array(0), 2000))
      yield* settle
      yield* unit.write(encodeReply({ _tag: "Positive", address: 0, cm: 0x31, pm: 0x30, status: { st0: 0x30, st1: 0x32, st2: 0x30 }, data: new Uint8Array(0) }))
      const reply = yield* Fiber.join(exchange)
      expect(reply._tag).toBe("Positive")
      expect(crt.stats().repliesWithoutAck).toBe(1)
      yield* settle
      expect((yield* drain(unit)).flatMap((c) => Array.from(c)).at(-1)).toBe(ACK)
    })
  )
})
