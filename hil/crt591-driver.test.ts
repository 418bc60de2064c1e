import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import type { CardUnitService } from "../core/ports/card-unit.js"
import { crt591Rig, type RigOptions, type Wiring } from "./testing/fixtures.js"
import { availableWirings } from "./testing/socat.js"

/**
 * The CRT-591 driver against the emulator, in process over `@serialport/binding-mock` and through a
 * real socat pty pair: every port operation, and every fault the emulator can stage, reaches the
 * caller as the right typed outcome.
 */

const KEY = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
const block = (seed: number) => Uint8Array.from({ length: 16 }, (_, i) => (seed + i * 7) & 0xff)

const failureTag = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>) =>
  Effect.map(Effect.exit(effect), (exit) => (Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : Exit.isSuccess(exit) ? "success" : "defect"))

const wirings: ReadonlyArray<Wiring> = availableWirings

const dispenseAndAuth = (unit: CardUnitService) =>
  Effect.gen(function* () {
    yield* unit.dispenseToRf
    const card = yield* unit.activate
    yield* unit.authenticate(1, "A", KEY)
    return card
  })

describe.each(wirings)("CRT-591 driver against the emulator (%s)", (wiring) => {
  const crt591Rig_ = (options: RigOptions = {}) => crt591Rig({ wiring, ...options })
  const withRig = (options: RigOptions = {}) => Effect.tap(crt591Rig_(options), ({ unit }) => unit.initialise("capture"))

  it.scopedLive("runs the whole card cycle: init, dispense, RF read/write, present, taken, capture", () =>
    Effect.gen(function* () {
      const { unit, emulator } = yield* crt591Rig_()
      expect((yield* unit.initialise("hold")).firmware).toBe("CRT-591-EMU V1.00")
      expect(yield* unit.status).toEqual({ position: "none", stacker: "ok", binFull: false })
      // The unit senses a level, it cannot count: the driver says so rather than guess.
      expect(yield* unit.stackerCount).toBeNull()
      yield* unit.dispenseToRf
      expect((yield* unit.status).position).toBe("rf")
      const card = yield* unit.activate
      expect(card.uid).toMatch(/^04[0-9A-F]{6}$/)
      expect(card).toMatchObject({ protocol: "M", atqa: 0x0004, sak: 0x08 })
      yield* unit.authenticate(1, "A", KEY)
      yield* unit.writeBlock(1, 2, block(3))
      expect(Array.from(yield* unit.readBlock(1, 2))).toEqual(Array.from(block(3)))
      yield* unit.presentAtGate
      expect((yield* unit.status).position).toBe("gate")
      yield* unit.awaitTaken(1000)
      expect((yield* unit.status).position).toBe("none")
      expect(emulator.taken.at(-1)?.uidHex).toBe(card.uid)
      expect(emulator.device.stackerCards).toBe(49)

      yield* dispenseAndAuth(unit)
      yield* unit.capture
      expect(yield* unit.binCount).toBe(1)
      expect((yield* unit.status).position).toBe("none")
    })
  )

  it.scopedLive("takes back a returned card through front entry and reads what was written on it", () =>
    Effect.gen(function* () {
      const { unit, emulator } = yield* withRig()
      const card = yield* dispenseAndAuth(unit)
      yield* unit.writeBlock(1, 0, block(9))
      yield* unit.presentAtGate
      yield* unit.awaitTaken(1000)
      expect(yield* unit.awaitInserted(30)).toBe(false)
      yield* unit.setFrontEntry(true)
      expect(emulator.insertCard()).toBe(true)
      expect(yield* unit.awaitInserted(1000)).toBe(true)
      const back = yield* unit.activate
      expect(back.uid).toBe(card.uid)
      yield* unit.authenticate(1, "A", KEY)
      expect(Array.from(yield* unit.readBlock(1, 0))).toEqual(Array.from(block(9)))
      yield* unit.setFrontEntry(false)
      yield* unit.capture
    })
  )

  it.scopedLive("reports mechanical faults as typed errors", () =>
    Effect.gen(function* () {
      const fresh = yield* crt591Rig_()
      expect(yield* failureTag(fresh.unit.dispenseToRf)).toBe("NotInitialised")

      const { unit, emulator } = yield* withRig()
      emulator.arm("jam")
      expect(yield* failureTag(unit.dispenseToRf)).toBe("Jam")
      expect(yield* failureTag(unit.presentAtGate)).toBe("Jam")
      yield* unit.initialise("capture")
      yield* unit.dispenseToRf

      emulator.arm("sensor")
      expect(yield* failureTag(unit.status)).toBe("SensorFault")

      emulator.arm("bin-full")
      expect(yield* failureTag(unit.capture)).toBe("BinFull")
      expect(yield* unit.status).toMatchObject({ binFull: true, position: "rf" })
      emulator.device.binCards = 0
      yield* unit.capture

      emulator.device.stackerCards = 3
      expect((yield* unit.status).stacker).toBe("low")
      emulator.arm("stacker-empty")
      expect(yield* failureTag(unit.dispenseToRf)).toBe("StackerEmpty")
      expect((yield* unit.status).stacker).toBe("empty")
    })
  )

  it.scopedLive("reports a card left at the gate, then captures it", () =>
    Effect.gen(function* () {
      const { unit, emulator } = yield* withRig()
      emulator.arm("card-left")
      yield* unit.dispenseToRf
      yield* unit.presentAtGate
      const exit = yield* Effect.exit(unit.awaitTaken(80))
      expect(exit).toMatchObject({ _tag: "Failure", cause: { error: { _tag: "CardNotTaken", waitedMs: 80 } } })
      yield* unit.capture
      expect(yield* unit.binCount).toBe(1)
    })
  )

  it.scopedLive("maps RF card errors, and refuses bad addresses before the wire", () =>
    Effect.gen(function* () {
      const { unit, crt } = yield* withRig()
      expect(yield* failureTag(unit.activate)).toBe("RfFailure")
      yield* unit.dispenseToRf
      yield* unit.activate
      const exchanges = crt.stats().exchanges
      expect(yield* Effect.flip(unit.readBlock(16, 0))).toMatchObject({ reason: "address" })
      expect(yield* Effect.flip(unit.writeBlock(1, 0, new Uint8Array(15)))).toMatchObject({ reason: "length" })
      expect(yield* Effect.flip(unit.authenticate(1, "A", new Uint8Array(5)))).toMatchObject({ reason: "length" })
      expect(crt.stats().exchanges).toBe(exchanges)
      expect(yield* Effect.flip(unit.readBlock(1, 0))).toMatchObject({ _tag: "RfFailure", reason: "auth" })
      expect(yield* Effect.flip(unit.authenticate(1, "B", Uint8Array.of(1, 2, 3, 4, 5, 6)))).toMatchObject({ reason: "auth" })
      yield* unit.authenticate(0, "B", KEY)
      expect(yield* Effect.flip(unit.writeBlock(0, 0, new Uint8Array(16)))).toMatchObject({ reason: "auth" })
      expect(Array.from((yield* unit.readBlock(0, 3)).subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 0])
    })
  )

  it.scopedLive("recovers from every line fault the emulator stages", () =>
    Effect.gen(function* () {
      const { unit, crt, emulator } = yield* withRig()
      for (const kind of ["nak", "no-ack", "bad-bcc", "drop-byte", "corrupt-byte"] as const) {
        const before = { ...crt.stats() }
        emulator.arm(kind)
        expect(yield* unit.status, kind).toEqual({ position: "none", stacker: "ok", binFull: false })
        const after = crt.stats()
        const recovered = after.retransmits - before.retransmits + (after.naksSent - before.naksSent) + (after.repliesWithoutAck - before.repliesWithoutAck)
        expect(recovered, kind).toBeGreaterThan(0)
      }
      expect(emulator.stats.resends).toBeGreaterThanOrEqual(3)
    })
  )

  it.scopedLive("does not dispense twice when its ACK is lost during a slow move", () =>
    Effect.gen(function* () {
      const { unit, crt, emulator } = yield* withRig({ emulator: { device: { moveMs: 250 } } })
      emulator.arm("no-ack")
      yield* unit.dispenseToRf
      expect(crt.stats().retransmits).toBeGreaterThanOrEqual(1)
      expect(emulator.device.stackerCards).toBe(49)
    })
  )

  it.scopedLive("fails with LinkNak after bounded retransmissions, and LinkTimeout on silence", () =>
    Effect.gen(function* () {
      const { unit, emulator } = yield* withRig()
      emulator.arm("nak", 4)
      expect(yield* Effect.flip(unit.status)).toMatchObject({ _tag: "LinkNak", attempts: 4 })

      emulator.arm("no-reply")
      expect(yield* Effect.flip(unit.status)).toMatchObject({ _tag: "LinkTimeout", waitingFor: "the reply" })
      expect((yield* unit.status).position).toBe("none")

      emulator.close()
      expect(yield* Effect.flip(unit.status)).toMatchObject({ _tag: "LinkTimeout", waitingFor: "ACK after 4 sends" })
    })
  )

  it.scopedLive("works with the emulator pacing bytes at 9600 baud", () =>
    Effect.gen(function* () {
      const { unit } = yield* withRig({ emulator: { wireTiming: true } })
      const started = performance.now()
      yield* unit.status
      // 9 command bytes in, 1 ACK + 12 reply bytes out: about 23 ms of wire at 9600 8N1.
      expect(performance.now() - started).toBeGreaterThan(20)
    })
  )
})
