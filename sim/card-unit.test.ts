import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Random, TestClock } from "effect"
import { CardUnit } from "../core/ports/card-unit.js"
import { SimCardUnitControl } from "./card-unit-control.js"
import { instantCardUnitTiming, makeSimCardUnit, type SimCardUnitConfig, SimCardUnitLive } from "./card-unit.js"
import { always, at, never } from "./faults.js"
import { advancing } from "./testing.js"

const transportKey = new Uint8Array(6).fill(0xff)
const block = (fill: number) => new Uint8Array(16).fill(fill)

/** Runs `body` against a fresh unit, initialised unless the config says otherwise, on advancing virtual time. */
const withUnit = <A, E>(
  body: Effect.Effect<A, E, CardUnit | SimCardUnitControl>,
  config: SimCardUnitConfig = {}
) => advancing(body).pipe(Effect.provide(SimCardUnitLive({ initialised: true, seed: 1, ...config })))

const tagOf = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(effect), (e) => e._tag)

describe("sim card unit: happy paths", () => {
  it.effect("dispense, activate, authenticate, write, read, present, taken", () =>
    withUnit(Effect.gen(function*() {
      const unit = yield* CardUnit
      const control = yield* SimCardUnitControl
      yield* unit.dispenseToRf
      expect((yield* unit.status).position).toBe("rf")
      const card = yield* unit.activate
      expect(card.uid).toMatch(/^04[0-9A-F]{12}$/)
      expect([card.protocol, card.atqa, card.sak]).toEqual(["M", 0x0044, 0x08])
      yield* unit.authenticate(1, "A", transportKey)
      yield* unit.writeBlock(1, 2, block(0xab))
      expect(yield* unit.readBlock(1, 2)).toEqual(block(0xab))
      yield* unit.presentAtGate
      expect((yield* unit.status).position).toBe("gate")
      yield* unit.awaitTaken(30_000)
      expect((yield* unit.status).position).toBe("none")
      const taken = yield* control.drainTaken
      expect(taken.map((c) => c.uid)).toEqual([card.uid])
      const after = yield* control.snapshot
      expect([after.stackerCards, after.dispensed, after.taken, after.binCards]).toEqual([99, 1, 1, 0])
    })))

  it.effect("each move takes its mechanical time on the clock", () =>
    Effect.gen(function*() {
      const { port } = yield* makeSimCardUnit({ initialised: true, seed: 1, timing: { dispenseMs: 1200 } })
      const fiber = yield* Effect.fork(port.dispenseToRf)
      yield* TestClock.adjust(1199)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      yield* Fiber.join(fiber)
      expect((yield* port.status).position).toBe("rf")
    }))

  it.effect("a card not taken fails CardNotTaken, then capture puts it in the bin", () =>
    withUnit(Effect.gen(function*() {
      const unit = yield* CardUnit
      const control = yield* SimCardUnitControl
      yield* control.planHandOver({ _tag: "Leave" })
      yield* unit.dispenseToRf
      yield* unit.presentAtGate
      const error = yield* Effect.flip(unit.awaitTaken(30_000))
      expect(error._tag).toBe("CardNotTaken")
      expect(error._tag === "CardNotTaken" && error.waitedMs).toBe(30_000)
      yield* unit.capture
      expect(yield* unit.binCount).toBe(1)
      expect((yield* unit.status).position).toBe("none")
      const bin = yield* control.emptyBin
      expect(bin).toHaveLength(1)
      expect(yield* unit.binCount).toBe(0)
    })))

  it.effect("a manual customer takes the card while the unit waits", () =>
    withUnit(
      Effect.gen(function*() {
        const unit = yield* CardUnit
        const control = yield* SimCardUnitControl
        yield* unit.presentAtGate
        const waiting = yield* Effect.fork(unit.awaitTaken(30_000))
        yield* Effect.sleep(5_000)
        const card = yield* control.takeFromGate
        expect(card).toBeDefined()
        yield* Fiber.join(waiting)
      }),
      { takeAfterMs: "manual" }
    ))

  it.effect("front entry: an inserted card reaches the RF position with its memory intact", () =>
    withUnit(Effect.gen(function*() {
      const unit = yield* CardUnit
      const control = yield* SimCardUnitControl
      yield* unit.dispenseToRf
      const { uid } = yield* unit.activate
      yield* unit.authenticate(3, "A", transportKey)
      yield* unit.writeBlock(3, 1, block(0x42))
      yield* unit.presentAtGate
      yield* unit.awaitTaken(30_000)
      const [card] = yield* control.drainTaken
      if (card === undefined) return expect.fail("the customer took no card")

      yield* unit.setFrontEntry(true)
      expect(yield* unit.awaitInserted(10_000)).toBe(false)
      const waiting = yield* Effect.fork(unit.awaitInserted(60_000))
      yield* Effect.sleep(20_000)
      yield* control.insertAtGate(card)
      expect(yield* Fiber.join(waiting)).toBe(true)
      expect((yield* unit.status).position).toBe("rf")
      expect((yield* unit.activate).uid).toBe(uid)
      yield* unit.authenticate(3, "A", transportKey)
      expect(yield* unit.readBlock(3, 1)).toEqual(block(0x42))
      yield* unit.capture
      expect((yield* control.snapshot).inserted).toBe(1)
    })))

  it.effect("a card offered before front entry waits at the slot and is drawn in once enabled", () =>
    withUnit(Effect.gen(function*() {
      const unit = yield* CardUnit
      const control = yield* SimCardUnitControl
      const card = yield* control.mintCard
      yield* control.insertAtGate(card)
      expect((yield* unit.status).position).toBe("none")
      yield* unit.setFrontEntry(true)
      expect(yield* unit.awaitInserted(1_000)).toBe(true)
      expect((yield* unit.activate).uid).toBe(card.uid)
    })))

  it.effect("a trailer write changes the sector's key; read-back hides key A", () =>
    withUnit(Effect.gen(function*() {
      const unit = yield* CardUnit
      yield* unit.dispenseToRf
      yield* unit.activate
      yield* unit.authenticate(2, "A", transportKey)
      const newKeyA = Uint8Array.from([1, 2, 3, 4, 5, 6])
      const trailer = Uint8Array.from([...newKeyA, 0xff, 0x07, 0x80, 0x69, ...transportKey])
      yield* unit.writeBlock(2, 3, trailer)
      expect(Array.from((yield* unit.readBlock(2, 3)).subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 0])
      expect(yield* tagOf(unit.authenticate(2, "A", transportKey))).toBe("RfFailure")
      yield* unit.authenticate(2, "A", newKeyA)
      yield* unit.authenticate(2, "B", transportKey)
    })))
})

describe("sim card unit: each fault is the port's typed error", () => {
  it.effect("commands before Init fail NotInitialised; status works", () =>
    withUnit(Effect.gen(function*() {
      const unit = yield* CardUnit
      expect(yield* tagOf(unit.dispenseToRf)).toBe("NotInitialised")
      expect((yield* unit.status).position).toBe("none")
      expect((yield* unit.initialise("capture")).firmware).toContain("CRT-591")
      yield* unit.dispenseToRf
    }), { initialised: false }))

  it.effect("card.jam: Jam, latched for moves until initialise, which captures the stuck card", () =>
    withUnit(
      Effect.gen(function*() {
        const unit = yield* CardUnit
        const control = yield* SimCardUnitControl
        // A jam while picking leaves the card in the stacker.
        const error = yield* Effect.flip(unit.dispenseToRf)
        expect(error._tag).toBe("Jam")
        expect(error.message).toContain("re-initialise")
        expect([(yield* control.snapshot).stackerCards, (yield* unit.status).position]).toEqual([100, "none"])
        yield* unit.initialise("capture")
        yield* unit.dispenseToRf
        yield* control.setFault("card.jam", always)
        expect(yield* tagOf(unit.presentAtGate)).toBe("Jam")
        yield* control.setFault("card.jam", never)
        expect(yield* tagOf(unit.capture)).toBe("Jam")
        expect(yield* tagOf(unit.setFrontEntry(true).pipe(Effect.zipRight(unit.awaitInserted(1_000))))).toBe("Jam")
        // Status and RF still answer; the card is stuck at the RF position.
        expect((yield* unit.status).position).toBe("rf")
        yield* unit.activate
        yield* unit.initialise("capture")
        expect(yield* unit.binCount).toBe(1)
        const snapshot = yield* control.snapshot
        expect([snapshot.jammed, snapshot.stackerCards, snapshot.faultsFired["card.jam"]]).toEqual([false, 99, 2])
        yield* unit.dispenseToRf
      }),
      { faults: { "card.jam": at(1) } }
    ))

  it.effect("empty stacker: StackerEmpty, and card.stackerEmpty with cards left", () =>
    Effect.gen(function*() {
      yield* withUnit(Effect.gen(function*() {
        const unit = yield* CardUnit
        const control = yield* SimCardUnitControl
        expect((yield* unit.status).stacker).toBe("low")
        yield* unit.dispenseToRf
        yield* unit.capture
        expect((yield* unit.status).stacker).toBe("empty")
        expect(yield* tagOf(unit.dispenseToRf)).toBe("StackerEmpty")
        expect(yield* tagOf(unit.presentAtGate)).toBe("StackerEmpty")
        expect(yield* control.loadStacker(500)).toBe(250)
        expect((yield* unit.status).stacker).toBe("ok")
      }), { stackerCards: 1, preEmptyAt: 5 })
      yield* withUnit(
        Effect.flatMap(CardUnit, (unit) => tagOf(unit.dispenseToRf)).pipe(Effect.map((tag) => expect(tag).toBe("StackerEmpty"))),
        { faults: { "card.stackerEmpty": always } }
      )
    }))

  it.effect("full bin: BinFull when at capacity, and card.binFull before it", () =>
    Effect.gen(function*() {
      yield* withUnit(Effect.gen(function*() {
        const unit = yield* CardUnit
        const control = yield* SimCardUnitControl
        yield* unit.dispenseToRf
        yield* unit.capture
        expect((yield* unit.status).binFull).toBe(true)
        yield* unit.dispenseToRf
        expect(yield* tagOf(unit.capture)).toBe("BinFull")
        expect((yield* unit.status).position).toBe("rf")
        yield* control.emptyBin
        yield* unit.capture
      }), { binCapacity: 1 })
      yield* withUnit(Effect.gen(function*() {
        const unit = yield* CardUnit
        yield* unit.dispenseToRf
        expect(yield* tagOf(unit.capture)).toBe("BinFull")
        expect(yield* unit.binCount).toBe(0)
      }), { faults: { "card.binFull": always } })
    }))

  it.effect("card.sensor: SensorFault on any command", () =>
    withUnit(Effect.gen(function*() {
      const unit = yield* CardUnit
      expect(yield* tagOf(unit.status)).toBe("SensorFault")
      expect(yield* tagOf(unit.dispenseToRf)).toBe("SensorFault")
    }), { faults: { "card.sensor": always } }))

  it.effect("card.notTaken: the customer leaves the card, CardNotTaken, capture", () =>
    withUnit(Effect.gen(function*() {
      const unit = yield* CardUnit
      yield* unit.presentAtGate
      expect(yield* tagOf(unit.awaitTaken(20_000))).toBe("CardNotTaken")
      yield* unit.capture
      expect(yield* unit.binCount).toBe(1)
    }), { faults: { "card.notTaken": always } }))

  it.effect("card.inserted: a stray card shows at the gate and the next dispense carries it in", () =>
    withUnit(Effect.gen(function*() {
      const unit = yield* CardUnit
      const control = yield* SimCardUnitControl
      expect((yield* unit.status).position).toBe("gate")
      yield* unit.dispenseToRf
      const snapshot = yield* control.snapshot
      expect([snapshot.position, snapshot.stackerCards, snapshot.dispensed]).toEqual(["rf", 100, 0])
      yield* unit.activate
    }), { faults: { "card.inserted": at(1) } }))

  it.effect("RF errors: no card, wrong key, unauthenticated sector, bad address and length, card.rf", () =>
    withUnit(Effect.gen(function*() {
      const unit = yield* CardUnit
      const control = yield* SimCardUnitControl
      const reason = <A, R>(effect: Effect.Effect<A, { readonly _tag: string; readonly reason?: string }, R>) =>
        Effect.map(Effect.flip(effect), (e) => `${e._tag}:${e.reason ?? ""}`)
      expect(yield* reason(unit.activate)).toBe("RfFailure:no-card")
      yield* unit.dispenseToRf
      expect(yield* reason(unit.readBlock(1, 0))).toBe("RfFailure:no-card")
      yield* unit.activate
      expect(yield* reason(unit.authenticate(1, "A", new Uint8Array(6)))).toBe("RfFailure:auth")
      expect(yield* reason(unit.readBlock(1, 0))).toBe("RfFailure:auth")
      expect(yield* reason(unit.authenticate(16, "A", transportKey))).toBe("RfFailure:address")
      expect(yield* reason(unit.authenticate(1, "A", new Uint8Array(5)))).toBe("RfFailure:length")
      yield* unit.authenticate(0, "A", transportKey)
      expect(yield* reason(unit.writeBlock(0, 0, block(1)))).toBe("RfFailure:address")
      expect(yield* reason(unit.writeBlock(0, 1, new Uint8Array(15)))).toBe("RfFailure:length")
      yield* control.setFault("card.rf", always)
      expect(yield* reason(unit.readBlock(0, 1))).toBe("RfFailure:transmission")
      yield* control.setFault("card.rf", never)
      expect(yield* reason(unit.readBlock(0, 1))).toBe("RfFailure:no-card")
    })))
})

describe("sim card unit: hardware behaviour worth knowing", () => {
  it.effect("capture with an empty transport is refused (error 02), as the hil emulator does", () =>
    withUnit(Effect.gen(function*() {
      const unit = yield* CardUnit
      const control = yield* SimCardUnitControl
      const error = yield* Effect.flip(unit.capture)
      expect(error._tag === "DeviceRefused" && error.code).toBe("02")
      const snapshot = yield* control.snapshot
      expect([snapshot.stackerCards, snapshot.binCards]).toEqual([100, 0])
    })))

  it.effect("presentAtGate with an empty transport dispenses straight to the gate", () =>
    withUnit(Effect.gen(function*() {
      const unit = yield* CardUnit
      yield* unit.presentAtGate
      expect((yield* unit.status).position).toBe("gate")
    }), { takeAfterMs: "manual" }))

  it.effect("mechanical times sum as expected for a whole hand-over", () =>
    Effect.gen(function*() {
      const { port } = yield* makeSimCardUnit({ initialised: true, seed: 1, takeAfterMs: 2_000 })
      const fiber = yield* Effect.fork(
        Effect.all([port.dispenseToRf, port.activate, port.presentAtGate, port.awaitTaken(30_000)])
      )
      // 1200 dispense + 20 activate + 600 present + 2000 for the customer.
      yield* TestClock.adjust(3_819)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      yield* Fiber.join(fiber)
    }))
})

/**
 * A clock whose sleeps wake a millisecond before it reads the delay as passed: what Node's timers do
 * now and then against Date.now() (they count on the event loop's cached monotonic time), so a unit on
 * real time (the http and serial scenario layers, the demo) meets it.
 */
const earlyWakingClock = (startMs: number): Clock.Clock => {
  let nowMs = startMs
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => nowMs,
    currentTimeMillis: Effect.sync(() => nowMs),
    unsafeCurrentTimeNanos: () => BigInt(nowMs) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(nowMs) * 1_000_000n),
    sleep: (duration) =>
      Effect.sync(() => {
        nowMs += Math.max(0, Duration.toMillis(duration) - 1)
      })
  }
}

describe("sim card unit: on a clock whose timers wake early", () => {
  it.effect("a card the customer takes after the wait is taken when awaitTaken returns, not left at the gate", () =>
    Effect.gen(function*() {
      const { control, port } = yield* makeSimCardUnit({ initialised: true, seed: 1, takeAfterMs: 20, timing: instantCardUnitTiming })
      yield* port.dispenseToRf
      const card = yield* port.activate
      yield* port.presentAtGate
      yield* port.awaitTaken(2_000)
      expect((yield* control.drainTaken).map((c) => c.uid)).toEqual([card.uid])
      const after = yield* control.snapshot
      expect([after.position, after.cardInTransport, after.taken]).toEqual(["none", undefined, 1])
    }).pipe(Effect.withClock(earlyWakingClock(1_736_154_623_642))))
})

describe("sim card unit: determinism", () => {
  const run = (seed: number) =>
    Effect.gen(function*() {
      const { control, port } = yield* makeSimCardUnit({
        initialised: true,
        timing: instantCardUnitTiming,
        faults: { "card.jam": { _tag: "Probability", p: 0.3 } }
      })
      const outcomes: Array<string> = []
      for (let i = 0; i < 30; i++) {
        const outcome = yield* Effect.either(Effect.zipRight(port.dispenseToRf, port.activate))
        outcomes.push(outcome._tag === "Right" ? outcome.right.uid : outcome.left._tag)
        yield* Effect.either(port.initialise("capture"))
        yield* control.emptyBin
      }
      return outcomes
    }).pipe(Effect.withRandom(Random.make(seed)))

  it.effect("one seed gives the same UIDs and faults; another seed does not", () =>
    Effect.gen(function*() {
      const first = yield* run(7)
      expect(yield* run(7)).toEqual(first)
      expect(first).toContain("Jam")
      expect(yield* run(8)).not.toEqual(first)
    }))
})
