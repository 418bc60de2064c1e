import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { testStores } from "../adapters/store/testing.js"
import { CouponCode, MerchantId, OfferId, OrderId, RedemptionId, SettlementId } from "./domain/ids.js"
import { Account } from "./domain/ledger.js"
import { DeliverOrder, PlaceOrder } from "./domain/order.js"
import { RedeemCoupon } from "./domain/redemption.js"
import { Ledger } from "./ledger.js"
import { Orders } from "./orders.js"
import { Redemptions } from "./redemption.js"
import { Settlements } from "./settlement.js"
import { fakePorts } from "./testing/fake-ports.js"
import { auditClean, deliveredCoupon, dispatchOutbox, inWorld } from "./testing/harness.js"
import { refusedWithoutWrites } from "./testing/refusals.js"
import { addOffer, DAY_MS, world } from "./testing/world.js"

const HOUR_MS = 60 * 60_000
const rid = (s: string) => RedemptionId.make(`rdm_${s}`)

const redeem = (id: string, couponCode: CouponCode, amount: number, merchantId: MerchantId = world.merchant) =>
  Effect.flatMap(Redemptions, (r) => r.redeem(RedeemCoupon.make({ redemptionId: rid(id), merchantId, couponCode, amount }))).pipe(Effect.orDie)

const posted = (account: ReturnType<typeof Account.merchantPaid>) =>
  Effect.flatMap(Ledger, (ledger) => ledger.balance(account)).pipe(Effect.map((b) => b.posted), Effect.orDie)

for (const store of testStores) {
  const run = inWorld(store.layer, "settlement")

  describe(`Settlements on ${store.name}`, () => {
    it.effect("closes a period into one statement of its live redemptions and queues the payout", () =>
      run(
        Effect.gen(function* () {
          const settlements = yield* Settlements
          const sql = yield* SqlClient.SqlClient
          const { placement } = yield* deliveredCoupon("a")
          const code = placement.couponCode
          yield* redeem("1", code, 100)
          yield* TestClock.adjust(HOUR_MS)
          yield* redeem("2", code, 200)
          yield* redeem("3", code, 50)
          yield* (yield* Redemptions).rollback({ redemptionId: rid("3") })
          yield* TestClock.adjust(DAY_MS)
          yield* redeem("4", code, 400) // after the period: the next statement's
          const statement = yield* settlements.closePeriod({ merchantId: world.merchant, periodStartMs: 0, periodEndMs: DAY_MS })
          expect([statement.totalPoints, statement.state, statement.lines.map((l) => [l.redemptionId, l.amount])]).toEqual([
            300,
            "closed",
            [[rid("1"), 100], [rid("2"), 200]]
          ])
          expect(yield* posted(Account.merchantPaid(world.merchant))).toBe(300)
          expect(yield* posted(Account.merchantPayable(world.merchant))).toBe(400)
          const payouts = yield* sql<{ idempotency_key: string; payload: string }>`SELECT idempotency_key, payload FROM outbox WHERE kind = 'payout'`
          expect(payouts.map((row) => row.idempotency_key)).toEqual([`payout:${statement.id}`])
          expect(JSON.parse(payouts[0]?.payload ?? "{}")).toMatchObject({ settlementId: statement.id, amount: 300 })
          // Closing the same period again answers the same statement.
          expect(yield* settlements.closePeriod({ merchantId: world.merchant, periodStartMs: 0, periodEndMs: DAY_MS })).toEqual(statement)
          expect(yield* settlements.get(statement.id)).toEqual(statement)
          expect((yield* settlements.listForMerchant(world.merchant)).map((s) => s.id)).toEqual([statement.id])
          yield* auditClean
        })
      ))

    it.effect("each redemption is in exactly one statement, even when periods overlap", () =>
      run(
        Effect.gen(function* () {
          const settlements = yield* Settlements
          const { placement } = yield* deliveredCoupon("a")
          yield* TestClock.adjust(HOUR_MS)
          yield* redeem("1", placement.couponCode, 100)
          yield* TestClock.adjust(DAY_MS)
          const first = yield* settlements.closePeriod({ merchantId: world.merchant, periodStartMs: 0, periodEndMs: 2 * HOUR_MS })
          const overlapping = yield* settlements.closePeriod({ merchantId: world.merchant, periodStartMs: HOUR_MS, periodEndMs: DAY_MS })
          expect([first.totalPoints, overlapping.totalPoints, overlapping.state]).toEqual([100, 0, "paid"])
          yield* auditClean
        })
      ))

    it.effect("every refusal of closePeriod writes nothing", () =>
      run(
        Effect.gen(function* () {
          const settlements = yield* Settlements
          const { placement } = yield* deliveredCoupon("a")
          yield* redeem("1", placement.couponCode, 100)
          yield* TestClock.adjust(DAY_MS)
          yield* refusedWithoutWrites(settlements.closePeriod({ merchantId: world.merchant, periodStartMs: 0, periodEndMs: 2 * DAY_MS }), "PeriodNotOver")
          yield* refusedWithoutWrites(settlements.closePeriod({ merchantId: world.merchant, periodStartMs: DAY_MS, periodEndMs: DAY_MS }), "InvalidRequest")
          yield* refusedWithoutWrites(settlements.closePeriod({ merchantId: MerchantId.make("mer_none"), periodStartMs: 0, periodEndMs: DAY_MS }), "MerchantNotFound")
          yield* settlements.closePeriod({ merchantId: world.merchant, periodStartMs: 0, periodEndMs: DAY_MS })
          const conflict = yield* refusedWithoutWrites(settlements.closePeriod({ merchantId: world.merchant, periodStartMs: 0, periodEndMs: DAY_MS - 1 }), "SettlementPeriodConflict")
          expect(conflict.existingEndMs).toBe(DAY_MS)
          yield* refusedWithoutWrites(settlements.get(SettlementId.make("stl_none")), "SettlementNotFound")
        })
      ))

    it.effect("closeAll closes every merchant with payables, each period following its last", () =>
      run(
        Effect.gen(function* () {
          const settlements = yield* Settlements
          const sql = yield* SqlClient.SqlClient
          // A second registered merchant with an offer and a redemption.
          const other = MerchantId.make("mer_3")
          yield* sql`INSERT INTO merchants (id, name, status, provider_url, created_at_ms, updated_at_ms) VALUES (${other}, 'Bakery', 'registered', NULL, 0, 0)`
          yield* addOffer({ id: OfferId.make("off_bread"), merchantId: other, pricePoints: 500 })
          const orders = yield* Orders
          const bread = yield* orders.place(
            PlaceOrder.make({ orderId: OrderId.make("ord_bread"), kioskId: world.kiosk1, customer: { _tag: "user", userId: world.alice }, offerId: OfferId.make("off_bread"), quantity: 1, catalogVersion: 2, medium: "paper" })
          )
          yield* orders.deliver(DeliverOrder.make({ orderId: OrderId.make("ord_bread"), medium: { _tag: "paper" } }))
          const { placement } = yield* deliveredCoupon("a")
          yield* TestClock.adjust(HOUR_MS)
          yield* redeem("1", placement.couponCode, 100)
          yield* redeem("2", bread.couponCode, 500, other)
          yield* TestClock.adjust(DAY_MS)
          const day1 = yield* settlements.closeAll({ periodEndMs: DAY_MS })
          expect(day1.refused).toEqual([])
          expect(day1.statements.map((s) => [s.merchantId, s.periodStartMs, s.periodEndMs, s.totalPoints])).toEqual([
            [world.merchant, HOUR_MS, DAY_MS, 100],
            [other, HOUR_MS, DAY_MS, 500]
          ])
          expect((yield* settlements.closeAll({ periodEndMs: DAY_MS })).statements).toEqual([])
          yield* redeem("3", placement.couponCode, 100)
          yield* TestClock.adjust(DAY_MS)
          const day2 = yield* settlements.closeAll({ periodEndMs: 2 * DAY_MS })
          expect(day2.statements.map((s) => [s.merchantId, s.periodStartMs, s.periodEndMs, s.totalPoints])).toEqual([[world.merchant, DAY_MS, 2 * DAY_MS, 100]])
          yield* auditClean
        })
      ))

    it.effect("payouts: paid with the gateway's reference, or payout_failed when refused", () => {
      const ports = fakePorts()
      return run(
        Effect.gen(function* () {
          const settlements = yield* Settlements
          const { placement } = yield* deliveredCoupon("a")
          yield* redeem("1", placement.couponCode, 100)
          yield* TestClock.adjust(DAY_MS)
          const first = yield* settlements.closePeriod({ merchantId: world.merchant, periodStartMs: 0, periodEndMs: DAY_MS })
          yield* dispatchOutbox
          const paid = yield* settlements.get(first.id)
          expect([paid.state, paid.payoutRef]).toEqual(["paid", `po-${first.id}`])
          expect(ports.payouts.calls).toEqual([`pay ${first.id} 100`])
          yield* redeem("2", placement.couponCode, 100)
          yield* TestClock.adjust(DAY_MS)
          const second = yield* settlements.closePeriod({ merchantId: world.merchant, periodStartMs: DAY_MS, periodEndMs: 2 * DAY_MS })
          ports.payouts.answers.pay = "reject"
          yield* dispatchOutbox
          expect((yield* settlements.get(second.id)).state).toBe("payout_failed")
          yield* auditClean
        }).pipe(Effect.provide(ports.layer))
      )
    })

    it.effect("provider orders: submitted once delivered; an order the provider keeps refusing is flagged", () => {
      const ports = fakePorts()
      return run(
        Effect.gen(function* () {
          const orders = yield* Orders
          const sql = yield* SqlClient.SqlClient
          const a = yield* deliveredCoupon("a")
          expect((yield* dispatchOutbox).sent).toBe(1)
          expect(ports.provider.calls).toEqual([`submit ${a.placement.orderId}`])
          ports.provider.answers.submit = "reject"
          const b = yield* deliveredCoupon("b")
          expect((yield* dispatchOutbox).dead).toBe(1)
          expect([(yield* orders.get(a.placement.orderId)).flagged, (yield* orders.get(b.placement.orderId)).flagged]).toEqual([false, true])
          const states = yield* sql<{ state: string }>`SELECT state FROM outbox ORDER BY created_at_ms, id`
          expect(states.map((row) => row.state).sort()).toEqual(["dead", "sent"])
        }).pipe(Effect.provide(ports.layer))
      )
    })
  })
}
