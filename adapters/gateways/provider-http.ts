import { randomUUID } from "node:crypto"
import { HttpClient } from "@effect/platform"
import { Clock, Effect, Layer, Redacted, Schema } from "effect"
import { OfferId, RegionId } from "../../core/domain/ids.js"
import { ProviderGateway, type ProviderGatewayService, type ProviderOffer } from "../../core/ports/provider-gateway.js"
import { DELIVERY_HEADER, SIGNATURE_HEADER, signatureOf, TIMESTAMP_HEADER } from "../server/credentials/webhook-signature.js"
import { callForJson, idempotencyKeyHeader, joinUrl } from "./http-call.js"
import { settingsOf } from "./http-endpoint.js"
import { ProviderEndpoints } from "./provider-endpoints.js"

/**
 * `ProviderGateway` over HTTP to each merchant's own server, every request signed with the merchant's
 * secret by the one signing module of both directions (server/credentials/webhook-signature.ts, the
 * scheme the server checks on the provider's catalog webhook): `X-Ecoupon-Timestamp`,
 * `X-Ecoupon-Signature: v1=<hex>` and `X-Ecoupon-Delivery`, a fresh id per HTTP attempt, since the
 * receiver refuses a delivery id it has seen; a resent order is recognised by its Idempotency-Key.
 *
 *   POST <provider>/orders    Idempotency-Key: <order id>
 *     {"merchantId","orderId","offerId","couponCode","quantity","amount","deliveredAtMs"}
 *     -> 2xx {"acknowledgement": "..."}
 *   GET  <provider>/catalog   (signed over the empty body)
 *     -> 2xx {"offers": [{"offerId","title","pricePoints","stock","validFromMs","validUntilMs","regions"}]}
 *
 * A catalog pull has no message behind it and GET is idempotent by definition, so it carries no
 * idempotency key. A catalog that does not decode is `ServiceUnavailable` like every unreadable 2xx:
 * the last good catalog stays in force and the next pull tries again.
 */

export interface ProviderHttpSettings {
  readonly timeoutMs: number
  readonly responseBytesMax: number
}

const Points = Schema.Int.pipe(Schema.nonNegative())
const Millis = Schema.Int

const Offer = Schema.Struct({
  offerId: OfferId,
  title: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)),
  pricePoints: Points,
  stock: Points,
  validFromMs: Millis,
  validUntilMs: Millis,
  regions: Schema.Array(RegionId)
})

const Catalog = Schema.Struct({ offers: Schema.Array(Offer) })
const Acknowledged = Schema.Struct({ acknowledgement: Schema.String.pipe(Schema.minLength(1)) })

export const makeHttpProvider = (
  options: ProviderHttpSettings
): Effect.Effect<ProviderGatewayService, never, HttpClient.HttpClient | ProviderEndpoints> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const endpoints = yield* ProviderEndpoints
    const settings = settingsOf("provider server", options)
    const signed = (secret: Redacted.Redacted<string>, body: string) =>
      Effect.map(Clock.currentTimeMillis, (nowMs) => {
        const timestampSeconds = String(Math.floor(nowMs / 1000))
        return {
          [TIMESTAMP_HEADER]: timestampSeconds,
          [SIGNATURE_HEADER]: signatureOf(Redacted.value(secret), timestampSeconds, body),
          [DELIVERY_HEADER]: `dlv_${randomUUID()}`
        }
      })

    const submitOrder: ProviderGatewayService["submitOrder"] = (submission) =>
      Effect.gen(function*() {
        const endpoint = yield* endpoints.resolve(submission.merchantId)
        const body = JSON.stringify({
          merchantId: submission.merchantId,
          orderId: submission.orderId,
          offerId: submission.offerId,
          couponCode: submission.couponCode,
          quantity: submission.quantity,
          amount: submission.amount,
          deliveredAtMs: submission.deliveredAtMs
        })
        const signature = yield* signed(endpoint.secret, body)
        return yield* callForJson(client, settings, {
          method: "POST",
          url: joinUrl(endpoint.url, "orders"),
          headers: { ...signature, [idempotencyKeyHeader]: submission.orderId },
          body
        }, Acknowledged)
      }).pipe(Effect.withSpan("HttpProvider.submitOrder"))

    const fetchCatalog: ProviderGatewayService["fetchCatalog"] = (merchantId) =>
      Effect.gen(function*() {
        const endpoint = yield* endpoints.resolve(merchantId)
        const signature = yield* signed(endpoint.secret, "")
        const catalog = yield* callForJson(client, settings, { method: "GET", url: joinUrl(endpoint.url, "catalog"), headers: signature }, Catalog)
        return catalog.offers.map((offer): ProviderOffer => ({ ...offer }))
      }).pipe(Effect.withSpan("HttpProvider.fetchCatalog"))

    return { submitOrder, fetchCatalog }
  })

export const HttpProviderLive = (
  options: ProviderHttpSettings
): Layer.Layer<ProviderGateway, never, HttpClient.HttpClient | ProviderEndpoints> => Layer.effect(ProviderGateway, makeHttpProvider(options))

