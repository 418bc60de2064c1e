import { Clock, Context, Effect, Layer, type Types } from "effect"
import type { PhoneNumber } from "../core/domain/ids.js"
import { CarrierBilling, type CarrierBillingService, type CarrierCharge } from "../core/ports/carrier-billing.js"
import { ServiceRejected, ServiceUnavailable } from "../core/ports/service-errors.js"
import { type FaultKnob, type FaultSpec, FaultTable, knobsOf, type SimFaults } from "./faults.js"
import { deviceRandom } from "./rng.js"
import { withNowMs } from "./clock-now.js"

/**
 * The mobile carrier's billing system, in memory. Two-phase as the port says: `prepare` reserves the
 * amount on the subscriber's monthly limit, `confirm` makes it a charge on the bill, `cancel`
 * releases it, `refund` gives a confirmed charge back (once, in part or in full). Every call is
 * idempotent by correlator: a replay answers as the first call did, and a correlator reused for a
 * different charge is refused. `cancel` of a correlator the carrier never saw succeeds and bars it,
 * so a prepare that arrives after its own cancel (a lost-and-retried request) cannot charge anyone.
 */

export type CarrierFaultKnob = Extract<FaultKnob, `carrier.${string}`>

export type ChargeState = "prepared" | "confirmed" | "cancelled"

export interface CarrierChargeRecord {
  readonly correlator: string
  /** Undefined for a correlator barred by a cancel that came first. */
  readonly charge: CarrierCharge | undefined
  readonly authorisation: string
  readonly state: ChargeState
  readonly refunded: number | undefined
  readonly preparedAtMs: number
  /** The calendar month (UTC, `YYYY-MM`) whose limit the charge counts against. */
  readonly month: string
}

export interface SubscriberTerms {
  /** Points a subscriber may be charged per calendar month. */
  readonly monthlyLimit?: number
  /** The subscriber has switched carrier billing off. */
  readonly blocked?: boolean
}

export interface CarrierTotals {
  readonly prepared: number
  readonly confirmed: number
  readonly cancelled: number
  readonly refunds: number
  readonly confirmedAmount: number
  readonly refundedAmount: number
}

export interface SimCarrierControlService {
  readonly setSubscriber: (phone: PhoneNumber, terms: SubscriberTerms) => Effect.Effect<void>
  readonly charge: (correlator: string) => Effect.Effect<CarrierChargeRecord | undefined>
  /** Every charge record, in the order the carrier first saw the correlators. */
  readonly charges: Effect.Effect<ReadonlyArray<CarrierChargeRecord>>
  readonly totals: Effect.Effect<CarrierTotals>
  readonly setFault: (knob: CarrierFaultKnob, spec: FaultSpec) => Effect.Effect<void>
  readonly faultsFired: Effect.Effect<Readonly<Partial<Record<CarrierFaultKnob, number>>>>
}

export class SimCarrierControl extends Context.Tag("ecoupon/sim/SimCarrierControl")<SimCarrierControl, SimCarrierControlService>() {}

export interface SimCarrierConfig {
  /** Default monthly limit per subscriber (300000 points, a common carrier-billing cap). */
  readonly monthlyLimit?: number
  readonly latencyMs?: number
  readonly faults?: SimFaults
  readonly seed?: number
  /** A bound on the charge book; past it the simulation stops with a defect (default 1000000). */
  readonly chargesMax?: number
}

type CarrierError = ServiceUnavailable | ServiceRejected
type MutableRecord = Types.Mutable<CarrierChargeRecord>

const service = "carrier billing"
const carrierKnobs = knobsOf("carrier")
const monthOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7)
const sameCharge = (a: CarrierCharge, b: CarrierCharge) =>
  a.phone === b.phone && a.amount === b.amount && a.description === b.description
const reject = (reason: string) => Effect.fail(new ServiceRejected({ service, reason }))

export const makeSimCarrier = (
  config: SimCarrierConfig = {}
): Effect.Effect<{ readonly port: CarrierBillingService; readonly control: SimCarrierControlService }> =>
  Effect.gen(function*() {
    const random = yield* deviceRandom(config.seed)
    const faults = new FaultTable<CarrierFaultKnob>(carrierKnobs, config.faults ?? {}, random, yield* Clock.currentTimeMillis)
    const defaultLimit = config.monthlyLimit ?? 300_000
    const latencyMs = config.latencyMs ?? 0
    const chargesMax = config.chargesMax ?? 1_000_000
    const book = new Map<string, MutableRecord>()
    const terms = new Map<string, SubscriberTerms>()
    /** Points reserved or charged per `phone|month`. */
    const used = new Map<string, number>()
    const totals = { prepared: 0, confirmed: 0, cancelled: 0, refunds: 0, confirmedAmount: 0, refundedAmount: 0 }

    const use = (record: MutableRecord, sign: 1 | -1) => {
      if (record.charge === undefined) return
      const key = `${record.charge.phone}|${record.month}`
      used.set(key, (used.get(key) ?? 0) + sign * record.charge.amount)
    }

    const open = (correlator: string, charge: CarrierCharge | undefined, nowMs: number): MutableRecord | undefined => {
      if (book.size >= chargesMax) return undefined
      const record: MutableRecord = {
        correlator,
        charge,
        authorisation: `auth_${book.size + 1}`,
        state: charge === undefined ? "cancelled" : "prepared",
        refunded: undefined,
        preparedAtMs: nowMs,
        month: monthOf(nowMs)
      }
      book.set(correlator, record)
      return record
    }

    /** Every call: the outage, the work, the latency, then perhaps the answer lost after the work was done. */
    const call = <A>(work: (nowMs: number) => Effect.Effect<A, CarrierError>): Effect.Effect<A, CarrierError> =>
      withNowMs((nowMs) => {
        if (faults.fires("carrier.outage", nowMs)) return Effect.fail(new ServiceUnavailable({ service, detail: "connection timed out" }))
        return work(nowMs).pipe(
          Effect.zipLeft(latencyMs > 0 ? Effect.sleep(latencyMs) : Effect.void),
          Effect.flatMap((answer) =>
            faults.fires("carrier.lostAnswer", nowMs)
              ? Effect.fail(new ServiceUnavailable({ service, detail: "the answer was lost after the carrier acted" }))
              : Effect.succeed(answer)
          )
        )
      })

    const port: CarrierBillingService = {
      prepare: (charge) =>
        call((nowMs) => {
          const known = book.get(charge.correlator)
          if (known !== undefined) {
            if (known.charge === undefined) return reject(`correlator ${charge.correlator} was cancelled before it was prepared`)
            if (!sameCharge(known.charge, charge)) return reject(`correlator ${charge.correlator} was used for a different charge`)
            return Effect.succeed({ authorisation: known.authorisation })
          }
          if (!Number.isSafeInteger(charge.amount) || charge.amount <= 0) return reject("the amount must be a whole number above zero")
          const subscriber = terms.get(charge.phone)
          if (subscriber?.blocked === true) return reject("the subscriber has blocked carrier billing")
          if (faults.fires("carrier.decline", nowMs)) return reject("declined by the carrier")
          const limit = subscriber?.monthlyLimit ?? defaultLimit
          if ((used.get(`${charge.phone}|${monthOf(nowMs)}`) ?? 0) + charge.amount > limit) {
            return reject(`the subscriber's monthly limit of ${limit} would be exceeded`)
          }
          const record = open(charge.correlator, charge, nowMs)
          if (record === undefined) return Effect.dieMessage(`sim carrier: more than ${chargesMax} charges; raise chargesMax`)
          use(record, 1)
          totals.prepared++
          return Effect.succeed({ authorisation: record.authorisation })
        }),

      confirm: (correlator) =>
        call(() => {
          const record = book.get(correlator)
          if (record === undefined) return reject(`no charge is prepared under ${correlator}`)
          if (record.state === "cancelled") return reject(`the charge ${correlator} was cancelled`)
          if (record.state === "prepared" && record.charge !== undefined) {
            record.state = "confirmed"
            totals.confirmed++
            totals.confirmedAmount += record.charge.amount
          }
          return Effect.void
        }),

      cancel: (correlator) =>
        call((nowMs) => {
          const record = book.get(correlator)
          if (record === undefined) {
            if (open(correlator, undefined, nowMs) === undefined) return Effect.dieMessage(`sim carrier: more than ${chargesMax} charges`)
            return Effect.void
          }
          if (record.state === "confirmed") return reject(`the charge ${correlator} is confirmed; refund it instead`)
          if (record.state === "prepared") {
            record.state = "cancelled"
            use(record, -1)
            totals.cancelled++
          }
          return Effect.void
        }),

      refund: (correlator, amount) =>
        call(() => {
          const record = book.get(correlator)
          if (record === undefined || record.charge === undefined) return reject(`no charge under ${correlator}`)
          if (record.state !== "confirmed") return reject(`only a confirmed charge can be refunded; ${correlator} is ${record.state}`)
          if (record.refunded !== undefined) {
            return record.refunded === amount ? Effect.void : reject(`the charge ${correlator} was already refunded ${record.refunded}`)
          }
          if (!Number.isSafeInteger(amount) || amount <= 0 || amount > record.charge.amount) {
            return reject(`a refund must be a whole number from 1 to the charged ${record.charge.amount}`)
          }
          record.refunded = amount
          totals.refunds++
          totals.refundedAmount += amount
          return Effect.void
        })
    }

    const control: SimCarrierControlService = {
      setSubscriber: (phone, subscriberTerms) => Effect.sync(() => void terms.set(phone, subscriberTerms)),
      charge: (correlator) =>
        Effect.sync(() => {
          const record = book.get(correlator)
          return record === undefined ? undefined : { ...record }
        }),
      charges: Effect.sync(() => Array.from(book.values(), (record) => ({ ...record }))),
      totals: Effect.sync(() => ({ ...totals })),
      setFault: (knob, spec) => Effect.sync(() => faults.set(knob, spec)),
      faultsFired: Effect.sync(() => faults.firedCounts())
    }
    return { port, control }
  })

export const SimCarrierLive = (config: SimCarrierConfig = {}): Layer.Layer<CarrierBilling | SimCarrierControl> =>
  Layer.effectContext(
    Effect.map(makeSimCarrier(config), ({ control, port }) =>
      Context.make(CarrierBilling, port).pipe(Context.add(SimCarrierControl, control)))
  )
