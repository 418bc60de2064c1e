import { SqlClient } from "@effect/sql"
import { Effect, Option, Schema, Struct } from "effect"
import { CardUid, type MerchantId, type OfferId, type OrderId, type RegionId } from "./domain/ids.js"
import { OfferRow as CatalogOfferRow } from "./domain/catalog.js"
import { CardRow } from "./domain/card.js"
import { CouponRow } from "./domain/coupon.js"
import { Abortion, CurrentOffer, type DeliveredMedium, Delivery, OrderRow, type PlaceOrder, Placement } from "./domain/order.js"
import { SessionAtOtherKiosk, SessionEnded, SessionNotFound, SessionRow, UserNotFound } from "./domain/user.js"
import { DbInt } from "./domain/points.js"
import { firstRow } from "./rows.js"

/**
 * The SQL and the request keys behind `Orders`. Every function joins the caller's transaction; SQL
 * errors are defects here, at the repository edge.
 */

/**
 * The offer as an order reads it: the catalog's offer row without its version, with the merchant's
 * status. Both statuses stay plain text: an order refuses anything but an active offer of a registered
 * merchant, and names what it found.
 */
export const OfferRow = Schema.Struct({
  ...Struct.omit(CatalogOfferRow.fields, "version", "updated_at_ms"),
  status: Schema.String,
  merchant_status: Schema.String
})
export type OfferRow = typeof OfferRow.Type

export const currentOffer = (offer: OfferRow): CurrentOffer =>
  new CurrentOffer({
    offerId: offer.id,
    merchantId: offer.merchant_id,
    title: offer.title,
    pricePoints: offer.price_points,
    stock: offer.stock,
    validFromMs: offer.valid_from_ms,
    validUntilMs: offer.valid_until_ms,
    status: offer.status
  })

/** The canonical body of a place request: the same request always gives the same text. */
export const placeKey = (request: PlaceOrder): string =>
  JSON.stringify({
    kioskId: request.kioskId,
    customer: request.customer._tag === "user" ? `user:${request.customer.userId}` : `session:${request.customer.sessionId}`,
    offerId: request.offerId,
    quantity: request.quantity,
    catalogVersion: request.catalogVersion,
    medium: request.medium
  })

/** The canonical body of a deliver or abort: what resolved the order. */
export const ResolutionKey = Schema.Union(
  Schema.Struct({ op: Schema.Literal("deliver"), medium: Schema.String, cardUid: Schema.NullOr(CardUid) }),
  Schema.Struct({ op: Schema.Literal("abort"), reason: Schema.String, retainedCardUid: Schema.NullOr(CardUid), by: Schema.Literal("kiosk", "server") })
)
export type ResolutionKey = typeof ResolutionKey.Type

export const deliverKey = (medium: DeliveredMedium): string =>
  JSON.stringify({ op: "deliver", medium: medium._tag, cardUid: medium._tag === "card" ? medium.cardUid : null })

export const abortKey = (reason: string, retainedCardUid: CardUid | null, by: "kiosk" | "server"): string =>
  JSON.stringify({ op: "abort", reason, retainedCardUid, by })

export const parseResolution = Schema.decodeUnknownOption(Schema.parseJson(ResolutionKey))

/** Which fields of two canonical bodies differ, for the conflict's message. */
export const keyDifference = (stored: string | null, requested: string): string => {
  const parse = (text: string | null): Record<string, unknown> => {
    if (text === null) return {}
    const value: unknown = JSON.parse(text)
    return typeof value === "object" && value !== null ? Object.fromEntries(Object.entries(value)) : {}
  }
  const a = parse(stored)
  const b = parse(requested)
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])]
  return fields
    .filter((field) => JSON.stringify(a[field]) !== JSON.stringify(b[field]))
    .map((field) => `${field} ${JSON.stringify(a[field]) ?? "none"} vs ${JSON.stringify(b[field]) ?? "none"}`)
    .join(", ")
}

const firstOrder = firstRow(OrderRow)
const firstOffer = firstRow(OfferRow)
const firstCatalogVersion = firstRow(Schema.Struct({ catalog_version: DbInt }))
const firstOfferVersion = firstRow(Schema.Struct({ version: Schema.NullOr(DbInt) }))
const decodeSessions = Schema.decodeUnknown(Schema.Array(SessionRow))

export const makeOrdersRepo = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const orderSelect = sql`
    SELECT o.*, c.id AS coupon_id, c.code AS coupon_code, c.state AS coupon_state
    FROM orders o JOIN coupons c ON c.order_id = o.id`

  const findOrder = (id: OrderId) => sql`${orderSelect} WHERE o.id = ${id}`.pipe(Effect.orDie, Effect.flatMap(firstOrder))

  /** Reads the order and (on PostgreSQL) holds its row, so deliver, abort and the sweep take turns. */
  const lockOrder = (id: OrderId) =>
    Effect.gen(function* () {
      const locked = yield* sql`UPDATE orders SET state = state WHERE id = ${id} RETURNING id`.pipe(Effect.orDie)
      return locked.length === 0 ? Option.none() : yield* findOrder(id)
    })

  const findOffer = (id: OfferId) =>
    sql`
      SELECT f.id, f.merchant_id, f.title, f.price_points, f.stock, f.valid_from_ms, f.valid_until_ms, f.coupon_validity_ms,
        f.status, m.status AS merchant_status
      FROM offers f JOIN merchants m ON m.id = f.merchant_id
      WHERE f.id = ${id}`.pipe(Effect.orDie, Effect.flatMap(firstOffer))

  const soldIn = (offerId: OfferId, regionId: RegionId) =>
    sql`SELECT offer_id FROM offer_regions WHERE offer_id = ${offerId} AND region_id = ${regionId}`.pipe(
      Effect.orDie,
      Effect.map((rows) => rows.length > 0)
    )

  /**
   * The region's catalog version now, and the newest version at which this offer (or its merchant, for
   * a suspension) changed in the region: a kiosk that saw an older version saw an outdated offer.
   */
  const catalogVersions = (regionId: RegionId, offerId: OfferId, merchantId: MerchantId) =>
    Effect.gen(function* () {
      const region = yield* sql`SELECT catalog_version FROM regions WHERE id = ${regionId}`.pipe(
        Effect.orDie,
        Effect.flatMap(firstCatalogVersion)
      )
      const changed = yield* sql`
        SELECT MAX(version) AS version FROM (
          SELECT MAX(version) AS version FROM catalog_changes WHERE region_id = ${regionId} AND offer_id = ${offerId}
          UNION ALL
          SELECT MAX(version) AS version FROM catalog_changes WHERE region_id = ${regionId} AND offer_id IS NULL AND merchant_id = ${merchantId}
        ) AS latest`.pipe(
        Effect.orDie,
        Effect.flatMap(firstOfferVersion)
      )
      return {
        current: Option.match(region, { onNone: () => 0, onSome: (row) => row.catalog_version }),
        offerChanged: Option.match(changed, { onNone: () => 0, onSome: (row) => row.version ?? 0 })
      }
    })

  /** Takes `quantity` from the stock only if that much is there: concurrent orders cannot oversell. */
  const takeStock = (offerId: OfferId, quantity: number) =>
    sql`UPDATE offers SET stock = stock - ${quantity} WHERE id = ${offerId} AND stock >= ${quantity} RETURNING stock`.pipe(
      Effect.orDie,
      Effect.map((rows) => rows.length > 0)
    )

  const giveBackStock = (offerId: OfferId, quantity: number) =>
    sql`UPDATE offers SET stock = stock + ${quantity} WHERE id = ${offerId}`.pipe(Effect.orDie, Effect.asVoid)

  // --- the answers of place, deliver and abort, rebuilt from what they wrote ---------------------

  const decodeCoupon = Schema.decodeUnknown(Schema.Array(CouponRow))
  const decodeCard = Schema.decodeUnknown(Schema.Array(CardRow))

  const placementOf = (row: OrderRow) =>
    new Placement({
      orderId: row.id,
      couponId: row.coupon_id,
      couponCode: row.coupon_code,
      merchantId: row.merchant_id,
      offerId: row.offer_id,
      quantity: row.quantity,
      unitPricePoints: row.unit_price_points,
      amountPoints: row.amount,
      medium: row.medium,
      placedAtMs: row.placed_at_ms
    })

  const couponOf = (row: OrderRow) =>
    sql`SELECT * FROM coupons WHERE id = ${row.coupon_id}`.pipe(
      Effect.flatMap(decodeCoupon),
      Effect.orDie,
      Effect.flatMap((rows) => (rows[0] === undefined ? Effect.dieMessage(`order ${row.id} has no coupon`) : Effect.succeed(rows[0])))
    )

  const deliveryOf = (row: OrderRow) =>
    Effect.gen(function* () {
      const coupon = yield* couponOf(row)
      const card = coupon.card_uid === null
        ? []
        : yield* sql`SELECT * FROM cards WHERE uid = ${coupon.card_uid}`.pipe(Effect.flatMap(decodeCard), Effect.orDie)
      return new Delivery({
        orderId: row.id,
        couponId: coupon.id,
        couponCode: coupon.code,
        valuePoints: coupon.value_points,
        medium: coupon.medium,
        cardUid: coupon.card_uid,
        cardDeadlineMs: card[0]?.deadline_ms ?? null,
        issuedAtMs: coupon.issued_at_ms,
        expiresAtMs: coupon.expires_at_ms
      })
    })

  const abortionOf = (row: OrderRow) => {
    const resolution = Option.flatMap(Option.fromNullable(row.resolution_key), parseResolution)
    const retained = Option.isSome(resolution) && resolution.value.op === "abort" ? resolution.value.retainedCardUid : null
    return new Abortion({ orderId: row.id, couponId: row.coupon_id, reason: row.abort_reason ?? "", retainedCardUid: retained, abortedAtMs: row.resolved_at_ms ?? row.placed_at_ms })
  }

  const resolveCustomer = (request: PlaceOrder, nowMs: number) =>
    Effect.gen(function* () {
      const customer = request.customer
      if (customer._tag === "user") {
        const found = yield* sql`SELECT id FROM users WHERE id = ${customer.userId}`.pipe(Effect.orDie)
        if (found.length === 0) return yield* new UserNotFound({ userId: customer.userId })
        return customer.userId
      }
      const { sessionId } = customer
      const rows = yield* sql`SELECT * FROM sessions WHERE id = ${sessionId}`.pipe(Effect.flatMap(decodeSessions), Effect.orDie)
      const session = rows[0]
      if (session === undefined) return yield* new SessionNotFound({ sessionId })
      if (session.ended_at_ms !== null) return yield* new SessionEnded({ sessionId, reason: "ended" })
      if (session.expires_at_ms <= nowMs) return yield* new SessionEnded({ sessionId, reason: "expired" })
      if (session.kiosk_id !== null && session.kiosk_id !== request.kioskId) {
        return yield* new SessionAtOtherKiosk({ sessionId, kioskId: session.kiosk_id })
      }
      return session.user_id
    })

  return {
    sql,
    findOrder,
    lockOrder,
    findOffer,
    soldIn,
    catalogVersions,
    takeStock,
    giveBackStock,
    placementOf,
    couponOf,
    deliveryOf,
    abortionOf,
    resolveCustomer
  } as const
})
