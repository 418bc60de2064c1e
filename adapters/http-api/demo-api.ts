import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { MerchantId, OrderId, PhoneNumber } from "../../core/domain/ids.js"
import { ProviderOfferBody } from "./providers-api.js"
import { OperatorReadAuth, OperatorWriteAuth } from "./security.js"

/**
 * The demo gateways' group (`/v1/demo`): what `ecoupon serve --gateways demo` simulates in its own
 * process, made visible to an operator so a test or a person can play the world outside the server:
 * the text messages the demo SMS gateway delivered to a phone (the one-time codes), and the demo
 * provider servers (a merchant's catalog, the orders it took). With `--gateways http` nothing is
 * simulated and every endpoint here answers 404 `not-demo-gateways`. Reads take any operator token,
 * the catalog an admin's or an operator's. The phone number travels in the body, never in a URL.
 */

export const InboxRequest = Schema.Struct({ phone: PhoneNumber })
export const DeliveredSms = Schema.Struct({
  text: Schema.String,
  /** When the server handed it to the demo gateway (the server's clock). */
  sentAtMs: Schema.Int,
  /** When it reached the phone. */
  deliveredAtMs: Schema.Int
})
export const Inbox = Schema.Struct({ messages: Schema.Array(DeliveredSms) })
export const DemoCatalog = Schema.Struct({ offers: Schema.Array(ProviderOfferBody).pipe(Schema.maxItems(1000)) })
export const ProviderOrder = Schema.Struct({ orderId: OrderId, merchantId: MerchantId, acknowledgement: Schema.String, receivedAtMs: Schema.Int })

export class DemoApi extends HttpApiGroup.make("demo")
  .add(HttpApiEndpoint.post("inbox", "/sms/inbox").setPayload(InboxRequest).addSuccess(Inbox).middleware(OperatorReadAuth))
  .add(
    HttpApiEndpoint.put("setProviderCatalog", "/providers/:merchantId/catalog")
      .setPath(Schema.Struct({ merchantId: MerchantId }))
      .setPayload(DemoCatalog)
      .addSuccess(HttpApiSchema.NoContent)
      .middleware(OperatorWriteAuth)
  )
  .add(HttpApiEndpoint.get("providerOrder", "/provider-orders/:orderId").setPath(Schema.Struct({ orderId: OrderId })).addSuccess(ProviderOrder).middleware(OperatorReadAuth))
  .prefix("/v1/demo")
  .annotate(
    OpenApi.Description,
    "Demo gateways only (`serve --gateways demo`; 404 otherwise): the SMS the demo gateway delivered to a phone, a merchant's demo provider server's catalog, and whether it took an order"
  )
{}
