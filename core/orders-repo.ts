import { SqlClient } from "@effect/sql"
import { Effect, Option, Schema, Struct } from "effect"
import { CardUid, CouponCode, CouponId, type KioskId, type OfferId, type OrderId, PhoneNumber, RegionId, type UserId } from "./domain/ids.js"
import { OfferRow as CatalogOfferRow } from "./domain/catalog.js"
import { CardRow } from "./domain/card.js"
import { CouponRow } from "./domain/coupon.js"
import { Abortion, CurrentOffer, type DeliveredMedium, Delivery, type Medium, OrderRow, type PlaceOrder, Placement } from "./domain/order.js"
import { SessionAtOtherKiosk, SessionEnded, SessionNotFound, SessionRow, UserNotFound } from "./domain/user.js"
import { DbInt } from "./domain/points.js"
import { allRows, firstRow, query, rowsThen } from "./rows.js"

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
const firstClaimedOrder = firstRow(Schema.Struct({
  ...Struct.omit(OrderRow.fields, "coupon_id", "coupon_code", "coupon_state"),
  kiosk_desired_json: Schema.NullOr(Schema.String),
  phone: Schema.optional(Schema.NullOr(PhoneNumber))
}))
const activatedCouponRows = rowsThen(Schema.Struct({ id: CouponId, code: CouponCode, value_points: DbInt, issued_at_ms: DbInt, expires_at_ms: DbInt }))
/** The coupon an order's delivery activated; a defect when its rows do not decode or there is none. */
const activatedCoupon = (orderId: OrderId) => (rows: ReadonlyArray<unknown>) =>
  activatedCouponRows(rows, (decoded) => (decoded[0] === undefined ? Effect.dieMessage(`order ${orderId} has no coupon`) : Effect.succeed(decoded[0])))
const OfferForOrderRow = Schema.Struct({
  ...OfferRow.fields,
  sold_in: DbInt,
  region_version: Schema.NullOr(DbInt),
  offer_version: Schema.NullOr(DbInt),
  merchant_version: Schema.NullOr(DbInt)
})
const offerForOrderRows = rowsThen(OfferForOrderRow)
const sessionRows = allRows(SessionRow)
const firstSessionPlaced = firstRow(Schema.Struct({
  ...SessionRow.fields,
  placed: DbInt,
  kiosk_region_id: Schema.NullOr(RegionId),
  kiosk_desired_json: Schema.NullOr(Schema.String)
}))
type SessionRow = typeof SessionRow.Type

export const makeOrdersRepo = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const orderSelect = sql`
    SELECT o.*, c.id AS coupon_id, c.code AS coupon_code, c.state AS coupon_state
    FROM orders o JOIN coupons c ON c.order_id = o.id`

  const findOrder = (id: OrderId) => query(sql`${orderSelect} WHERE o.id = ${id}`, firstOrder)

  // PostgreSQL holds the order's row to the end of the transaction; SQLite has a single writer, and a
  // read inside a write transaction is already in turn.
  const forUpdate = sql.onDialectOrElse({ pg: () => sql`FOR UPDATE OF o`, orElse: () => sql`` })

  /** Reads the order and (on PostgreSQL) holds its row, so deliver, abort and the sweep take turns. One statement. */
  const lockOrder = (id: OrderId) => query(sql`${orderSelect} WHERE o.id = ${id} ${forUpdate}`, firstOrder)

  /**
   * Delivers a placed order of this medium in one statement, answering its row with its kiosk's twin
   * desired state (its card return deadline) and, for the phone, the customer's number. No row when
   * the order is not there, not placed, or of another medium: `lockOrderForDelivery` then says which.
   * On PostgreSQL the UPDATE holds the row as `FOR UPDATE` would. The caller's transaction rolls it
   * back if what follows refuses.
   */
  const claimForDelivery = (id: OrderId, medium: Medium, resolutionKey: string, nowMs: number) =>
    query(sql`
      UPDATE orders SET state = 'delivered', resolution_key = ${resolutionKey}, resolved_at_ms = ${nowMs}
      WHERE id = ${id} AND state = 'placed' AND medium = ${medium}
      RETURNING *, (SELECT desired_json FROM kiosk_twins WHERE kiosk_id = orders.kiosk_id) AS kiosk_desired_json
        ${medium === "phone" ? sql`, (SELECT phone FROM users WHERE id = orders.user_id) AS phone` : sql``}`, firstClaimedOrder)

  /**
   * Makes a delivered order's coupon active from now, with the validity it was placed with, in one
   * statement; answers what the delivery tells the kiosk.
   */
  const activateCoupon = (orderId: OrderId, cardUid: CardUid | null, nowMs: number) =>
    query(sql`
      UPDATE coupons SET state = 'active', card_uid = ${cardUid}, issued_at_ms = ${nowMs}, expires_at_ms = ${nowMs} + (expires_at_ms - issued_at_ms)
      WHERE order_id = ${orderId}
      RETURNING id, code, value_points, issued_at_ms, expires_at_ms`, activatedCoupon(orderId))

  const checksOf = (row: typeof OfferForOrderRow.Type) => ({
    offer: row,
    soldIn: row.sold_in > 0,
    versions: { current: row.region_version ?? 0, offerChanged: Math.max(row.offer_version ?? 0, row.merchant_version ?? 0) }
  })
  /** The offer row with what an order checks of it, if there is one; a defect when the rows do not decode. */
  const firstOfferForOrder = (rows: ReadonlyArray<unknown>) =>
    offerForOrderRows(rows, (decoded) => Effect.succeed(decoded[0] === undefined ? Option.none() : Option.some(checksOf(decoded[0]))))

  /**
   * What an order checks of its offer, as columns of one statement: the merchant's status, whether it
   * is sold in the region, the region's catalog version now, and the newest version at which the
   * offer (or its merchant, for a suspension) changed in the region. A kiosk that saw an older
   * version saw an outdated offer.
   */
  const offerChecks = (regionId: RegionId) => sql`
    (SELECT status FROM merchants WHERE id = offers.merchant_id) AS merchant_status,
    (SELECT COUNT(*) FROM offer_regions WHERE offer_id = offers.id AND region_id = ${regionId}) AS sold_in,
    (SELECT catalog_version FROM regions WHERE id = ${regionId}) AS region_version,
    (SELECT MAX(version) FROM catalog_changes WHERE region_id = ${regionId} AND offer_id = offers.id) AS offer_version,
    (SELECT MAX(version) FROM catalog_changes WHERE region_id = ${regionId} AND offer_id IS NULL AND merchant_id = offers.merchant_id) AS merchant_version`

  /** The offer with what an order checks of it (`offerChecks`), in one statement. */
  const offerForOrder = (id: OfferId, regionId: RegionId) =>
    query(sql`
      SELECT offers.id, offers.merchant_id, offers.title, offers.price_points, offers.stock, offers.valid_from_ms,
        offers.valid_until_ms, offers.coupon_validity_ms, offers.status, ${offerChecks(regionId)}
      FROM offers WHERE offers.id = ${id}`, firstOfferForOrder)

  /**
   * Takes `quantity` from the stock if that much is there and answers the offer as it was, with what an
   * order checks of it, in one statement. The caller checks afterwards and fails (rolling the take
   * back) if the order may not have it; when nothing was taken, `offerForOrder` says why.
   */
  const takeStockForOrder = (id: OfferId, regionId: RegionId, quantity: number) =>
    query(sql`
      UPDATE offers SET stock = stock - ${quantity} WHERE id = ${id} AND stock >= ${quantity}
      RETURNING offers.id, offers.merchant_id, offers.title, offers.price_points, offers.stock + ${quantity} AS stock,
        offers.valid_from_ms, offers.valid_until_ms, offers.coupon_validity_ms, offers.status, ${offerChecks(regionId)}`, firstOfferForOrder)

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
    }, true)

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
      }, true)
    })

  const abortionOf = (row: OrderRow) => {
    const resolution = Option.flatMap(Option.fromNullable(row.resolution_key), parseResolution)
    const retained = Option.isSome(resolution) && resolution.value.op === "abort" ? resolution.value.retainedCardUid : null
    return new Abortion({ orderId: row.id, couponId: row.coupon_id, reason: row.abort_reason ?? "", retainedCardUid: retained, abortedAtMs: row.resolved_at_ms ?? row.placed_at_ms })
  }

  /**
   * The session an order names, whether the order exists already (a replay), and the ordering kiosk's
   * region and twin's desired state (its terms; the region null when there is no such kiosk), in one
   * statement. No row when the session does not exist; the rest is then asked apart.
   */
  const sessionUnlessPlaced = (sessionId: SessionRow["id"], orderId: OrderId, kioskId: KioskId) =>
    query(sql`
      SELECT s.*, (SELECT COUNT(*) FROM orders WHERE id = ${orderId}) AS placed,
        (SELECT region_id FROM kiosks WHERE id = ${kioskId}) AS kiosk_region_id,
        (SELECT desired_json FROM kiosk_twins WHERE kiosk_id = ${kioskId}) AS kiosk_desired_json
      FROM sessions s WHERE s.id = ${sessionId}`, firstSessionPlaced)

  /** Who orders: the user named, or the owner of the live session at this kiosk (read already, or now). */
  const resolveCustomer = (
    request: PlaceOrder,
    nowMs: number,
    sessionRead?: Option.Option<SessionRow>
  ): Effect.Effect<UserId, UserNotFound | SessionNotFound | SessionEnded | SessionAtOtherKiosk> => {
    const customer = request.customer
    if (customer._tag === "user") {
      return Effect.flatMap(sql`SELECT id FROM users WHERE id = ${customer.userId}`.pipe(Effect.orDie), (found) =>
        found.length === 0 ? Effect.fail(new UserNotFound({ userId: customer.userId })) : Effect.succeed(customer.userId))
    }
    const { sessionId } = customer
    const ownerOf = (session: SessionRow | undefined): Effect.Effect<UserId, SessionNotFound | SessionEnded | SessionAtOtherKiosk> => {
      if (session === undefined) return Effect.fail(new SessionNotFound({ sessionId }))
      if (session.ended_at_ms !== null) return Effect.fail(new SessionEnded({ sessionId, reason: "ended" }))
      if (session.expires_at_ms <= nowMs) return Effect.fail(new SessionEnded({ sessionId, reason: "expired" }))
      if (session.kiosk_id !== null && session.kiosk_id !== request.kioskId) {
        return Effect.fail(new SessionAtOtherKiosk({ sessionId, kioskId: session.kiosk_id }))
      }
      return Effect.succeed(session.user_id)
    }
    // The session read with the order's first statement (the usual case) needs no effect of its own.
    return sessionRead !== undefined
      ? ownerOf(Option.getOrUndefined(sessionRead))
      : Effect.flatMap(query(sql`SELECT * FROM sessions WHERE id = ${sessionId}`, sessionRows), (rows) => ownerOf(rows[0]))
  }

  return {
    sql,
    findOrder,
    lockOrder,
    claimForDelivery,
    activateCoupon,
    offerForOrder,
    takeStockForOrder,
    giveBackStock,
    placementOf,
    deliveryOf,
    abortionOf,
    resolveCustomer,
    sessionUnlessPlaced
  } as const
})
