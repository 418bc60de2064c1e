import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { CouponCode, MerchantId, OfferId, OrderId, PhoneNumber, SettlementId } from "../core/domain/ids.js"
import { instantCardUnitTiming, makeSimCardUnit } from "./card-unit.js"
import { makeSimCarrier } from "./carrier.js"
import { always, type FaultKnob, faultKnobNames } from "./faults.js"
import { makeSimPayouts } from "./payouts.js"
import { makeSimPrinter } from "./printer.js"
import { makeSimProviders } from "./providers.js"
import { makeSimSms } from "./sms.js"
import { advancing } from "./testing.js"

/**
 * The test "each sim layer's fault behaves as the port's typed error says", as one table: every
 * knob switched to `always`, one call through the port, and what the caller sees. A knob added to
 * `faultKnobs` without a row here fails the last test.
 */

const phone = PhoneNumber.make("+821012345678")
const merchantId = MerchantId.make("mer_cafe")
const key = new Uint8Array(6).fill(0xff)
const coupon = { code: "7K3M-Q9RT-2XWB", title: "t", merchantName: "m", valuePoints: 1, expiresAt: "x", lines: [] }
const order = {
  merchantId,
  orderId: OrderId.make("ord_1"),
  offerId: OfferId.make("off_a"),
  couponCode: CouponCode.make("7K3M-Q9RT-2XWB"),
  quantity: 1,
  amount: 100,
  deliveredAtMs: 0
}

/** What the caller sees: the error's tag (and reason or kind where the port has one), or "ok". */
const seen = <A, R>(effect: Effect.Effect<A, { readonly _tag: string }, R>) =>
  Effect.match(effect, {
    onFailure: (e) => ("reason" in e && e._tag === "RfFailure" ? `RfFailure:${String(e.reason)}` : "kind" in e ? `${e._tag}:${String(e.kind)}` : e._tag),
    onSuccess: () => "ok"
  })

const card = (knob: FaultKnob) => makeSimCardUnit({ initialised: true, seed: 1, timing: instantCardUnitTiming, faults: { [knob]: always } })
const printer = (knob: FaultKnob) => makeSimPrinter({ seed: 1, printMsPerMm: 0, faults: { [knob]: always } })
const sms = (knob: FaultKnob) => makeSimSms({ seed: 1, faults: { [knob]: always } })
const carrier = (knob: FaultKnob) => makeSimCarrier({ seed: 1, faults: { [knob]: always } })
const providers = (knob: FaultKnob) => makeSimProviders({ seed: 1, merchants: [{ merchantId, offers: [] }], faults: { [knob]: always } })
const payouts = (knob: FaultKnob) => makeSimPayouts({ seed: 1, faults: { [knob]: always } })

const rows: Record<FaultKnob, { readonly expected: string; readonly run: (knob: FaultKnob) => Effect.Effect<string> }> = {
  "card.jam": { expected: "Jam", run: (k) => Effect.flatMap(card(k), ({ port }) => seen(port.dispenseToRf)) },
  "card.stackerEmpty": { expected: "StackerEmpty", run: (k) => Effect.flatMap(card(k), ({ port }) => seen(port.dispenseToRf)) },
  "card.binFull": {
    expected: "BinFull",
    run: (k) => Effect.flatMap(card(k), ({ port }) => seen(Effect.zipRight(port.dispenseToRf, port.capture)))
  },
  "card.sensor": { expected: "SensorFault", run: (k) => Effect.flatMap(card(k), ({ port }) => seen(port.status)) },
  "card.notTaken": {
    expected: "CardNotTaken",
    run: (k) => Effect.flatMap(card(k), ({ port }) => seen(Effect.zipRight(port.presentAtGate, port.awaitTaken(30_000))))
  },
  "card.inserted": {
    // Not an error: the stray card is what the next dispense brings, and the stacker keeps its cards.
    expected: "gate, then 100 cards left",
    run: (k) =>
      Effect.flatMap(card(k), ({ control, port }) =>
        Effect.gen(function*() {
          const { position } = yield* port.status
          yield* port.dispenseToRf
          return `${position}, then ${(yield* control.snapshot).stackerCards} cards left`
        }).pipe(Effect.orDie))
  },
  "card.rf": {
    expected: "RfFailure:transmission",
    run: (k) => Effect.flatMap(card(k), ({ port }) => seen(Effect.zipRight(port.dispenseToRf, port.activate)))
  },
  "printer.paperOut": { expected: "PaperOut", run: (k) => Effect.flatMap(printer(k), ({ port }) => seen(port.print(coupon))) },
  "printer.coverOpen": { expected: "CoverOpen", run: (k) => Effect.flatMap(printer(k), ({ port }) => seen(port.print(coupon))) },
  "printer.offline": { expected: "Offline", run: (k) => Effect.flatMap(printer(k), ({ port }) => seen(port.print(coupon))) },
  "printer.cutter": { expected: "PrinterFault:cutter", run: (k) => Effect.flatMap(printer(k), ({ port }) => seen(port.print(coupon))) },
  "sms.outage": {
    expected: "ServiceUnavailable",
    run: (k) => Effect.flatMap(sms(k), ({ port }) => seen(port.send({ idempotencyKey: "k", to: phone, text: "1234" })))
  },
  "sms.reject": {
    expected: "ServiceRejected",
    run: (k) => Effect.flatMap(sms(k), ({ port }) => seen(port.send({ idempotencyKey: "k", to: phone, text: "1234" })))
  },
  "sms.loss": {
    expected: "ok, never delivered",
    run: (k) =>
      Effect.flatMap(sms(k), ({ control, port }) =>
        Effect.gen(function*() {
          const sent = yield* seen(port.send({ idempotencyKey: "k", to: phone, text: "1234" }))
          yield* Effect.sleep("1 hour")
          return `${sent}, ${(yield* control.inbox(phone)).length === 0 ? "never delivered" : "delivered"}`
        }))
  },
  "sms.delay": {
    expected: "ok, delivered after 120000 ms",
    run: (k) =>
      Effect.flatMap(sms(k), ({ control, port }) =>
        Effect.gen(function*() {
          const sent = yield* seen(port.send({ idempotencyKey: "k", to: phone, text: "1234" }))
          const [record] = yield* control.sent
          return `${sent}, delivered after ${(record?.deliverAtMs ?? 0) - (record?.sentAtMs ?? 0)} ms`
        }))
  },
  "carrier.outage": {
    expected: "ServiceUnavailable",
    run: (k) => Effect.flatMap(carrier(k), ({ port }) => seen(port.prepare({ correlator: "c", phone, amount: 100, description: "d" })))
  },
  "carrier.decline": {
    expected: "ServiceRejected",
    run: (k) => Effect.flatMap(carrier(k), ({ port }) => seen(port.prepare({ correlator: "c", phone, amount: 100, description: "d" })))
  },
  "carrier.lostAnswer": {
    expected: "ServiceUnavailable, prepared",
    run: (k) =>
      Effect.flatMap(carrier(k), ({ control, port }) =>
        Effect.gen(function*() {
          const answer = yield* seen(port.prepare({ correlator: "c", phone, amount: 100, description: "d" }))
          return `${answer}, ${(yield* control.charge("c"))?.state}`
        }))
  },
  "provider.outage": { expected: "ServiceUnavailable", run: (k) => Effect.flatMap(providers(k), ({ port }) => seen(port.submitOrder(order))) },
  "provider.reject": { expected: "ServiceRejected", run: (k) => Effect.flatMap(providers(k), ({ port }) => seen(port.submitOrder(order))) },
  "provider.slow": {
    expected: "ok after 15000 ms",
    run: (k) =>
      Effect.flatMap(providers(k), ({ port }) =>
        Effect.gen(function*() {
          const [took, answer] = yield* Effect.timed(seen(port.fetchCatalog(merchantId)))
          return `${answer} after ${Duration.toMillis(took)} ms`
        }))
  },
  "provider.lostAck": {
    expected: "ServiceUnavailable, 1 taken",
    run: (k) =>
      Effect.flatMap(providers(k), ({ control, port }) =>
        Effect.gen(function*() {
          const answer = yield* seen(port.submitOrder(order))
          return `${answer}, ${yield* control.ordersTaken(merchantId)} taken`
        }))
  },
  "payout.outage": {
    expected: "ServiceUnavailable",
    run: (k) => Effect.flatMap(payouts(k), ({ port }) => seen(port.pay({ settlementId: SettlementId.make("stl_1"), merchantId, amount: 1, reference: "r" })))
  },
  "payout.reject": {
    expected: "ServiceRejected",
    run: (k) => Effect.flatMap(payouts(k), ({ port }) => seen(port.pay({ settlementId: SettlementId.make("stl_1"), merchantId, amount: 1, reference: "r" })))
  },
  "payout.lostAnswer": {
    expected: "ServiceUnavailable, 1 paid",
    run: (k) =>
      Effect.flatMap(payouts(k), ({ control, port }) =>
        Effect.gen(function*() {
          const answer = yield* seen(port.pay({ settlementId: SettlementId.make("stl_1"), merchantId, amount: 1, reference: "r" }))
          return `${answer}, ${(yield* control.payouts).length} paid`
        }))
  }
}

describe("each sim layer's fault behaves as the port's typed error says", () => {
  for (const knob of faultKnobNames) {
    it.effect(`${knob}=always: ${rows[knob].expected}`, () =>
      Effect.map(advancing(rows[knob].run(knob)), (outcome) => expect(outcome).toBe(rows[knob].expected)))
  }

  it.effect("with no faults, the same calls succeed", () =>
    Effect.gen(function*() {
      const { port } = yield* makeSimCardUnit({ initialised: true, seed: 1, timing: instantCardUnitTiming, takeAfterMs: 0 })
      expect(yield* seen(Effect.all([port.dispenseToRf, port.activate, port.authenticate(1, "A", key), port.presentAtGate, port.awaitTaken(1_000)]))).toBe("ok")
      const print = yield* makeSimPrinter({ seed: 1, printMsPerMm: 0 })
      expect(yield* seen(print.port.print(coupon))).toBe("ok")
    }))

  it("every knob has a row", () => {
    expect(Object.keys(rows).sort()).toEqual([...faultKnobNames].sort())
  })
})
