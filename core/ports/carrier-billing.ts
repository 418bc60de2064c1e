import { Context, type Effect } from "effect"
import type { PhoneNumber } from "../domain/ids.js"
import type { ServiceRejected, ServiceUnavailable } from "./service-errors.js"

/**
 * Direct carrier billing: an unreturned card's deposit is charged to the user's phone bill. Two-phase
 * like the carrier APIs it stands for: prepare (reserve on the subscriber's limit), then confirm or
 * cancel; refund after confirm. The correlator names the charge (the card UID plus the charge's
 * purpose) and makes every call idempotent at the carrier.
 */
export interface CarrierCharge {
  readonly correlator: string
  readonly phone: PhoneNumber
  readonly amount: number
  readonly description: string
}

export interface CarrierBillingService {
  readonly prepare: (charge: CarrierCharge) => Effect.Effect<{ readonly authorisation: string }, ServiceUnavailable | ServiceRejected>
  readonly confirm: (correlator: string) => Effect.Effect<void, ServiceUnavailable | ServiceRejected>
  readonly cancel: (correlator: string) => Effect.Effect<void, ServiceUnavailable | ServiceRejected>
  readonly refund: (correlator: string, amount: number) => Effect.Effect<void, ServiceUnavailable | ServiceRejected>
}

export class CarrierBilling extends Context.Tag("ecoupon/CarrierBilling")<CarrierBilling, CarrierBillingService>() {}
