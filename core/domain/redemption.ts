import { Schema } from "effect"
import { CouponCode, CouponId, MerchantId, RedemptionId } from "./ids.js"
import { DbInt } from "./points.js"
import { CouponState } from "./coupon.js"

/**
 * A merchant takes points off a coupon, in part or in full (DESIGN §4). The id is the merchant's own
 * request id: replaying it returns the first answer. A redemption can be rolled back within a window
 * and until it is in a settlement statement.
 */
export const RedemptionState = Schema.Literal("redeemed", "rolled_back")
export type RedemptionState = typeof RedemptionState.Type

export class RedeemCoupon extends Schema.Class<RedeemCoupon>("RedeemCoupon")({
  redemptionId: RedemptionId,
  merchantId: MerchantId,
  couponCode: CouponCode,
  amount: Schema.Int.pipe(Schema.positive({ message: () => "a redemption takes a whole number of points greater than zero" }))
}) {}

export class RollbackRedemption extends Schema.Class<RollbackRedemption>("RollbackRedemption")({
  redemptionId: RedemptionId,
  /** When given, the redemption must be this merchant's (the API passes the authenticated merchant). */
  merchantId: Schema.optional(MerchantId)
}) {}

export class Redemption extends Schema.Class<Redemption>("Redemption")({
  id: RedemptionId,
  couponId: CouponId,
  couponCode: CouponCode,
  merchantId: MerchantId,
  amount: Schema.Int,
  /** The coupon's balance right after this redemption (not changed by later ones or a rollback). */
  couponBalanceAfter: Schema.Int,
  state: RedemptionState,
  redeemedAtMs: Schema.Int,
  rolledBackAtMs: Schema.NullOr(Schema.Int)
}) {}

export const RedemptionRow = Schema.Struct({
  id: RedemptionId,
  coupon_id: CouponId,
  coupon_code: CouponCode,
  merchant_id: MerchantId,
  amount: DbInt,
  balance_after: DbInt,
  state: RedemptionState,
  request_key: Schema.String,
  redeemed_at_ms: DbInt,
  rolled_back_at_ms: Schema.NullOr(DbInt)
})
export type RedemptionRow = typeof RedemptionRow.Type

export const redemptionFromRow = (row: RedemptionRow): Redemption =>
  new Redemption({
    id: row.id,
    couponId: row.coupon_id,
    couponCode: row.coupon_code,
    merchantId: row.merchant_id,
    amount: row.amount,
    couponBalanceAfter: row.balance_after,
    state: row.state,
    redeemedAtMs: row.redeemed_at_ms,
    rolledBackAtMs: row.rolled_back_at_ms
  }, true)

// --- errors ----------------------------------------------------------------------------------------

export class RedemptionNotFound extends Schema.TaggedError<RedemptionNotFound>()("RedemptionNotFound", { redemptionId: Schema.String }) {
  override get message() {
    return `no redemption ${this.redemptionId} by this merchant; check the request id of the redemption to roll back`
  }
}

export class RedemptionConflict extends Schema.TaggedError<RedemptionConflict>()("RedemptionConflict", {
  redemptionId: Schema.String,
  difference: Schema.String
}) {
  override get message() {
    return `redemption ${this.redemptionId} was already made with a different request (${this.difference}); repeat the first request to replay it, or use a new request id`
  }
}

/** The coupon cannot be redeemed in its state (not yet delivered, used up, expired, voided, card gone). */
export class CouponNotRedeemable extends Schema.TaggedError<CouponNotRedeemable>()("CouponNotRedeemable", {
  couponCode: Schema.String,
  state: CouponState
}) {
  override get message() {
    const why: Record<CouponState, string> = {
      reserved: "its order has not been delivered yet",
      active: "it is active",
      used: "it is used up",
      expired: "it has expired",
      void: "its order was cancelled",
      returned: "its card was returned and the balance went to the institution",
      forfeited: "its card was not returned in time and the balance went to the institution"
    }
    return `coupon ${this.couponCode} cannot be redeemed: ${why[this.state]}; ask the customer for another payment`
  }
}

export class CouponExpired extends Schema.TaggedError<CouponExpired>()("CouponExpired", {
  couponCode: Schema.String,
  expiresAtMs: Schema.Int
}) {
  override get message() {
    return `coupon ${this.couponCode} expired at ${new Date(this.expiresAtMs).toISOString()}; it cannot be redeemed any more`
  }
}

export class CouponBalanceTooLow extends Schema.TaggedError<CouponBalanceTooLow>()("CouponBalanceTooLow", {
  couponCode: Schema.String,
  balancePoints: Schema.Int,
  requestedPoints: Schema.Int
}) {
  override get message() {
    return `coupon ${this.couponCode} has ${this.balancePoints} points left, less than the ${this.requestedPoints} asked; redeem at most ${this.balancePoints}`
  }
}

export class RollbackWindowClosed extends Schema.TaggedError<RollbackWindowClosed>()("RollbackWindowClosed", {
  redemptionId: Schema.String,
  redeemedAtMs: Schema.Int,
  windowMs: Schema.Int
}) {
  override get message() {
    return `redemption ${this.redemptionId} is older than the rollback window (${Math.round(this.windowMs / 60_000)} minutes); refund the customer outside the system`
  }
}

export class RedemptionSettled extends Schema.TaggedError<RedemptionSettled>()("RedemptionSettled", {
  redemptionId: Schema.String,
  settlementId: Schema.String
}) {
  override get message() {
    return `redemption ${this.redemptionId} is already in settlement statement ${this.settlementId} and cannot be rolled back; refund the customer outside the system`
  }
}

/** The coupon's life ended (expired, card returned or forfeited) after the redemption: nowhere to roll back to. */
export class CouponClosed extends Schema.TaggedError<CouponClosed>()("CouponClosed", {
  couponCode: Schema.String,
  state: CouponState
}) {
  override get message() {
    return `coupon ${this.couponCode} is ${this.state} and its balance has left it; the redemption cannot be rolled back onto it, refund the customer outside the system`
  }
}
