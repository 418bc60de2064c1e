import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { dataBlocks, decodeCard } from "../core/card-format.js"
import { CardUnit } from "../core/ports/card-unit.js"
import { CouponPrinter } from "../core/ports/coupon-printer.js"
import type { MifareCard } from "./mifare-card.js"
import { expectedBackendCalls, expectedScriptOutcomes, runCardFlowScript, type Hand } from "./testing/card-flow-script.js"
import { crt591Rig, escposRig, type Wiring } from "./testing/fixtures.js"
import { availableWirings } from "./testing/socat.js"

/**
 * The core kiosk flow (core/kiosk-flow.ts) running on the serial layers: the CRT-591 driver and the
 * ESC/POS driver, each talking to its emulator. Sell on a card (taken), sell on a card (left at the
 * gate, captured), take a card back, find no card, sell on paper. The same script runs on the sim
 * layer (from scenarios/, which may import both); the expected outcomes are what both must give.
 */

const wirings: ReadonlyArray<Wiring> = availableWirings

describe.each(wirings)("core kiosk flow on the serial layers (%s)", (wiring) => {
  it.scopedLive("sells, captures, takes back and prints exactly as the flow intends", () =>
    Effect.gen(function* () {
      const crt = yield* crt591Rig({ wiring, emulator: { userTakesAfterMs: 20 } })
      const prn = yield* escposRig({ wiring })
      const returned: Array<MifareCard> = []
      const hand: Hand = {
        willTake: (take) => Effect.sync(() => (take ? crt.emulator.disarm("card-left") : crt.emulator.arm("card-left"))),
        // The customer at the gate: pushes their card in once the unit opens front entry.
        returnLastCard: Effect.sync(() => {
          const d = crt.emulator.device
          if (!d.frontEntry || d.position !== "none") return false
          const card = crt.emulator.taken.at(-1)
          if (card) returned.push(card)
          return crt.emulator.insertCard()
        }).pipe(
          Effect.repeat({ schedule: Schedule.spaced(5), until: (inserted) => inserted, times: 1000 }),
          Effect.forkDaemon,
          Effect.asVoid
        )
      }
      const hardware = Layer.mergeAll(Layer.succeed(CardUnit, crt.unit), Layer.succeed(CouponPrinter, prn.printer))
      const result = yield* runCardFlowScript(hardware, hand, { cardTakeTimeoutMs: 300, insertWaitMs: 3000 })

      expect(result.startedUp).toBe(true)
      expect(result.outcomes).toEqual(expectedScriptOutcomes)
      expect(result.backendCalls).toEqual(expectedBackendCalls)
      // What the customer carried away really held the coupon, in the card format core wrote.
      const card = returned[0]
      if (card === undefined) throw new Error("no card was returned")
      expect(decodeCard(dataBlocks.map(({ sector, block }) => card.read(sector, block)))).toEqual([
        { code: "7K3M-Q9RT-0001", valuePoints: 4500, expiresAtMs: 0 }
      ])
      expect(crt.emulator.device.binCards).toBe(2)
      expect(crt.emulator.device.stackerCards).toBe(48)
      expect(crt.emulator.device.position).toBe("none")
      expect(prn.emulator.pages.map((p) => p.qr)).toEqual([["7K3M-Q9RT-0003"]])
    })
  )

  it.scopedLive("starts cleanly on a unit that refuses everything but Init after power-on, and sells on it", () =>
    Effect.gen(function* () {
      const crt = yield* crt591Rig({ wiring, emulator: { userTakesAfterMs: 20, device: { refusesBeforeInit: true } } })
      const prn = yield* escposRig({ wiring })
      // What the flow would meet if it asked before Init.
      expect((yield* Effect.flip(crt.unit.status))._tag).toBe("NotInitialised")
      const hardware = Layer.mergeAll(Layer.succeed(CardUnit, crt.unit), Layer.succeed(CouponPrinter, prn.printer))
      const hand: Hand = { willTake: () => Effect.void, returnLastCard: Effect.void }
      const result = yield* runCardFlowScript(hardware, hand, { cardTakeTimeoutMs: 300, insertWaitMs: 50 })
      expect(result.startedUp).toBe(true)
      expect(result.outcomes[0]).toBe(expectedScriptOutcomes[0])
      expect(crt.emulator.device.initialised).toBe(true)
    })
  )

  it.scopedLive("aborts with the device's typed error when the stacker is empty", () =>
    Effect.gen(function* () {
      const crt = yield* crt591Rig({ wiring, emulator: { faults: [{ kind: "stacker-empty", at: 1 }] } })
      const prn = yield* escposRig({ wiring })
      const hardware = Layer.mergeAll(Layer.succeed(CardUnit, crt.unit), Layer.succeed(CouponPrinter, prn.printer))
      const hand: Hand = { willTake: () => Effect.void, returnLastCard: Effect.void }
      const result = yield* runCardFlowScript(hardware, hand, { cardTakeTimeoutMs: 300, insertWaitMs: 50 })
      expect(result.outcomes.slice(0, 2)).toEqual(["DeviceFailed StackerEmpty", "DeviceFailed StackerEmpty"])
      expect(result.backendCalls).toContain("abort device: StackerEmpty")
    })
  )
})
