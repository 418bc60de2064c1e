import { Context, type Effect } from "effect"
import type { MerchantId, SettlementId } from "../domain/ids.js"
import type { ServiceRejected, ServiceUnavailable } from "./service-errors.js"

export interface Payout {
  readonly settlementId: SettlementId
  readonly merchantId: MerchantId
  readonly amount: number
  /** Shown on the merchant's bank statement; also the idempotency key. */
  readonly reference: string
}

export interface PayoutGatewayService {
  readonly pay: (payout: Payout) => Effect.Effect<{ readonly payoutRef: string }, ServiceUnavailable | ServiceRejected>
}

export class PayoutGateway extends Context.Tag("ecoupon/PayoutGateway")<PayoutGateway, PayoutGatewayService>() {}
