import { Context, type Effect } from "effect"
import type { MerchantId, OrderId, PhoneNumber } from "../../core/domain/ids.js"
import type { ProviderOffer } from "../../core/ports/provider-gateway.js"

/**
 * The demo gateways' controls, when the server runs on them (`serve --gateways demo`, `ecoupon demo`):
 * the SMS a phone received, each merchant's demo provider server. Provided by the composition root
 * (adapters/cli/gateways-layer.ts), which alone may wire sim/ in; absent (the default), the server
 * runs on real gateways and `/v1/demo` answers 404 (demo-http.ts).
 */
export interface DemoGatewaysService {
  /** The messages delivered to `phone` by now, oldest first. */
  readonly inbox: (phone: PhoneNumber) => Effect.Effect<ReadonlyArray<{ readonly text: string; readonly sentAtMs: number; readonly deliveredAtMs: number }>>
  /** The merchant's demo provider server holds this catalog (and so takes the merchant's orders). */
  readonly setCatalog: (merchantId: MerchantId, offers: ReadonlyArray<ProviderOffer>) => Effect.Effect<void>
  /** What the demo provider servers remember of one order, if one of them took it. */
  readonly order: (orderId: OrderId) => Effect.Effect<{ readonly merchantId: MerchantId; readonly acknowledgement: string; readonly receivedAtMs: number } | undefined>
}

export class DemoGateways extends Context.Reference<DemoGateways>()("ecoupon/server/DemoGateways", {
  defaultValue: (): DemoGatewaysService | undefined => undefined
}) {}
