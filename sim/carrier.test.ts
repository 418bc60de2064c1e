import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { PhoneNumber } from "../core/domain/ids.js"
import { CarrierBilling, type CarrierCharge } from "../core/ports/carrier-billing.js"
import { SimCarrierControl, type SimCarrierConfig, SimCarrierLive } from "./carrier.js"
import { always, at } from "./faults.js"

const phone = PhoneNumber.make("+821099998888")
const charge = (correlator: string, amount = 5_000): CarrierCharge => ({
  correlator,
  phone,
  amount,
  description: "card deposit"
})

const withCarrier = <A, E>(body: Effect.Effect<A, E, CarrierBilling | SimCarrierControl>, config: SimCarrierConfig = {}) =>
  body.pipe(Effect.provide(SimCarrierLive({ seed: 1, ...config })))

/** The error's tag and what it says, or "ok". */
const outcome = <A, R>(effect: Effect.Effect<A, { readonly _tag: string; readonly message: string }, R>) =>
  Effect.match(effect, { onFailure: (e) => `${e._tag}: ${e.message}`, onSuccess: () => "ok" })

describe("sim carrier billing", () => {
  it.effect("prepare, confirm, refund; every call idempotent by correlator", () =>
    withCarrier(Effect.gen(function*() {
      const carrier = yield* CarrierBilling
      const control = yield* SimCarrierControl
      const first = yield* carrier.prepare(charge("card:04AA:deposit"))
      expect(yield* carrier.prepare(charge("card:04AA:deposit"))).toEqual(first)
      yield* carrier.confirm("card:04AA:deposit")
      yield* carrier.confirm("card:04AA:deposit")
      yield* carrier.refund("card:04AA:deposit", 2_000)
      yield* carrier.refund("card:04AA:deposit", 2_000)
      expect(yield* control.totals).toEqual({
        prepared: 1,
        confirmed: 1,
        cancelled: 0,
        refunds: 1,
        confirmedAmount: 5_000,
        refundedAmount: 2_000
      })
      expect(yield* outcome(carrier.refund("card:04AA:deposit", 3_000))).toContain("ServiceRejected: carrier billing rejected the request: the charge card:04AA:deposit was already refunded 2000")
      expect(yield* outcome(carrier.prepare(charge("card:04AA:deposit", 6_000)))).toContain("used for a different charge")
      expect(yield* outcome(carrier.cancel("card:04AA:deposit"))).toContain("refund it instead")
    })))

  it.effect("cancel releases the limit; a cancel before its prepare bars the correlator", () =>
    withCarrier(Effect.gen(function*() {
      const carrier = yield* CarrierBilling
      yield* carrier.prepare(charge("a", 8_000))
      expect(yield* outcome(carrier.prepare(charge("b", 3_000)))).toContain("monthly limit of 10000")
      yield* carrier.cancel("a")
      yield* carrier.cancel("a")
      expect(yield* outcome(carrier.confirm("a"))).toContain("was cancelled")
      yield* carrier.prepare(charge("b", 3_000))
      yield* carrier.cancel("c")
      expect(yield* outcome(carrier.prepare(charge("c")))).toContain("cancelled before it was prepared")
      expect(yield* outcome(carrier.confirm("nothing"))).toContain("no charge is prepared under nothing")
    }), { monthlyLimit: 10_000 }))

  it.effect("limits are per calendar month and per subscriber", () =>
    withCarrier(Effect.gen(function*() {
      const carrier = yield* CarrierBilling
      const control = yield* SimCarrierControl
      yield* control.setSubscriber(phone, { monthlyLimit: 5_000 })
      yield* carrier.prepare(charge("jan"))
      expect(yield* outcome(carrier.prepare(charge("jan-2")))).toContain("monthly limit of 5000")
      yield* TestClock.adjust("31 days")
      yield* carrier.prepare(charge("feb"))
      yield* control.setSubscriber(phone, { blocked: true })
      expect(yield* outcome(carrier.prepare(charge("feb-2")))).toContain("blocked carrier billing")
    })))

  it.effect("carrier.outage: ServiceUnavailable and nothing happens", () =>
    withCarrier(Effect.gen(function*() {
      const carrier = yield* CarrierBilling
      const control = yield* SimCarrierControl
      expect(yield* outcome(carrier.prepare(charge("x")))).toMatch(/^ServiceUnavailable: .*retried/)
      expect(yield* control.charges).toEqual([])
    }), { faults: { "carrier.outage": always } }))

  it.effect("carrier.decline: ServiceRejected", () =>
    withCarrier(Effect.gen(function*() {
      const carrier = yield* CarrierBilling
      expect(yield* outcome(carrier.prepare(charge("x")))).toContain("ServiceRejected: carrier billing rejected the request: declined")
    }), { faults: { "carrier.decline": always } }))

  it.effect("carrier.lostAnswer: ServiceUnavailable, but the carrier acted; the retry is answered the same", () =>
    withCarrier(Effect.gen(function*() {
      const carrier = yield* CarrierBilling
      const control = yield* SimCarrierControl
      expect(yield* outcome(carrier.prepare(charge("x")))).toMatch(/^ServiceUnavailable/)
      expect((yield* control.charge("x"))?.state).toBe("prepared")
      expect(yield* carrier.prepare(charge("x"))).toEqual({ authorisation: "auth_1" })
      expect(yield* control.faultsFired).toEqual({ "carrier.lostAnswer": 1 })
    }), { faults: { "carrier.lostAnswer": at(1) } }))
})
