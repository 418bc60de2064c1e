import { HttpApi, HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { Schema } from "effect"
import { OrderId } from "../../core/domain/ids.js"
import { Delivery, Placement } from "../../core/domain/order.js"
import { DeliverBody, OrderBody } from "../../adapters/http-api/kiosks-api.js"

/**
 * The serve benchmark's HTTP floor: a kiosk's two issuance requests (place, deliver) at the same
 * paths, with the same payload and answer schemas as the real kiosks group (adapters/http-api/
 * kiosks-api.ts), answered at once by `serve-floor-server.ts`: no credential check, no core, no store.
 * What the HttpApi stack costs by itself, measured with the same client.
 */
export class FloorKiosksApi extends HttpApiGroup.make("kiosks")
  .add(HttpApiEndpoint.post("place", "/orders").setPayload(OrderBody).addSuccess(Placement))
  .add(HttpApiEndpoint.post("deliver", "/orders/:orderId/deliver").setPath(Schema.Struct({ orderId: OrderId })).setPayload(DeliverBody).addSuccess(Delivery))
  .prefix("/v1/kiosk")
{}

export class FloorApi extends HttpApi.make("floor").add(FloorKiosksApi) {}
