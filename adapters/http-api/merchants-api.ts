import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Coupon } from "../../core/domain/coupon.js"
import { CouponCode, RedemptionId, SettlementId } from "../../core/domain/ids.js"
import { Redemption } from "../../core/domain/redemption.js"
import { Statement, StatementSummary } from "../../core/domain/settlement.js"
import { MerchantAuth } from "./security.js"

/**
 * The merchants' group: a merchant's till or back office, with the merchant's key. Everything is the
 * key's merchant's own: another merchant's coupon or statement is answered as unknown (404).
 */
export const RedeemBody = Schema.Struct({
  /** The merchant's own id for this call: replaying it answers the first result. */
  redemptionId: RedemptionId,
  couponCode: CouponCode,
  amount: Schema.Int.pipe(Schema.positive())
})

export class MerchantsApi extends HttpApiGroup.make("merchants")
  .add(HttpApiEndpoint.get("coupon", "/coupons/:code").setPath(Schema.Struct({ code: CouponCode })).addSuccess(Coupon))
  .add(HttpApiEndpoint.post("redeem", "/redemptions").setPayload(RedeemBody).addSuccess(Redemption))
  .add(HttpApiEndpoint.post("rollback", "/redemptions/:redemptionId/rollback").setPath(Schema.Struct({ redemptionId: RedemptionId })).addSuccess(Redemption))
  .add(HttpApiEndpoint.get("statements", "/statements").addSuccess(Schema.Array(StatementSummary)))
  .add(HttpApiEndpoint.get("statement", "/statements/:settlementId").setPath(Schema.Struct({ settlementId: SettlementId })).addSuccess(Statement))
  .middleware(MerchantAuth)
  .prefix("/v1/merchant")
  .annotate(OpenApi.Description, "A merchant's coupons, redemptions (idempotent by the merchant's redemption id), rollbacks within the window, and settlement statements")
{}
