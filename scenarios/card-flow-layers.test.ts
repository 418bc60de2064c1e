import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Schedule, type Scope } from "effect"
import { CardUnit } from "../core/ports/card-unit.js"
import { CouponPrinter } from "../core/ports/coupon-printer.js"
import { expectedBackendCalls, expectedScriptOutcomes, runCardFlowScript, type Hand, type ScriptResult } from "../hil/testing/card-flow-script.js"
import { crt591Rig, escposRig } from "../hil/testing/fixtures.js"
import { instantCardUnitTiming, SimCardUnitLive } from "../sim/card-unit.js"
import { SimCardUnitControl } from "../sim/card-unit-control.js"
import { SimPrinterLive } from "../sim/printer.js"

/**
 * DESIGN §3's promise: the same core kiosk flow gives the same outcome on the sim layer and on the
 * serial layer (the CRT-591 and ESC/POS drivers talking to their wire emulators). One script (sell on
 * a card that is taken, sell on a card left at the gate and captured, take a card back, find no card,
 * sell on paper) runs on both; outcomes and the calls made to the server must match each other.
 */
const settings = { cardTakeTimeoutMs: 300, insertWaitMs: 3000 }

const onSim: Effect.Effect<ScriptResult, never, Scope.Scope> = Effect.gen(function* () {
  const ctx = yield* Layer.build(Layer.mergeAll(SimCardUnitLive({ timing: instantCardUnitTiming, takeAfterMs: 20 }), SimPrinterLive({ printMsPerMm: 0 })))
  const control = Context.get(ctx, SimCardUnitControl)
  const hand: Hand = {
    willTake: (take) => control.planHandOver(take ? { _tag: "Take", afterMs: 20 } : { _tag: "Leave" }),
    returnLastCard: Effect.flatMap(control.drainTaken, (taken) => {
      const card = taken.at(-1)
      return card === undefined ? Effect.void : control.insertAtGate(card)
    })
  }
  return yield* runCardFlowScript(Layer.succeedContext(ctx), hand, settings)
})

const onSerial = Effect.gen(function* () {
  const crt = yield* crt591Rig({ wiring: "mock", emulator: { userTakesAfterMs: 20 } })
  const prn = yield* escposRig({ wiring: "mock" })
  const hand: Hand = {
    willTake: (take) => Effect.sync(() => (take ? crt.emulator.disarm("card-left") : crt.emulator.arm("card-left"))),
    // The customer pushes their card in once the unit opens front entry.
    returnLastCard: Effect.sync(() => {
      const device = crt.emulator.device
      return device.frontEntry && device.position === "none" ? crt.emulator.insertCard() : false
    }).pipe(Effect.repeat({ schedule: Schedule.spaced(5), until: (inserted) => inserted, times: 1000 }), Effect.forkDaemon, Effect.asVoid)
  }
  const hardware = Layer.mergeAll(Layer.succeed(CardUnit, crt.unit), Layer.succeed(CouponPrinter, prn.printer))
  return yield* runCardFlowScript(hardware, hand, settings)
})

describe("the core kiosk flow on the sim layer and on the serial layer", () => {
  it.scopedLive("gives the same outcomes and makes the same server calls", () =>
    Effect.gen(function* () {
      const sim = yield* onSim
      const serial = yield* onSerial
      expect(sim.outcomes).toEqual(serial.outcomes)
      expect(sim.backendCalls).toEqual(serial.backendCalls)
      expect(sim.outcomes).toEqual(expectedScriptOutcomes)
      expect(sim.backendCalls).toEqual(expectedBackendCalls)
      expect([sim.startedUp, serial.startedUp]).toEqual([true, true])
    })
  )
})
