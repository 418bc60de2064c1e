import { Schema } from "effect"
import { CardUid, CouponCode, CouponId, MerchantId, OfferId, OrderId, RegionId, UserId } from "./ids.js"
import { DbInt } from "./points.js"
import { Medium } from "./order.js"

/**
 * A coupon holds the value of one order (DESIGN §4); what is left of it is the balance of its ledger
 * account `coupon:<id>`. reserved (placed) -> active (delivered) -> used (balance 0) | expired |
 * returned (its card came back) | forfeited (its card was not returned); reserved -> void (aborted).
 */
export const CouponState = Schema.Literal("reserved", "active", "used", "expired", "void", "returned", "forfeited")
export type CouponState = typeof CouponState.Type

export class Coupon extends Schema.Class<Coupon>("Coupon")({
  id: CouponId,
  code: CouponCode,
  orderId: OrderId,
  userId: UserId,
  merchantId: MerchantId,
  offerId: OfferId,
  regionId: RegionId,
  valuePoints: Schema.Int,
  /** What may still be redeemed: the coupon account's posted balance. */
  balancePoints: Schema.Int,
  state: CouponState,
  medium: Medium,
  cardUid: Schema.NullOr(CardUid),
  issuedAtMs: Schema.Int,
  expiresAtMs: Schema.Int,
  closedAtMs: Schema.NullOr(Schema.Int)
}) {}

export const CouponRow = Schema.Struct({
  id: CouponId,
  code: CouponCode,
  order_id: OrderId,
  user_id: UserId,
  merchant_id: MerchantId,
  offer_id: OfferId,
  region_id: RegionId,
  value_points: DbInt,
  state: CouponState,
  medium: Medium,
  card_uid: Schema.NullOr(CardUid),
  issued_at_ms: DbInt,
  expires_at_ms: DbInt,
  closed_at_ms: Schema.NullOr(DbInt)
})
export type CouponRow = typeof CouponRow.Type

export const couponFromRow = (row: CouponRow, balancePoints: number): Coupon =>
  new Coupon({
    id: row.id,
    code: row.code,
    orderId: row.order_id,
    userId: row.user_id,
    merchantId: row.merchant_id,
    offerId: row.offer_id,
    regionId: row.region_id,
    valuePoints: row.value_points,
    balancePoints,
    state: row.state,
    medium: row.medium,
    cardUid: row.card_uid,
    issuedAtMs: row.issued_at_ms,
    expiresAtMs: row.expires_at_ms,
    closedAtMs: row.closed_at_ms
  }, true)

/** One sweep of expired coupons: how many closed and what went to the institutions. */
export class ExpirySweep extends Schema.Class<ExpirySweep>("ExpirySweep")({
  expiredCoupons: Schema.Int,
  forwardedPoints: Schema.Int,
  /** True when the batch limit was reached: run the sweep again. */
  more: Schema.Boolean
}) {}

// --- errors ----------------------------------------------------------------------------------------

export class CouponNotFound extends Schema.TaggedError<CouponNotFound>()("CouponNotFound", { coupon: Schema.String }) {
  override get message() {
    return `no coupon ${this.coupon} here; check the code as printed (three groups of four characters) and that it is yours to redeem`
  }
}
