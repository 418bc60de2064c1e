import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { CardReturn } from "../../core/domain/card.js"
import { CardUid, MerchantId, OfferId, OrderId, UserId } from "../../core/domain/ids.js"
import { Abortion, ABORT_REASON_LENGTH_MAX, DeliveredMedium, Delivery, Medium, Order, Placement, QUANTITY_MAX } from "../../core/domain/order.js"
import { KioskAuth } from "./security.js"

/**
 * The kiosks' group: every `KioskBackend` operation (core/ports/kiosk-backend.ts), for the kiosk the
 * key belongs to. The kiosk is never named in the path: it is the key's. An order of another kiosk
 * is refused (403) whatever the id.
 */

const ChallengeIdText = Schema.String.pipe(Schema.maxLength(100))
const SessionIdText = Schema.String.pipe(Schema.maxLength(100))

export const CodeRequest = Schema.Struct({ phone: Schema.String.pipe(Schema.maxLength(32)) })
export const CodeSent = Schema.Struct({ challengeId: Schema.String, purpose: Schema.Literal("register", "identify") })
export const CodeAnswer = Schema.Struct({ code: Schema.String.pipe(Schema.maxLength(16)) })
export const KioskSession = Schema.Struct({ sessionId: Schema.String, userId: UserId, balancePoints: Schema.Int, newlyRegistered: Schema.Boolean })

export const CatalogOffer = Schema.Struct({
  offerId: OfferId,
  merchantId: MerchantId,
  title: Schema.String,
  pricePoints: Schema.Int,
  stock: Schema.Int,
  validUntilMs: Schema.Int
})
export const CatalogView = Schema.Struct({ version: Schema.Int, offers: Schema.Array(CatalogOffer) })

export const OrderBody = Schema.Struct({
  orderId: OrderId,
  sessionId: SessionIdText,
  offerId: OfferId,
  quantity: Schema.Int.pipe(Schema.between(1, QUANTITY_MAX)),
  catalogVersion: Schema.Int.pipe(Schema.nonNegative()),
  medium: Medium
})
export const DispenseBody = Schema.Struct({ cardUid: CardUid })
export const DeliverBody = Schema.Struct({ medium: DeliveredMedium })
export const AbortBody = Schema.Struct({
  reason: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(ABORT_REASON_LENGTH_MAX)),
  retainedCardUid: Schema.optional(CardUid)
})
export const CardReturnBody = Schema.Struct({ cardUid: CardUid })

const TEXT_MAX = 100
export const ReportedStateBody = Schema.Struct({
  deviceStatus: Schema.String.pipe(Schema.maxLength(TEXT_MAX)),
  stackerLevel: Schema.Literal("empty", "low", "ok"),
  /** Null where the unit only senses a level (a CRT-591). */
  stackerCount: Schema.NullOr(Schema.Int.pipe(Schema.between(0, 1_000_000))),
  /** -1 when the kiosk could not ask its unit. */
  binCount: Schema.Int.pipe(Schema.between(-1, 1_000_000)),
  unidentifiedCaptures: Schema.Int.pipe(Schema.between(0, 1_000_000)),
  printerStatus: Schema.String.pipe(Schema.maxLength(TEXT_MAX)),
  softwareVersion: Schema.String.pipe(Schema.maxLength(TEXT_MAX)),
  /** What the kiosk has put into effect of the desired state; absent, the server takes its last answer as applied. */
  applied: Schema.optional(Schema.Struct({ desiredVersion: Schema.Int.pipe(Schema.between(0, Number.MAX_SAFE_INTEGER)), enabled: Schema.Boolean }))
})
export const DesiredStateView = Schema.Struct({ version: Schema.Int, enabled: Schema.Boolean, catalogVersion: Schema.Int })

const orderPath = Schema.Struct({ orderId: OrderId })

export class KiosksApi extends HttpApiGroup.make("kiosks")
  .add(HttpApiEndpoint.post("requestCode", "/codes").setPayload(CodeRequest).addSuccess(CodeSent))
  .add(HttpApiEndpoint.post("verifyCode", "/codes/:challengeId/verify").setPath(Schema.Struct({ challengeId: ChallengeIdText })).setPayload(CodeAnswer).addSuccess(KioskSession))
  .add(HttpApiEndpoint.del("endSession", "/sessions/:sessionId").setPath(Schema.Struct({ sessionId: SessionIdText })).addSuccess(HttpApiSchema.NoContent))
  .add(HttpApiEndpoint.get("catalog", "/catalog").addSuccess(CatalogView))
  .add(HttpApiEndpoint.post("place", "/orders").setPayload(OrderBody).addSuccess(Placement))
  .add(HttpApiEndpoint.get("order", "/orders/:orderId").setPath(orderPath).addSuccess(Order))
  .add(HttpApiEndpoint.post("beginDispense", "/orders/:orderId/dispense").setPath(orderPath).setPayload(DispenseBody).addSuccess(HttpApiSchema.NoContent))
  .add(HttpApiEndpoint.post("deliver", "/orders/:orderId/deliver").setPath(orderPath).setPayload(DeliverBody).addSuccess(Delivery))
  .add(HttpApiEndpoint.post("abort", "/orders/:orderId/abort").setPath(orderPath).setPayload(AbortBody).addSuccess(Abortion))
  .add(HttpApiEndpoint.post("returnCard", "/card-returns").setPayload(CardReturnBody).addSuccess(CardReturn))
  .add(HttpApiEndpoint.put("reportState", "/state").setPayload(ReportedStateBody).addSuccess(DesiredStateView))
  .add(
    HttpApiEndpoint.get("events", "/events")
      .setHeaders(Schema.Struct({ "last-event-id": Schema.optional(Schema.String.pipe(Schema.maxLength(64))) }))
      .addSuccess(Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/event-stream" })))
      .annotate(
        OpenApi.Description,
        "Server-sent events for this kiosk (adapters/server/kiosk-events.ts): `catalog` (its region's catalog changes), `desired` (its desired state changed), `refetch` (read catalog and twin again), `ready` once caught up, `heartbeat` every 15 s. Ids are `<catalogVersion>.<desiredVersion>`: send the last one as `Last-Event-ID` to resume"
      )
  )
  .middleware(KioskAuth)
  .prefix("/v1/kiosk")
  .annotate(OpenApi.Description, "What a kiosk asks of the management server: one-time codes, sessions, the catalog, orders, card returns, its twin state")
{}
