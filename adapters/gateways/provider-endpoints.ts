import { Context, type Effect, type Redacted } from "effect"
import type { MerchantId } from "../../core/domain/ids.js"
import type { ServiceRejected, ServiceUnavailable } from "../../core/ports/service-errors.js"

/** Where one merchant's provider server lives and the secret both sides sign with. */
export interface ProviderEndpoint {
  /** The provider server's base URL (`/orders` and `/catalog` are joined onto it). */
  readonly url: string
  readonly secret: Redacted.Redacted<string>
}

/**
 * Looks up a merchant's provider server. The server owns where merchants' URLs and secrets are kept
 * and provides this; a merchant with no server configured is `ServiceRejected` (resending will not
 * help until an operator configures it), a store that cannot be read is `ServiceUnavailable`.
 */
export interface ProviderEndpointsService {
  readonly resolve: (merchantId: MerchantId) => Effect.Effect<ProviderEndpoint, ServiceRejected | ServiceUnavailable>
}

export class ProviderEndpoints extends Context.Tag("ecoupon/gateways/ProviderEndpoints")<ProviderEndpoints, ProviderEndpointsService>() {}
