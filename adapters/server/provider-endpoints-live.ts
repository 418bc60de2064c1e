import { Effect, Layer, Option, Redacted } from "effect"
import { Merchants } from "../../core/merchants.js"
import { ServiceRejected } from "../../core/ports/service-errors.js"
import { ProviderEndpoints } from "../gateways/provider-endpoints.js"
import { MerchantSecrets } from "./credentials/merchant-secrets.js"

/**
 * Where `serve --gateways http` sends a merchant's orders: the provider URL the operator registered
 * with the merchant (`POST /v1/ops/merchants` `providerUrl`) and the secret an admin issued it
 * (`POST /v1/ops/merchants/:id/secret`), read from the store at each send, so a new URL or a rotated
 * secret takes effect at the next one. A merchant with either missing is refused (ServiceRejected:
 * resending will not help until an operator configures it); the outbox records the reason.
 */
export const ProviderEndpointsLive = Layer.effect(
  ProviderEndpoints,
  Effect.gen(function* () {
    const merchants = yield* Merchants
    const secrets = yield* MerchantSecrets
    const refuse = (reason: string) => new ServiceRejected({ service: "provider server", reason })
    return {
      resolve: (merchantId) =>
        Effect.gen(function* () {
          const merchant = yield* Effect.mapError(merchants.get(merchantId), () => refuse(`no merchant ${merchantId}`))
          if (merchant.providerUrl === null) return yield* refuse(`merchant ${merchantId} has no provider server URL; register one with the merchant`)
          const secret = yield* secrets.secretFor(merchantId)
          if (Option.isNone(secret)) return yield* refuse(`merchant ${merchantId} has no secret; issue one with POST /v1/ops/merchants/${merchantId}/secret`)
          return { url: merchant.providerUrl, secret: Redacted.make(secret.value) }
        })
    }
  })
).pipe(Layer.provide(MerchantSecrets.Default))
