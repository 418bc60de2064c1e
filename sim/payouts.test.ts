import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { MerchantId, SettlementId } from "../core/domain/ids.js"
import { type Payout, PayoutGateway } from "../core/ports/payout-gateway.js"
import { always, at } from "./faults.js"
import { type SimPayoutsConfig, SimPayoutsControl, SimPayoutsLive } from "./payouts.js"

const merchantId = MerchantId.make("mer_cafe")
const payout = (reference: string, amount = 12_000): Payout => ({
  settlementId: SettlementId.make("stl_2025_01_01"),
  merchantId,
  amount,
  reference
})

const withPayouts = <A, E>(body: Effect.Effect<A, E, PayoutGateway | SimPayoutsControl>, config: SimPayoutsConfig = {}) =>
  body.pipe(Effect.provide(SimPayoutsLive({ seed: 1, ...config })))

const outcome = <A, R>(effect: Effect.Effect<A, { readonly _tag: string; readonly message: string }, R>) =>
  Effect.match(effect, { onFailure: (e) => `${e._tag}: ${e.message}`, onSuccess: () => "ok" })

describe("sim payouts", () => {
  it.effect("instant: paid at once; a resend pays nothing more; another payout under the reference is refused", () =>
    withPayouts(Effect.gen(function*() {
      const payouts = yield* PayoutGateway
      const control = yield* SimPayoutsControl
      const first = yield* payouts.pay(payout("stl_1:mer_cafe"))
      expect(yield* payouts.pay(payout("stl_1:mer_cafe"))).toEqual(first)
      expect(yield* control.paidTo(merchantId)).toBe(12_000)
      expect(yield* outcome(payouts.pay(payout("stl_1:mer_cafe", 1)))).toContain("was used for another payout")
      expect((yield* control.payouts).map((p) => p.resends)).toEqual([1])
    })))

  it.effect("delayed: the money arrives settleAfterMs later", () =>
    withPayouts(Effect.gen(function*() {
      const payouts = yield* PayoutGateway
      const control = yield* SimPayoutsControl
      yield* payouts.pay(payout("r1"))
      expect(yield* control.paidTo(merchantId)).toBe(0)
      yield* TestClock.adjust("1 day")
      expect(yield* control.paidTo(merchantId)).toBe(12_000)
    }), { settleAfterMs: 86_400_000 }))

  it.effect("payout.outage: ServiceUnavailable; payout.reject: ServiceRejected", () =>
    Effect.gen(function*() {
      yield* withPayouts(
        Effect.flatMap(PayoutGateway, (p) => outcome(p.pay(payout("r1")))).pipe(Effect.map((o) => expect(o).toMatch(/^ServiceUnavailable/))),
        { faults: { "payout.outage": always } }
      )
      yield* withPayouts(
        Effect.flatMap(PayoutGateway, (p) => outcome(p.pay(payout("r1")))).pipe(Effect.map((o) => expect(o).toMatch(/^ServiceRejected/))),
        { faults: { "payout.reject": always } }
      )
    }))

  it.effect("payout.lostAnswer: ServiceUnavailable after paying; the resend gets the reference and pays once", () =>
    withPayouts(Effect.gen(function*() {
      const payouts = yield* PayoutGateway
      const control = yield* SimPayoutsControl
      expect(yield* outcome(payouts.pay(payout("r1")))).toMatch(/^ServiceUnavailable/)
      expect(yield* payouts.pay(payout("r1"))).toEqual({ payoutRef: "pay_1" })
      expect(yield* control.paidTo(merchantId)).toBe(12_000)
    }), { faults: { "payout.lostAnswer": at(1) } }))
})
