import { HttpClient } from "@effect/platform"
import { Effect, Layer, Schema } from "effect"
import { PayoutGateway, type PayoutGatewayService } from "../../core/ports/payout-gateway.js"
import { callForJson, idempotencyKeyHeader, joinUrl } from "./http-call.js"
import { bearer, type HttpEndpoint, settingsOf } from "./http-endpoint.js"

/**
 * `PayoutGateway` over HTTP, for a bank or payout service with an API:
 *
 *   POST <ECOUPON_PAYOUT_URL>/payouts
 *   Authorization: Bearer <ECOUPON_PAYOUT_TOKEN>
 *   Idempotency-Key: <the payout's reference>
 *   {"reference", "settlementId", "merchantId", "amount"}   amount: whole units of the deployment's currency
 *   -> 2xx {"payoutRef": "..."}
 *
 * The reference is the idempotency key (the port says so): a resend must get the first payoutRef
 * and pay nothing more; a reference reused for a different payout must be refused with a 4xx.
 */

const PayoutTaken = Schema.Struct({ payoutRef: Schema.String.pipe(Schema.minLength(1)) })

export const makeHttpPayout = (endpoint: HttpEndpoint): Effect.Effect<PayoutGatewayService, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (client): PayoutGatewayService => {
    const settings = settingsOf("payout service", endpoint)
    return {
      pay: (payout) =>
        callForJson(client, settings, {
          method: "POST",
          url: joinUrl(endpoint.url, "payouts"),
          headers: { ...bearer(endpoint), [idempotencyKeyHeader]: payout.reference },
          body: JSON.stringify({ reference: payout.reference, settlementId: payout.settlementId, merchantId: payout.merchantId, amount: payout.amount })
        }, PayoutTaken).pipe(Effect.withSpan("HttpPayout.pay"))
    }
  })

export const HttpPayoutLive = (endpoint: HttpEndpoint): Layer.Layer<PayoutGateway, never, HttpClient.HttpClient> =>
  Layer.effect(PayoutGateway, makeHttpPayout(endpoint))
