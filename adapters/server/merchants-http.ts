import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Coupons } from "../../core/coupons.js"
import { CouponNotFound } from "../../core/domain/coupon.js"
import { RedeemCoupon, RollbackRedemption } from "../../core/domain/redemption.js"
import { SettlementNotFound } from "../../core/domain/settlement.js"
import { Redemptions } from "../../core/redemption.js"
import { Settlements } from "../../core/settlement.js"
import { EcouponApi } from "../http-api/api.js"
import { CurrentMerchant } from "../http-api/security.js"
import { asProblem } from "./problems.js"

/** The merchants group over the core's coupons, redemptions and settlements, for the key's merchant only. */
export const MerchantsHttpLive = HttpApiBuilder.group(EcouponApi, "merchants", (handlers) =>
  Effect.gen(function* () {
    const coupons = yield* Coupons
    const redemptions = yield* Redemptions
    const settlements = yield* Settlements
    return handlers
      .handle("coupon", ({ path }) =>
        Effect.gen(function* () {
          const { merchantId } = yield* CurrentMerchant
          const coupon = yield* coupons.getByCode(path.code)
          // Another merchant's coupon is unknown to this one, as in redemption.
          if (coupon.merchantId !== merchantId) return yield* new CouponNotFound({ coupon: path.code })
          return coupon
        }).pipe(asProblem))
      .handle("redeem", ({ payload }) =>
        Effect.flatMap(CurrentMerchant, ({ merchantId }) => redemptions.redeem(new RedeemCoupon({ ...payload, merchantId }))).pipe(asProblem))
      .handle("rollback", ({ path }) =>
        Effect.flatMap(CurrentMerchant, ({ merchantId }) => redemptions.rollback(new RollbackRedemption({ redemptionId: path.redemptionId, merchantId }))).pipe(asProblem))
      .handle("statements", () => Effect.flatMap(CurrentMerchant, ({ merchantId }) => settlements.listForMerchant(merchantId)))
      .handle("statement", ({ path }) =>
        Effect.gen(function* () {
          const { merchantId } = yield* CurrentMerchant
          const statement = yield* settlements.get(path.settlementId)
          if (statement.merchantId !== merchantId) return yield* new SettlementNotFound({ settlementId: path.settlementId })
          return statement
        }).pipe(asProblem))
  })
)
