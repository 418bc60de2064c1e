import { Schema } from "effect"
import { CardUid, CouponCode, CouponId, KioskId, MerchantId, OfferId, OrderId, UserId } from "./ids.js"
import { DbBool, DbInt } from "./points.js"
import { SessionId } from "./user.js"

/**
 * An order buys one offer, times a quantity, with points (DESIGN §4). The kiosk makes the order id and
 * it is the idempotency key of the whole order: place, then exactly one of deliver or abort.
 */
export const OrderState = Schema.Literal("placed", "delivered", "aborted")
export type OrderState = typeof OrderState.Type

/** How the coupon reaches the customer. */
export const Medium = Schema.Literal("card", "paper", "phone")
export type Medium = typeof Medium.Type

/** What the kiosk says it handed over: the card it wrote (by UID), a printed page, or the phone. */
export const DeliveredMedium = Schema.Union(
  Schema.TaggedStruct("card", { cardUid: CardUid }),
  Schema.TaggedStruct("paper", {}),
  Schema.TaggedStruct("phone", {})
)
export type DeliveredMedium = typeof DeliveredMedium.Type

export const QUANTITY_MAX = 100
export const ABORT_REASON_LENGTH_MAX = 200

/** Who orders: a user id (operator tools, simulator) or the kiosk session that identified them. */
export const OrderCustomer = Schema.Union(
  Schema.TaggedStruct("user", { userId: UserId }),
  Schema.TaggedStruct("session", { sessionId: SessionId })
)
export type OrderCustomer = typeof OrderCustomer.Type

export class PlaceOrder extends Schema.Class<PlaceOrder>("PlaceOrder")({
  orderId: OrderId,
  kioskId: KioskId,
  customer: OrderCustomer,
  offerId: OfferId,
  quantity: Schema.Int.pipe(Schema.between(1, QUANTITY_MAX)),
  /** The region catalog version the kiosk showed the offer at. */
  catalogVersion: Schema.Int.pipe(Schema.nonNegative()),
  medium: Medium
}) {}

export class DeliverOrder extends Schema.Class<DeliverOrder>("DeliverOrder")({
  orderId: OrderId,
  medium: DeliveredMedium
}) {}

export class AbortOrder extends Schema.Class<AbortOrder>("AbortOrder")({
  orderId: OrderId,
  reason: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(ABORT_REASON_LENGTH_MAX)),
  /** The card the kiosk captured after a failed hand-over, if any: it is retained with the abort. */
  retainedCardUid: Schema.optional(CardUid)
}) {}

/** What `place` answers, the same on every replay. */
export class Placement extends Schema.Class<Placement>("Placement")({
  orderId: OrderId,
  couponId: CouponId,
  couponCode: CouponCode,
  merchantId: MerchantId,
  offerId: OfferId,
  quantity: Schema.Int,
  unitPricePoints: Schema.Int,
  amountPoints: Schema.Int,
  medium: Medium,
  placedAtMs: Schema.Int
}) {}

/** What `deliver` answers, the same on every replay. */
export class Delivery extends Schema.Class<Delivery>("Delivery")({
  orderId: OrderId,
  couponId: CouponId,
  couponCode: CouponCode,
  valuePoints: Schema.Int,
  medium: Medium,
  cardUid: Schema.NullOr(CardUid),
  /** When the card must be back at a kiosk to avoid the deposit charge; null off card. */
  cardDeadlineMs: Schema.NullOr(Schema.Int),
  issuedAtMs: Schema.Int,
  expiresAtMs: Schema.Int
}) {}

/** What `abort` answers, the same on every replay. */
export class Abortion extends Schema.Class<Abortion>("Abortion")({
  orderId: OrderId,
  couponId: CouponId,
  reason: Schema.String,
  retainedCardUid: Schema.NullOr(CardUid),
  abortedAtMs: Schema.Int
}) {}

/** The `provider_order` outbox payload: the delivered order's content for the merchant's server. */
export const ProviderOrderPayload = Schema.Struct({
  merchantId: MerchantId,
  orderId: OrderId,
  offerId: OfferId,
  couponCode: CouponCode,
  quantity: Schema.Int,
  amount: Schema.Int,
  deliveredAtMs: Schema.Int
})
export type ProviderOrderPayload = typeof ProviderOrderPayload.Type

/** An order as it stands, for a kiosk reconciling after a restart and for operators. */
export class Order extends Schema.Class<Order>("Order")({
  id: OrderId,
  kioskId: KioskId,
  userId: UserId,
  merchantId: MerchantId,
  offerId: OfferId,
  quantity: Schema.Int,
  unitPricePoints: Schema.Int,
  amountPoints: Schema.Int,
  catalogVersion: Schema.Int,
  medium: Medium,
  state: OrderState,
  abortReason: Schema.NullOr(Schema.String),
  /** Set when the server voided the order because the kiosk never resolved it. */
  flagged: Schema.Boolean,
  placedAtMs: Schema.Int,
  resolvedAtMs: Schema.NullOr(Schema.Int),
  couponId: CouponId,
  couponCode: CouponCode,
  couponState: Schema.String
}) {}

/** An order row joined with its coupon's id, code and state. */
export const OrderRow = Schema.Struct({
  id: OrderId,
  kiosk_id: KioskId,
  user_id: UserId,
  merchant_id: MerchantId,
  offer_id: OfferId,
  quantity: DbInt,
  unit_price_points: DbInt,
  amount: DbInt,
  catalog_version: DbInt,
  medium: Medium,
  state: OrderState,
  abort_reason: Schema.NullOr(Schema.String),
  request_key: Schema.String,
  resolution_key: Schema.NullOr(Schema.String),
  flagged: DbBool,
  placed_at_ms: DbInt,
  resolved_at_ms: Schema.NullOr(DbInt),
  coupon_id: CouponId,
  coupon_code: CouponCode,
  coupon_state: Schema.String
})
export type OrderRow = typeof OrderRow.Type

export const orderFromRow = (row: OrderRow): Order =>
  new Order({
    id: row.id,
    kioskId: row.kiosk_id,
    userId: row.user_id,
    merchantId: row.merchant_id,
    offerId: row.offer_id,
    quantity: row.quantity,
    unitPricePoints: row.unit_price_points,
    amountPoints: row.amount,
    catalogVersion: row.catalog_version,
    medium: row.medium,
    state: row.state,
    abortReason: row.abort_reason,
    flagged: row.flagged,
    placedAtMs: row.placed_at_ms,
    resolvedAtMs: row.resolved_at_ms,
    couponId: row.coupon_id,
    couponCode: row.coupon_code,
    couponState: row.coupon_state
  }, true)

/** The offer as it stands now, carried by a refusal so the kiosk can show the customer the truth. */
export class CurrentOffer extends Schema.Class<CurrentOffer>("CurrentOffer")({
  offerId: OfferId,
  merchantId: MerchantId,
  title: Schema.String,
  pricePoints: Schema.Int,
  stock: Schema.Int,
  validFromMs: Schema.Int,
  validUntilMs: Schema.Int,
  status: Schema.String
}) {}

// --- errors ----------------------------------------------------------------------------------------

export class OrderNotFound extends Schema.TaggedError<OrderNotFound>()("OrderNotFound", { orderId: Schema.String }) {
  override get message() {
    return `no order ${this.orderId}; place it first (a kiosk that lost track of it can treat it as never placed)`
  }
}

/** The order id was used with another request body: a replay must repeat the first request exactly. */
export class OrderConflict extends Schema.TaggedError<OrderConflict>()("OrderConflict", {
  orderId: Schema.String,
  operation: Schema.Literal("place", "deliver", "abort"),
  difference: Schema.String
}) {
  override get message() {
    return `order ${this.orderId} was already ${this.operation === "place" ? "placed" : this.operation === "deliver" ? "delivered" : "aborted"} with a different request (${this.difference}); repeat the first request to replay it, or use a new order id`
  }
}

export class OrderAlreadyAborted extends Schema.TaggedError<OrderAlreadyAborted>()("OrderAlreadyAborted", {
  orderId: Schema.String,
  reason: Schema.NullOr(Schema.String),
  flagged: Schema.Boolean
}) {
  override get message() {
    const by = this.flagged ? "by the server after the kiosk left it unresolved too long" : `(${this.reason ?? "no reason"})`
    return `order ${this.orderId} was aborted ${by}; its points went back to the customer, so it cannot be delivered: take back the card or page and place a new order`
  }
}

export class OrderAlreadyDelivered extends Schema.TaggedError<OrderAlreadyDelivered>()("OrderAlreadyDelivered", { orderId: Schema.String }) {
  override get message() {
    return `order ${this.orderId} was already delivered and its coupon is live; it cannot be aborted (a refund is a redemption rollback or a card return)`
  }
}

export class KioskNotAvailable extends Schema.TaggedError<KioskNotAvailable>()("KioskNotAvailable", {
  kioskId: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `kiosk ${this.kioskId} cannot take orders (${this.reason}); an operator must enable it`
  }
}

export class OfferNotAvailable extends Schema.TaggedError<OfferNotAvailable>()("OfferNotAvailable", {
  offerId: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `offer ${this.offerId} cannot be ordered here (${this.reason}); refresh the catalog and choose another offer`
  }
}

/**
 * The kiosk showed the offer at an older catalog version than the one it changed at: the customer
 * must see the current price and stock before buying.
 */
export class StaleCatalog extends Schema.TaggedError<StaleCatalog>()("StaleCatalog", {
  offerId: Schema.String,
  kioskVersion: Schema.Int,
  currentVersion: Schema.Int,
  offer: CurrentOffer
}) {
  override get message() {
    return `offer ${this.offerId} changed since catalog version ${this.kioskVersion} (now ${this.currentVersion}: ${this.offer.pricePoints} points, ${this.offer.stock} left); show the customer the current offer and order again with version ${this.currentVersion}`
  }
}

export class OutOfStock extends Schema.TaggedError<OutOfStock>()("OutOfStock", {
  offerId: Schema.String,
  stock: Schema.Int,
  requested: Schema.Int
}) {
  override get message() {
    return this.stock === 0
      ? `offer ${this.offerId} is sold out; choose another offer`
      : `offer ${this.offerId} has ${this.stock} left, fewer than the ${this.requested} asked for; order at most ${this.stock}`
  }
}

export class InsufficientPoints extends Schema.TaggedError<InsufficientPoints>()("InsufficientPoints", {
  userId: Schema.String,
  availablePoints: Schema.Int,
  requiredPoints: Schema.Int
}) {
  override get message() {
    return `the customer has ${this.availablePoints} points available and the order costs ${this.requiredPoints}; choose a smaller quantity or a cheaper offer`
  }
}

export class MediumMismatch extends Schema.TaggedError<MediumMismatch>()("MediumMismatch", {
  orderId: Schema.String,
  placed: Medium,
  delivered: Medium
}) {
  override get message() {
    return `order ${this.orderId} was placed for delivery on ${this.placed}, not ${this.delivered}; deliver on ${this.placed}, or abort it and place a new order`
  }
}
