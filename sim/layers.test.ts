import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Random } from "effect"
import { CouponCode, MerchantId, OfferId, OrderId, PhoneNumber, SettlementId } from "../core/domain/ids.js"
import { CardUnit } from "../core/ports/card-unit.js"
import { CarrierBilling } from "../core/ports/carrier-billing.js"
import { CouponPrinter } from "../core/ports/coupon-printer.js"
import { PayoutGateway } from "../core/ports/payout-gateway.js"
import { ProviderGateway } from "../core/ports/provider-gateway.js"
import { SmsGateway } from "../core/ports/sms-gateway.js"
import { instantCardUnitTiming } from "./card-unit.js"
import { faultKnobNames, parseFaults } from "./faults.js"
import { SimWorldLive, type SimWorldConfig } from "./layers.js"
import { advancing } from "./testing.js"

const merchantId = MerchantId.make("mer_cafe")
const phone = PhoneNumber.make("+821012345678")
const key = new Uint8Array(6).fill(0xff)

/** Every knob at 0.2: each call below meets faults now and then. */
const faults = Either.getOrThrow(parseFaults(faultKnobNames.map((knob) => `${knob}=0.2`).join(",")))

/** A scripted day through every port; the outcome of each call, as text. */
const script = Effect.gen(function*() {
  const card = yield* CardUnit
  const printer = yield* CouponPrinter
  const sms = yield* SmsGateway
  const carrier = yield* CarrierBilling
  const providers = yield* ProviderGateway
  const payouts = yield* PayoutGateway
  const log: Array<string> = []
  const note = <A, E extends { readonly _tag: string }>(name: string, effect: Effect.Effect<A, E>) =>
    Effect.match(effect, {
      onFailure: (e) => void log.push(`${name}:${e._tag}`),
      onSuccess: (a) => void log.push(`${name}:${typeof a === "object" && a !== null && "uid" in a ? a.uid : "ok"}`)
    })
  for (let i = 0; i < 25; i++) {
    yield* note("init", card.initialise("capture"))
    yield* note("dispense", card.dispenseToRf)
    yield* note("activate", card.activate)
    yield* note("auth", card.authenticate(1, "A", key))
    yield* note("write", card.writeBlock(1, 0, new Uint8Array(16).fill(i)))
    yield* note("present", card.presentAtGate)
    yield* note("taken", card.awaitTaken(30_000))
    yield* note("print", printer.print({ code: "7K3M-Q9RT-2XWB", title: "t", merchantName: "m", valuePoints: 1, expiresAt: "x", lines: [] }))
    yield* note("sms", sms.send({ idempotencyKey: `otp-${i}`, to: phone, text: "code" }))
    yield* note("prepare", carrier.prepare({ correlator: `c${i}`, phone, amount: 100, description: "deposit" }))
    yield* note("submit", providers.submitOrder({
      merchantId,
      orderId: OrderId.make(`ord_${i}`),
      offerId: OfferId.make("off_a"),
      couponCode: CouponCode.make("7K3M-Q9RT-2XWB"),
      quantity: 1,
      amount: 100,
      deliveredAtMs: 0
    }))
    yield* note("pay", payouts.pay({ settlementId: SettlementId.make("stl_1"), merchantId, amount: 100, reference: `p${i}` }))
  }
  return log
})

const run = (config: SimWorldConfig, randomSeed = 1) =>
  advancing(script, 7 * 86_400_000).pipe(
    Effect.provide(SimWorldLive({
      ...config,
      // Few sleeps: TestClock steps each one, and the timing is not what this test is about.
      cardUnit: { timing: instantCardUnitTiming, takeAfterMs: 0, initialised: true },
      printer: { printMsPerMm: 0 },
      providers: { merchants: [{ merchantId, offers: [] }] }
    })),
    Effect.withRandom(Random.make(randomSeed))
  )

describe("the sim world", () => {
  it.effect("one seed gives one world, fault for fault; another seed another", () =>
    Effect.gen(function*() {
      const first = yield* run({ seed: 11, faults })
      expect(yield* run({ seed: 11, faults })).toEqual(first)
      expect(yield* run({ seed: 12, faults })).not.toEqual(first)
      // Faults of every port show up at these rates.
      for (const tag of ["Jam", "SensorFault", "RfFailure", "CoverOpen", "ServiceUnavailable", "ServiceRejected"]) {
        expect(first.some((line) => line.endsWith(`:${tag}`))).toBe(true)
      }
    }))

  it.effect("without a seed, the Random service seeds every device", () =>
    Effect.gen(function*() {
      const first = yield* run({ faults }, 5)
      expect(yield* run({ faults }, 5)).toEqual(first)
      expect(yield* run({ faults }, 6)).not.toEqual(first)
    }))
})
