import { Effect, Layer } from "effect"
import { KioskFlow, KioskFlowConfig, type PurchaseOutcome, type ReturnOutcome } from "../../core/kiosk-flow.js"
import type { CardUnit } from "../../core/ports/card-unit.js"
import type { CouponPrinter } from "../../core/ports/coupon-printer.js"
import type { OfferId } from "../../core/domain/ids.js"
import type { KioskBackend, KioskSession } from "../../core/ports/kiosk-backend.js"
import { memoryJournal, stubKioskBackend, stubOffer, stubSession } from "./kiosk-stubs.js"

/**
 * One customer script through the core kiosk flow, written against the ports only, so it runs on any
 * hardware layer: the serial drivers against the emulators here, the sim layer in scenarios/. The
 * person at the gate is a `Hand`, which each layer implements with its own controls. The result is
 * the flow's outcomes with everything layer-specific (card UIDs, ids) taken out, so two layers can
 * be compared with `toEqual`.
 */

export interface Hand {
  /** From now on the customer takes a presented card (true) or walks away from it (false). */
  readonly willTake: (take: boolean) => Effect.Effect<void>
  /** The customer will push the card they took last into the gate as soon as front entry opens. */
  readonly returnLastCard: Effect.Effect<void>
}

/** What the script gives on any faithful hardware layer (checked on the serial and the sim layers). */
export const expectedScriptOutcomes: ReadonlyArray<string> = [
  "Delivered card 7K3M-Q9RT-0001 card:uid",
  "CardNotTaken retained:yes",
  "Returned returned 4500",
  "NoCard",
  "Delivered paper 7K3M-Q9RT-0003 card:none"
]

export const expectedBackendCalls: ReadonlyArray<string> = [
  "place card",
  "beginDispense UID",
  "deliver card",
  "place card",
  "beginDispense UID",
  "abort card not taken",
  "returnCard UID",
  "place paper",
  "deliver paper"
]

export interface ScriptResult {
  readonly startedUp: boolean
  readonly outcomes: ReadonlyArray<string>
  readonly backendCalls: ReadonlyArray<string>
}

const describePurchase = (o: PurchaseOutcome): string => {
  switch (o._tag) {
    case "Delivered":
      return `Delivered ${o.delivery.medium} ${o.delivery.couponCode} card:${o.delivery.cardUid === null ? "none" : "uid"}`
    case "CardNotTaken":
      return `CardNotTaken retained:${o.abortion.retainedCardUid === null ? "no" : "yes"}`
    case "Refused":
      return `Refused ${o.refusal.reason}`
    case "DeviceFailed":
      return `DeviceFailed ${o.error._tag}`
    case "Unresolved":
      return `Unresolved ${o.stage}`
  }
}

const describeReturn = (o: ReturnOutcome): string => (o._tag === "Returned" ? `Returned ${o.result.outcome} ${o.result.forwardedPoints}` : o._tag === "Rejected" ? `Rejected ${o.reason}` : o._tag === "DeviceFailed" ? `DeviceFailed ${o.error._tag}` : o._tag)

/** Who buys what: the stub backend's customer and offer unless a real backend's are given. */
export interface ScriptPurchase {
  readonly session: KioskSession
  readonly offerId: OfferId
  readonly catalogVersion: number
}

const stubPurchase: ScriptPurchase = { session: stubSession, offerId: stubOffer, catalogVersion: 1 }

export const cardFlowScript = (hand: Hand, settings: { readonly cardTakeTimeoutMs: number; readonly insertWaitMs: number }, purchase: ScriptPurchase = stubPurchase) =>
  Effect.gen(function* () {
    const flow = yield* KioskFlow
    const outcomes: Array<string> = []
    const buy = (medium: "card" | "paper") =>
      Effect.map(flow.purchase({ session: purchase.session, offerId: purchase.offerId, quantity: 1, catalogVersion: purchase.catalogVersion, medium }), (o) => {
        outcomes.push(describePurchase(o))
        return o
      })

    const { initialised } = yield* flow.startup
    yield* hand.willTake(true)
    yield* buy("card")
    yield* hand.willTake(false)
    yield* buy("card")
    yield* hand.willTake(true)
    yield* hand.returnLastCard
    outcomes.push(describeReturn(yield* flow.acceptReturn(settings.insertWaitMs)))
    outcomes.push(describeReturn(yield* flow.acceptReturn(50)))
    yield* buy("paper")
    return { startedUp: initialised, outcomes }
  })

/**
 * Runs the script on the given hardware (a layer providing `CardUnit` and `CouponPrinter`), against
 * the stub backend, or against `real` (a real `KioskBackend` that records its calls the same way,
 * with the customer and offer it knows).
 */
export const runCardFlowScript = <E>(
  hardware: Layer.Layer<CardUnit | CouponPrinter, E>,
  hand: Hand,
  settings: { readonly cardTakeTimeoutMs: number; readonly insertWaitMs: number },
  real?: { readonly layer: Layer.Layer<KioskBackend>; readonly calls: ReadonlyArray<string>; readonly purchase: ScriptPurchase }
): Effect.Effect<ScriptResult, E> => {
  const backend = real ?? stubKioskBackend()
  const flowLayer = KioskFlow.Default.pipe(
    Layer.provide(Layer.mergeAll(hardware, backend.layer, memoryJournal)),
    Layer.provide(Layer.succeed(KioskFlowConfig, { ...KioskFlowConfig.defaultValue(), cardTakeTimeoutMs: settings.cardTakeTimeoutMs }))
  )
  return cardFlowScript(hand, settings, real?.purchase).pipe(
    Effect.map((r) => ({ ...r, backendCalls: backend.calls.map((c) => c.replace(/[0-9A-F]{8,20}$/, "UID")) })),
    Effect.provide(flowLayer)
  )
}
