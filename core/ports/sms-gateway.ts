import { Context, type Effect } from "effect"
import type { PhoneNumber } from "../domain/ids.js"
import type { ServiceRejected, ServiceUnavailable } from "./service-errors.js"

export interface SmsMessage {
  /** Unique per message: the gateway must not deliver the same key twice. */
  readonly idempotencyKey: string
  readonly to: PhoneNumber
  readonly text: string
}

export interface SmsGatewayService {
  readonly send: (message: SmsMessage) => Effect.Effect<{ readonly messageRef: string }, ServiceUnavailable | ServiceRejected>
}

export class SmsGateway extends Context.Tag("ecoupon/SmsGateway")<SmsGateway, SmsGatewayService>() {}
