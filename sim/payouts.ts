import { Clock, Context, Effect, Layer } from "effect"
import type { MerchantId } from "../core/domain/ids.js"
import { type Payout, PayoutGateway, type PayoutGatewayService } from "../core/ports/payout-gateway.js"
import { ServiceRejected, ServiceUnavailable } from "../core/ports/service-errors.js"
import { type FaultKnob, type FaultSpec, FaultTable, knobsOf, type SimFaults } from "./faults.js"
import { deviceRandom } from "./rng.js"
import { mapNowMs, withNowMs } from "./clock-now.js"

/**
 * The bank or payout service that pays merchants their settlements. It takes a payout at once and
 * the money arrives `settleAfterMs` later (0: instant; a bank transfer is typically next business
 * day). Idempotent by reference, the payout's idempotency key: a resend is answered with the first
 * payout reference and pays nothing more; a reference reused for another payout is refused.
 */

export type PayoutFaultKnob = Extract<FaultKnob, `payout.${string}`>

export interface PayoutRecord {
  readonly payout: Payout
  readonly payoutRef: string
  readonly requestedAtMs: number
  readonly settlesAtMs: number
  readonly resends: number
}

export interface SimPayoutsControlService {
  /** Every payout taken, oldest first. */
  readonly payouts: Effect.Effect<ReadonlyArray<PayoutRecord>>
  /** Points that have reached the merchant's account by now. */
  readonly paidTo: (merchantId: MerchantId) => Effect.Effect<number>
  readonly setFault: (knob: PayoutFaultKnob, spec: FaultSpec) => Effect.Effect<void>
  readonly faultsFired: Effect.Effect<Readonly<Partial<Record<PayoutFaultKnob, number>>>>
}

export class SimPayoutsControl extends Context.Tag("ecoupon/sim/SimPayoutsControl")<SimPayoutsControl, SimPayoutsControlService>() {}

export interface SimPayoutsConfig {
  /** From acceptance to money in the merchant's account (default 0: instant). */
  readonly settleAfterMs?: number
  readonly latencyMs?: number
  readonly faults?: SimFaults
  readonly seed?: number
  /** A bound on the payout book; past it the simulation stops with a defect (default 1000000). */
  readonly payoutsMax?: number
}

const service = "payout service"
const payoutKnobs = knobsOf("payout")
const samePayout = (a: Payout, b: Payout) => a.settlementId === b.settlementId && a.merchantId === b.merchantId && a.amount === b.amount

export const makeSimPayouts = (
  config: SimPayoutsConfig = {}
): Effect.Effect<{ readonly port: PayoutGatewayService; readonly control: SimPayoutsControlService }> =>
  Effect.gen(function*() {
    const random = yield* deviceRandom(config.seed)
    const faults = new FaultTable<PayoutFaultKnob>(payoutKnobs, config.faults ?? {}, random, yield* Clock.currentTimeMillis)
    const settleAfterMs = config.settleAfterMs ?? 0
    const latencyMs = config.latencyMs ?? 0
    const payoutsMax = config.payoutsMax ?? 1_000_000
    const book = new Map<string, PayoutRecord>()

    const take = (payout: Payout, nowMs: number): Effect.Effect<{ readonly payoutRef: string }, ServiceRejected> => {
      const known = book.get(payout.reference)
      if (known !== undefined) {
        if (!samePayout(known.payout, payout)) {
          return Effect.fail(new ServiceRejected({ service, reason: `reference ${payout.reference} was used for another payout` }))
        }
        book.set(payout.reference, { ...known, resends: known.resends + 1 })
        return Effect.succeed({ payoutRef: known.payoutRef })
      }
      if (!Number.isSafeInteger(payout.amount) || payout.amount <= 0) {
        return Effect.fail(new ServiceRejected({ service, reason: "the amount must be a whole number above zero" }))
      }
      if (faults.fires("payout.reject", nowMs)) {
        return Effect.fail(new ServiceRejected({ service, reason: "the merchant's account refused the transfer" }))
      }
      if (book.size >= payoutsMax) return Effect.dieMessage(`sim payouts: more than ${payoutsMax} payouts; raise payoutsMax`)
      const payoutRef = `pay_${book.size + 1}`
      book.set(payout.reference, { payout, payoutRef, requestedAtMs: nowMs, settlesAtMs: nowMs + settleAfterMs, resends: 0 })
      return Effect.succeed({ payoutRef })
    }

    const pay = (payout: Payout): Effect.Effect<{ readonly payoutRef: string }, ServiceUnavailable | ServiceRejected> =>
      withNowMs((nowMs): Effect.Effect<{ readonly payoutRef: string }, ServiceUnavailable | ServiceRejected> => {
        if (faults.fires("payout.outage", nowMs)) return Effect.fail(new ServiceUnavailable({ service, detail: "connection refused" }))
        return take(payout, nowMs).pipe(
          Effect.zipLeft(latencyMs > 0 ? Effect.sleep(latencyMs) : Effect.void),
          Effect.flatMap((answer) =>
            faults.fires("payout.lostAnswer", nowMs)
              ? Effect.fail(new ServiceUnavailable({ service, detail: "the answer was lost after the payout was made" }))
              : Effect.succeed(answer)
          )
        )
      })

    const control: SimPayoutsControlService = {
      payouts: Effect.sync(() => Array.from(book.values())),
      paidTo: (merchantId) =>
        mapNowMs((nowMs) => {
          let total = 0
          for (const record of book.values()) {
            if (record.payout.merchantId === merchantId && record.settlesAtMs <= nowMs) total += record.payout.amount
          }
          return total
        }),
      setFault: (knob, spec) => Effect.sync(() => faults.set(knob, spec)),
      faultsFired: Effect.sync(() => faults.firedCounts())
    }
    return { port: { pay }, control }
  })

export const SimPayoutsLive = (config: SimPayoutsConfig = {}): Layer.Layer<PayoutGateway | SimPayoutsControl> =>
  Layer.effectContext(
    Effect.map(makeSimPayouts(config), ({ control, port }) => Context.make(PayoutGateway, port).pipe(Context.add(SimPayoutsControl, control)))
  )
