import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, TestClock } from "effect"
import { testStores } from "../adapters/store/testing.js"
import { Coupons } from "./coupons.js"
import { CouponCode, MerchantId, OrderId, RedemptionId } from "./domain/ids.js"
import { Account } from "./domain/ledger.js"
import { AbortOrder, PlaceOrder } from "./domain/order.js"
import { RedeemCoupon } from "./domain/redemption.js"
import { Ledger } from "./ledger.js"
import { Orders } from "./orders.js"
import { RedemptionConfig, Redemptions } from "./redemption.js"
import { Settlements } from "./settlement.js"
import { auditClean, deliveredCoupon, inWorld } from "./testing/harness.js"
import { refusedWithoutWrites } from "./testing/refusals.js"
import { DAY_MS, world } from "./testing/world.js"

const rid = (s: string) => RedemptionId.make(`rdm_${s}`)
const redeemReq = (id: string, couponCode: CouponCode, amount: number, merchantId: MerchantId = world.merchant) =>
  RedeemCoupon.make({ redemptionId: rid(id), merchantId, couponCode, amount })

const balance = (account: ReturnType<typeof Account.coupon>) =>
  Effect.flatMap(Ledger, (ledger) => ledger.balance(account)).pipe(Effect.map((b) => b.posted), Effect.orDie)

for (const store of testStores) {
  const run = inWorld(store.layer, "redemption")

  describe(`Redemptions on ${store.name}`, () => {
    it.effect("redeems in part, then in full; a used coupon cannot be redeemed again", () =>
      run(
        Effect.gen(function* () {
          const redemptions = yield* Redemptions
          const { placement } = yield* deliveredCoupon("a")
          const code = placement.couponCode
          const first = yield* redemptions.redeem(redeemReq("1", code, 300))
          expect([first.amount, first.couponBalanceAfter, first.state]).toEqual([300, 700, "redeemed"])
          expect(yield* balance(Account.merchantPayable(world.merchant))).toBe(300)
          const second = yield* redemptions.redeem(redeemReq("2", code, 700))
          expect(second.couponBalanceAfter).toBe(0)
          expect((yield* (yield* Coupons).get(placement.couponId)).state).toBe("used")
          const used = yield* refusedWithoutWrites(redemptions.redeem(redeemReq("3", code, 1)), "CouponNotRedeemable")
          expect(used.message).toContain("used up")
          yield* auditClean
        })
      ))

    it.effect("a replay answers the first result; another body with the same id is a conflict", () =>
      run(
        Effect.gen(function* () {
          const redemptions = yield* Redemptions
          const { placement } = yield* deliveredCoupon("a")
          const first = yield* redemptions.redeem(redeemReq("1", placement.couponCode, 300))
          yield* redemptions.redeem(redeemReq("2", placement.couponCode, 100))
          yield* TestClock.adjust(1_000)
          expect(yield* redemptions.redeem(redeemReq("1", placement.couponCode, 300))).toEqual(first)
          const conflict = yield* refusedWithoutWrites(redemptions.redeem(redeemReq("1", placement.couponCode, 301)), "RedemptionConflict")
          expect(conflict.message).toContain("amount 300 vs 301")
          expect(yield* balance(Account.coupon(placement.couponId))).toBe(600)
        })
      ))

    it.effect("every refusal of redeem writes nothing", () =>
      run(
        Effect.gen(function* () {
          const redemptions = yield* Redemptions
          const orders = yield* Orders
          const { placement } = yield* deliveredCoupon("a")
          const code = placement.couponCode
          yield* refusedWithoutWrites(redemptions.redeem(redeemReq("x", CouponCode.make("0000-0000-0000"), 1)), "CouponNotFound")
          yield* refusedWithoutWrites(redemptions.redeem(redeemReq("x", code, 1, world.suspendedMerchant)), "CouponNotFound")
          const tooMuch = yield* refusedWithoutWrites(redemptions.redeem(redeemReq("x", code, 1_001)), "CouponBalanceTooLow")
          expect(tooMuch.balancePoints).toBe(1_000)
          yield* refusedWithoutWrites(redemptions.redeem({ ...redeemReq("x", code, 1), amount: 0 }), "InvalidRequest")
          // A coupon whose order is only placed, and one whose order was aborted.
          const base = { kioskId: world.kiosk1, customer: { _tag: "user" as const, userId: world.alice }, offerId: world.offer, quantity: 1, catalogVersion: world.catalogVersion, medium: "paper" as const }
          const reserved = yield* orders.place(PlaceOrder.make({ ...base, orderId: OrderId.make("ord_r") }))
          const notYet = yield* refusedWithoutWrites(redemptions.redeem(redeemReq("x", reserved.couponCode, 1)), "CouponNotRedeemable")
          expect(notYet.state).toBe("reserved")
          const voided = yield* orders.place(PlaceOrder.make({ ...base, orderId: OrderId.make("ord_v") }))
          yield* orders.abort(AbortOrder.make({ orderId: OrderId.make("ord_v"), reason: "cancelled" }))
          yield* refusedWithoutWrites(redemptions.redeem(redeemReq("x", voided.couponCode, 1)), "CouponNotRedeemable")
          // Past its expiry, even before the sweep has run.
          yield* TestClock.adjust(world.couponValidityMs)
          yield* refusedWithoutWrites(redemptions.redeem(redeemReq("x", code, 1)), "CouponExpired")
        })
      ))

    it.effect("rollback within the window puts the points back and reopens a used coupon; replays agree", () =>
      run(
        Effect.gen(function* () {
          const redemptions = yield* Redemptions
          const { placement } = yield* deliveredCoupon("a")
          yield* redemptions.redeem(redeemReq("1", placement.couponCode, 1_000))
          yield* TestClock.adjust(60_000)
          const rolled = yield* redemptions.rollback({ redemptionId: rid("1"), merchantId: world.merchant })
          expect([rolled.state, rolled.rolledBackAtMs]).toEqual(["rolled_back", 60_000])
          const coupon = yield* (yield* Coupons).get(placement.couponId)
          expect([coupon.state, coupon.balancePoints]).toEqual(["active", 1_000])
          expect(yield* balance(Account.merchantPayable(world.merchant))).toBe(0)
          expect(yield* redemptions.rollback({ redemptionId: rid("1") })).toEqual(rolled)
          // The replayed redemption still answers as first made.
          expect((yield* redemptions.redeem(redeemReq("1", placement.couponCode, 1_000))).state).toBe("redeemed")
          expect((yield* redemptions.get(rid("1"))).state).toBe("rolled_back")
          yield* auditClean
        })
      ))

    it.effect("rollback is refused for an unknown or another merchant's redemption, after the window, once settled, or once the coupon closed", () =>
      run(
        Effect.gen(function* () {
          const redemptions = yield* Redemptions
          const { placement } = yield* deliveredCoupon("a")
          const code = placement.couponCode
          yield* refusedWithoutWrites(redemptions.rollback({ redemptionId: rid("none") }), "RedemptionNotFound")
          yield* redemptions.redeem(redeemReq("1", code, 100))
          yield* refusedWithoutWrites(redemptions.rollback({ redemptionId: rid("1"), merchantId: world.suspendedMerchant }), "RedemptionNotFound")
          // Settled: the statement holds it.
          yield* TestClock.adjust(1_000)
          yield* (yield* Settlements).closePeriod({ merchantId: world.merchant, periodStartMs: 0, periodEndMs: 1_000 })
          yield* refusedWithoutWrites(redemptions.rollback({ redemptionId: rid("1") }), "RedemptionSettled")
          // Too late.
          yield* redemptions.redeem(redeemReq("2", code, 100))
          yield* TestClock.adjust(DAY_MS + 1)
          yield* refusedWithoutWrites(redemptions.rollback({ redemptionId: rid("2") }), "RollbackWindowClosed")
          // A longer window, but the coupon expired and its balance went to the institution.
          yield* TestClock.adjust(world.couponValidityMs)
          yield* redemptions.expireDue()
          const closed = yield* refusedWithoutWrites(
            redemptions.rollback({ redemptionId: rid("2") }).pipe(Effect.provideService(RedemptionConfig, { rollbackWindowMs: 365 * DAY_MS })),
            "CouponClosed"
          )
          expect(closed.state).toBe("expired")
          yield* auditClean
        })
      ))

    it.effect("expireDue sends the remainder of expired coupons to their region's institution", () =>
      run(
        Effect.gen(function* () {
          const redemptions = yield* Redemptions
          const sql = yield* SqlClient.SqlClient
          const a = yield* deliveredCoupon("a")
          yield* deliveredCoupon("b")
          yield* redemptions.redeem(redeemReq("1", a.placement.couponCode, 250))
          expect((yield* redemptions.expireDue()).expiredCoupons).toBe(0)
          yield* TestClock.adjust(world.couponValidityMs)
          const swept = yield* redemptions.expireDue({ limit: 1 })
          expect([swept.expiredCoupons, swept.more]).toEqual([1, true])
          const rest = yield* redemptions.expireDue()
          expect([rest.expiredCoupons, rest.more]).toEqual([1, false])
          expect(swept.forwardedPoints + rest.forwardedPoints).toBe(1_750)
          expect(yield* balance(Account.institution(world.institution1))).toBe(1_750)
          expect((yield* (yield* Coupons).get(a.placement.couponId)).state).toBe("expired")
          const moved = yield* sql<{ id: string }>`SELECT id FROM ledger_transfers WHERE code = 'expire' ORDER BY id`
          expect(moved.map((row) => row.id)).toContain(`expire:${a.placement.couponId}`)
          expect(moved).toHaveLength(2)
          expect((yield* redemptions.expireDue()).expiredCoupons).toBe(0)
          yield* auditClean
        })
      ))

    it.effect("100 concurrent redemptions of one coupon never overdraw it", () =>
      run(
        Effect.gen(function* () {
          const redemptions = yield* Redemptions
          const { placement } = yield* deliveredCoupon("a")
          const results = yield* Effect.all(
            Array.from({ length: 100 }, (_, i) => Effect.either(redemptions.redeem(redeemReq(`c${i}`, placement.couponCode, 15)))),
            { concurrency: "unbounded" }
          )
          const accepted = results.filter(Either.isRight).length
          const refused = results.filter((r) => Either.isLeft(r) && r.left._tag === "CouponBalanceTooLow").length
          expect([accepted, refused]).toEqual([66, 34])
          expect(yield* balance(Account.coupon(placement.couponId))).toBe(10)
          expect(yield* balance(Account.merchantPayable(world.merchant))).toBe(990)
          yield* auditClean
        })
      ))
  })
}
