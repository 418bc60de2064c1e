import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { MerchantId, OfferId, RegionId } from "../../core/domain/ids.js"

/**
 * The provider servers' group: a merchant's own server pushes its catalog. No bearer credential: the
 * body is signed with the merchant's secret (adapters/server/credentials/webhook-signature.ts:
 * `X-Ecoupon-Timestamp`, `X-Ecoupon-Delivery`, `X-Ecoupon-Signature: v1=<hex HMAC-SHA256 of
 * "<timestamp>.<body>">`). A bad signature is 401, a timestamp more than five minutes off 401, a
 * delivery id seen before 409.
 */
export const ProviderOfferBody = Schema.Struct({
  offerId: OfferId,
  title: Schema.String.pipe(Schema.maxLength(200)),
  pricePoints: Schema.Int,
  stock: Schema.Int,
  validFromMs: Schema.Int,
  validUntilMs: Schema.Int,
  regions: Schema.Array(RegionId).pipe(Schema.maxItems(100))
})

export const CatalogPush = Schema.Struct({
  offers: Schema.Array(ProviderOfferBody).pipe(Schema.maxItems(1000)),
  /** The push is the merchant's whole catalog: its offers on sale that the push leaves out are withdrawn. */
  replace: Schema.optional(Schema.Boolean)
})

export const CatalogPushResult = Schema.Struct({ offers: Schema.Int, changed: Schema.Int, withdrawn: Schema.Int })

export const SignatureHeaders = Schema.Struct({
  "x-ecoupon-timestamp": Schema.String,
  "x-ecoupon-delivery": Schema.String,
  "x-ecoupon-signature": Schema.String
})

export class ProvidersApi extends HttpApiGroup.make("providers")
  .add(
    HttpApiEndpoint.post("pushCatalog", "/:merchantId/catalog")
      .setPath(Schema.Struct({ merchantId: MerchantId }))
      .setHeaders(SignatureHeaders)
      .setPayload(CatalogPush)
      .addSuccess(CatalogPushResult)
  )
  .prefix("/v1/providers")
  .annotate(OpenApi.Description, "A merchant's provider server pushes its catalog, signed with the merchant's secret (HMAC-SHA256 over timestamp and body)")
{}
