import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Schedule, type Scope } from "effect"
import { codeSentFor, deployment, kioskBackendOver, liveServer, setUpDeployment } from "../adapters/server/testing.js"
import { sqljsTestLayer } from "../adapters/store/testing.js"
import { KioskBackendLocal } from "../core/kiosk-backend-local.js"
import { KioskBackend, type KioskBackendService } from "../core/ports/kiosk-backend.js"
import { CoreServicesLive } from "../core/services.js"
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

// --- the same flow against the in-process backend and against a live server over HTTP -----------

/** A real backend that records its calls as the stub does, so the call lists compare. */
const recording = (service: KioskBackendService) => {
  const calls: Array<string> = []
  const record = <A, E>(effect: Effect.Effect<A, E>, call: string) => Effect.tap(effect, () => void calls.push(call))
  const wrapped: KioskBackendService = {
    ...service,
    place: (request) => record(service.place(request), `place ${request.medium}`),
    beginDispense: (orderId, cardUid) => record(service.beginDispense(orderId, cardUid), `beginDispense ${cardUid}`),
    deliver: (request) => record(service.deliver(request), `deliver ${request.medium._tag}`),
    abort: (request) => record(service.abort(request), `abort ${request.reason}`),
    returnCard: (cardUid) => record(service.returnCard(cardUid), `returnCard ${cardUid}`)
  }
  return { calls, layer: Layer.succeed(KioskBackend, wrapped) }
}

/** What the script left on the server: orders, coupons, cards and balances by account kind, ids taken out. */
const serverEffects = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return {
    orders: yield* sql`SELECT state, medium, amount, abort_reason FROM orders ORDER BY placed_at_ms, id`,
    coupons: yield* sql`SELECT state, medium, value_points FROM coupons ORDER BY issued_at_ms, id`,
    cards: yield* sql`SELECT state, charge_state FROM cards ORDER BY dispensed_at_ms, uid`,
    balances: yield* sql`SELECT kind, SUM(credits_posted - debits_posted) AS posted, SUM(credits_pending - debits_pending) AS pending FROM ledger_accounts GROUP BY kind ORDER BY kind`,
    kiosk: yield* sql`SELECT stacker_cards, bin_cards FROM kiosks WHERE id = ${deployment.kiosk1}`
  }
})

/** The script on sim hardware over `service`, with a customer it registers through that same backend. */
const onSimOver = (service: KioskBackendService, codeFor: (challengeId: string) => Effect.Effect<string>) =>
  Effect.gen(function* () {
    const sent = yield* service.requestCode("+821055599999")
    const session = yield* service.verifyCode(sent.challengeId, yield* codeFor(sent.challengeId))
    const catalog = yield* service.catalog
    const backend = recording(service)
    const ctx = yield* Layer.build(Layer.mergeAll(SimCardUnitLive({ timing: instantCardUnitTiming, takeAfterMs: 20 }), SimPrinterLive({ printMsPerMm: 0 })))
    const control = Context.get(ctx, SimCardUnitControl)
    const hand: Hand = {
      willTake: (take) => control.planHandOver(take ? { _tag: "Take", afterMs: 20 } : { _tag: "Leave" }),
      returnLastCard: Effect.flatMap(control.drainTaken, (taken) => {
        const card = taken.at(-1)
        return card === undefined ? Effect.void : control.insertAtGate(card)
      })
    }
    const result = yield* runCardFlowScript(Layer.succeedContext(ctx), hand, settings, { ...backend, purchase: { session, offerId: deployment.offer, catalogVersion: catalog.version } })
    // Coupon codes are random per store; the rest must match.
    return { ...result, outcomes: result.outcomes.map((outcome) => outcome.replace(/[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/, "CODE")) }
  }).pipe(Effect.orDie)

const inProcess = Effect.gen(function* () {
  const ctx = yield* Layer.build(CoreServicesLive.pipe(Layer.provideMerge(sqljsTestLayer)))
  yield* setUpDeployment.pipe(Effect.provide(ctx))
  const service = yield* KioskBackendLocal.make(deployment.kiosk1).pipe(Effect.provide(ctx))
  const result = yield* onSimOver(service, (challengeId) => codeSentFor(challengeId).pipe(Effect.provide(ctx)))
  return { result, effects: yield* serverEffects.pipe(Effect.provide(ctx)) }
})

const overHttp = Effect.gen(function* () {
  const server = yield* liveServer(sqljsTestLayer)
  const service = yield* kioskBackendOver(server.baseUrl, yield* server.issue("kiosk", deployment.kiosk1))
  const result = yield* onSimOver(service, (challengeId) => codeSentFor(challengeId).pipe(Effect.provide(server.context)))
  return { result, effects: yield* serverEffects.pipe(Effect.provide(server.context)) }
})

describe("the core kiosk flow on sim hardware, in-process and over HTTP", () => {
  it.scopedLive("gives the same outcomes, makes the same calls and leaves the same effects on the server", () =>
    Effect.gen(function* () {
      const local = yield* inProcess
      const remote = yield* overHttp
      expect(remote.result).toEqual(local.result)
      expect(remote.effects).toEqual(local.effects)
      // The script ran as on the stub: the same calls, and outcomes of the same kinds.
      expect(local.result.backendCalls).toEqual(expectedBackendCalls)
      expect(local.result.outcomes.map((outcome) => outcome.split(" ")[0])).toEqual(expectedScriptOutcomes.map((outcome) => outcome.split(" ")[0]))
      expect(local.effects.orders.length).toBe(3)
    }), 60_000)
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
