import { Context, type Effect } from "effect"
import type { CouponCode, MerchantId, OfferId, OrderId, RegionId } from "../domain/ids.js"
import type { ServiceRejected, ServiceUnavailable } from "./service-errors.js"

/** A delivered order's content, sent to the merchant's own server (DESIGN claim 8). */
export interface OrderSubmission {
  readonly merchantId: MerchantId
  readonly orderId: OrderId
  readonly offerId: OfferId
  readonly couponCode: CouponCode
  readonly quantity: number
  readonly amount: number
  readonly deliveredAtMs: number
}

/** One offer as the provider server describes it. */
export interface ProviderOffer {
  readonly offerId: OfferId
  readonly title: string
  readonly pricePoints: number
  readonly stock: number
  readonly validFromMs: number
  readonly validUntilMs: number
  readonly regions: ReadonlyArray<RegionId>
}

export interface ProviderGatewayService {
  /** Idempotent by order id at the provider: a resend after a lost answer is acknowledged again. */
  readonly submitOrder: (
    submission: OrderSubmission
  ) => Effect.Effect<{ readonly acknowledgement: string }, ServiceUnavailable | ServiceRejected>
  readonly fetchCatalog: (
    merchantId: MerchantId
  ) => Effect.Effect<ReadonlyArray<ProviderOffer>, ServiceUnavailable | ServiceRejected>
}

export class ProviderGateway extends Context.Tag("ecoupon/ProviderGateway")<ProviderGateway, ProviderGatewayService>() {}
