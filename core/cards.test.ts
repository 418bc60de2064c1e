import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { testStores } from "../adapters/store/testing.js"
import { Cards, CardsConfig } from "./cards.js"
import { Coupons } from "./coupons.js"
import { CardUid, KioskId, OrderId, RedemptionId } from "./domain/ids.js"
import { StockMovementId } from "./domain/kiosk.js"
import { Account, type AccountId } from "./domain/ledger.js"
import { AbortOrder, PlaceOrder } from "./domain/order.js"
import { RedeemCoupon } from "./domain/redemption.js"
import { recordStockMovement } from "./kiosks.js"
import { Ledger } from "./ledger.js"
import { Orders } from "./orders.js"
import { Redemptions } from "./redemption.js"
import { fakePorts } from "./testing/fake-ports.js"
import { auditClean, deliveredCoupon, deliveredOnCard, dispatchOutbox, inWorld } from "./testing/harness.js"
import { refusedWithoutWrites } from "./testing/refusals.js"
import { DAY_MS, world } from "./testing/world.js"

const card1 = CardUid.make("04A1B2C3")
const card2 = CardUid.make("04A1B2C4")
const oid = (s: string) => OrderId.make(`ord_${s}`)

const placeOnCard = (id: string, kioskId = world.kiosk1) =>
  Effect.flatMap(Orders, (orders) =>
    orders.place(
      PlaceOrder.make({
        orderId: oid(id),
        kioskId,
        customer: { _tag: "user", userId: world.alice },
        offerId: world.offer,
        quantity: 1,
        catalogVersion: world.catalogVersion,
        medium: "card"
      })
    )
  ).pipe(Effect.orDie)

const posted = (account: AccountId) => Effect.flatMap(Ledger, (ledger) => ledger.balance(account)).pipe(Effect.map((b) => b.posted), Effect.orDie)

const counts = (kioskId: KioskId) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ stacker_cards: number; bin_cards: number }>`SELECT stacker_cards, bin_cards FROM kiosks WHERE id = ${kioskId}`).pipe(
    Effect.map((rows) => [Number(rows[0]?.stacker_cards), Number(rows[0]?.bin_cards)]),
    Effect.orDie
  )

const redeem = (id: string, couponCode: PlaceOrderResult["couponCode"], amount: number) =>
  Effect.flatMap(Redemptions, (r) => r.redeem(RedeemCoupon.make({ redemptionId: RedemptionId.make(`rdm_${id}`), merchantId: world.merchant, couponCode, amount }))).pipe(Effect.orDie)
type PlaceOrderResult = Effect.Effect.Success<ReturnType<typeof placeOnCard>>

for (const store of testStores) {
  const run = inWorld(store.layer, "cards")

  describe(`Cards on ${store.name}`, () => {
    it.effect("beginDispense takes a blank from the stacker for a card order; a replay answers the same", () =>
      run(
        Effect.gen(function* () {
          const cards = yield* Cards
          yield* placeOnCard("a")
          const card = yield* cards.beginDispense({ uid: card1, kioskId: world.kiosk1, orderId: oid("a") })
          expect([card.state, card.orderId, card.userId, card.depositPoints, card.deadlineMs]).toEqual(["dispensing", oid("a"), world.alice, 3_000, null])
          expect(yield* counts(world.kiosk1)).toEqual([world.stackerCards - 1, 0])
          expect(yield* cards.beginDispense({ uid: card1, kioskId: world.kiosk1, orderId: oid("a") })).toEqual(card)
          expect(yield* counts(world.kiosk1)).toEqual([world.stackerCards - 1, 0])
          yield* auditClean
        })
      ))

    it.effect("every refusal of beginDispense writes nothing", () =>
      run(
        Effect.gen(function* () {
          const cards = yield* Cards
          const orders = yield* Orders
          yield* placeOnCard("a")
          yield* cards.beginDispense({ uid: card1, kioskId: world.kiosk1, orderId: oid("a") })
          yield* placeOnCard("b")
          // A UID is issued once.
          yield* refusedWithoutWrites(cards.beginDispense({ uid: card1, kioskId: world.kiosk1, orderId: oid("b") }), "CardAlreadyIssued")
          yield* refusedWithoutWrites(cards.beginDispense({ uid: card2, kioskId: world.kiosk1, orderId: oid("none") }), "OrderNotFound")
          yield* refusedWithoutWrites(cards.beginDispense({ uid: card2, kioskId: world.kiosk2, orderId: oid("b") }), "CardMismatch")
          const paper = yield* deliveredCoupon("paper")
          yield* refusedWithoutWrites(cards.beginDispense({ uid: card2, kioskId: world.kiosk1, orderId: paper.placement.orderId }), "OrderAlreadyDelivered")
          yield* placeOnCard("c")
          yield* orders.abort(AbortOrder.make({ orderId: oid("c"), reason: "cancelled" }))
          yield* refusedWithoutWrites(cards.beginDispense({ uid: card2, kioskId: world.kiosk1, orderId: oid("c") }), "OrderAlreadyAborted")
          const onPaper = yield* orders.place(
            PlaceOrder.make({ orderId: oid("p"), kioskId: world.kiosk1, customer: { _tag: "user", userId: world.alice }, offerId: world.offer, quantity: 1, catalogVersion: 1, medium: "paper" })
          )
          yield* refusedWithoutWrites(cards.beginDispense({ uid: card2, kioskId: world.kiosk1, orderId: onPaper.orderId }), "MediumMismatch")
          yield* recordStockMovement({ id: StockMovementId.make("drain"), kioskId: world.kiosk1, kind: "dispense", deltaStacker: -(world.stackerCards - 1), deltaBin: 0 }).pipe(Effect.orDie)
          yield* refusedWithoutWrites(cards.beginDispense({ uid: card2, kioskId: world.kiosk1, orderId: oid("b") }), "NoCardsInStacker")
        })
      ))

    it.effect("retain captures a card whose hand-over failed; refusals write nothing", () =>
      run(
        Effect.gen(function* () {
          const cards = yield* Cards
          yield* placeOnCard("a")
          yield* cards.beginDispense({ uid: card1, kioskId: world.kiosk1, orderId: oid("a") })
          yield* refusedWithoutWrites(cards.retain({ uid: card1, kioskId: world.kiosk2 }), "CardMismatch")
          yield* refusedWithoutWrites(cards.retain({ uid: card2, kioskId: world.kiosk1 }), "UnknownCard")
          const retained = yield* cards.retain({ uid: card1, kioskId: world.kiosk1 })
          expect([retained.state, retained.returnKioskId]).toEqual(["retained", world.kiosk1])
          expect(yield* counts(world.kiosk1)).toEqual([world.stackerCards - 1, 1])
          expect(yield* cards.retain({ uid: card1, kioskId: world.kiosk1 })).toEqual(retained)
          // A card with its customer is not retained, and a full bin takes no more.
          yield* deliveredOnCard("b", card2)
          yield* refusedWithoutWrites(cards.retain({ uid: card2, kioskId: world.kiosk1 }), "CardStateConflict")
          const third = CardUid.make("04A1B2C5")
          yield* placeOnCard("c")
          yield* cards.beginDispense({ uid: third, kioskId: world.kiosk1, orderId: oid("c") })
          yield* recordStockMovement({ id: StockMovementId.make("fill"), kioskId: world.kiosk1, kind: "capture", deltaStacker: 0, deltaBin: world.binCapacity - 1 }).pipe(Effect.orDie)
          yield* refusedWithoutWrites(cards.retain({ uid: third, kioskId: world.kiosk1 }), "CaptureBinFull")
        })
      ))

    it.effect("a card returned at any kiosk is captured there and its unredeemed balance goes to that region's institution", () =>
      run(
        Effect.gen(function* () {
          const cards = yield* Cards
          const { placement } = yield* deliveredOnCard("a", card1)
          yield* redeem("1", placement.couponCode, 400)
          yield* TestClock.adjust(60_000)
          const returned = yield* cards.return({ uid: card1, kioskId: world.kiosk2 })
          expect([returned.outcome, returned.institutionId, returned.forwardedPoints, returned.returnedAtMs]).toEqual(["returned", world.institution2, 600, 60_000])
          expect(yield* posted(Account.institution(world.institution2))).toBe(600)
          expect(yield* counts(world.kiosk2)).toEqual([world.stackerCards, 1])
          const card = yield* cards.get(card1)
          expect([card.state, card.returnKioskId, card.chargeState]).toEqual(["returned", world.kiosk2, "none"])
          expect((yield* (yield* Coupons).get(placement.couponId)).state).toBe("returned")
          // A replay at the same kiosk answers the same; elsewhere the card is already in a bin.
          yield* TestClock.adjust(1_000)
          expect(yield* cards.return({ uid: card1, kioskId: world.kiosk2 })).toEqual(returned)
          yield* refusedWithoutWrites(cards.return({ uid: card1, kioskId: world.kiosk1 }), "CardAlreadyReturned")
          // The redemption can no longer be rolled back onto the returned coupon.
          yield* refusedWithoutWrites((yield* Redemptions).rollback({ redemptionId: RedemptionId.make("rdm_1") }), "CouponClosed")
          // Never charged: past the deadline, the sweep passes it by.
          yield* TestClock.adjust(30 * DAY_MS)
          expect((yield* cards.sweepOverdue()).overdueCards).toBe(0)
          yield* auditClean
        })
      ))

    it.effect("return refuses an unknown card (the kiosk ejects it), a card still dispensing, and a full bin, writing nothing", () =>
      run(
        Effect.gen(function* () {
          const cards = yield* Cards
          yield* refusedWithoutWrites(cards.return({ uid: CardUid.make("0011223344556677889A"), kioskId: world.kiosk1 }), "UnknownCard")
          yield* placeOnCard("a")
          yield* cards.beginDispense({ uid: card1, kioskId: world.kiosk1, orderId: oid("a") })
          yield* refusedWithoutWrites(cards.return({ uid: card1, kioskId: world.kiosk1 }), "CardStateConflict")
          yield* deliveredOnCard("b", card2)
          yield* recordStockMovement({ id: StockMovementId.make("fill"), kioskId: world.kiosk2, kind: "capture", deltaStacker: 0, deltaBin: world.binCapacity }).pipe(Effect.orDie)
          yield* refusedWithoutWrites(cards.return({ uid: card2, kioskId: world.kiosk2 }), "CaptureBinFull")
          yield* refusedWithoutWrites(cards.return({ uid: card2, kioskId: KioskId.make("ksk_none") }), "KioskNotFound")
        })
      ))

    it.effect("sweepOverdue forfeits the balance of cards past their deadline and queues one deposit charge each", () =>
      run(
        Effect.gen(function* () {
          const cards = yield* Cards
          const sql = yield* SqlClient.SqlClient
          const { placement } = yield* deliveredOnCard("a", card1)
          yield* redeem("1", placement.couponCode, 100)
          yield* TestClock.adjust(14 * DAY_MS - 1)
          expect((yield* cards.sweepOverdue()).overdueCards).toBe(0)
          yield* TestClock.adjust(1)
          const swept = yield* cards.sweepOverdue()
          expect([swept.overdueCards, swept.forfeitedPoints, swept.chargesQueued, swept.more]).toEqual([1, 900, 1, false])
          expect(yield* posted(Account.institution(world.institution1))).toBe(900)
          const card = yield* cards.get(card1)
          expect([card.state, card.chargeState]).toEqual(["overdue", "pending"])
          expect((yield* (yield* Coupons).get(placement.couponId)).state).toBe("forfeited")
          const queued = yield* sql<{ idempotency_key: string; payload: string }>`SELECT idempotency_key, payload FROM outbox WHERE kind = 'carrier_charge'`
          expect(queued.map((row) => row.idempotency_key)).toEqual([`carrier_charge:${card1}`])
          expect(JSON.parse(queued[0]?.payload ?? "{}")).toEqual({ cardUid: card1, userId: world.alice, amountPoints: 3_000 })
          expect((yield* cards.sweepOverdue()).overdueCards).toBe(0)
          yield* auditClean
        })
      ))

    it.effect("the deposit charge: prepare and confirm through the carrier, then the deposit is booked and the card closed", () => {
      const ports = fakePorts()
      return run(
        Effect.gen(function* () {
          const cards = yield* Cards
          yield* deliveredOnCard("a", card1)
          yield* TestClock.adjust(14 * DAY_MS)
          yield* cards.sweepOverdue()
          // The carrier is down: the charge waits for the retry, the card stays overdue.
          ports.carrier.answers.prepare = "unavailable"
          // The provider order of the delivery goes out in the same batch.
          const first = yield* dispatchOutbox
          expect([first.claimed, first.sent, first.retried]).toEqual([2, 1, 1])
          expect((yield* cards.get(card1)).state).toBe("overdue")
          ports.carrier.answers.prepare = "ok"
          yield* TestClock.adjust(60 * 60_000)
          const second = yield* dispatchOutbox
          expect(second.sent).toBe(1)
          const card = yield* cards.get(card1)
          expect([card.state, card.chargeState]).toEqual(["closed", "confirmed"])
          expect(yield* posted(Account.depositsCarrier)).toBe(3_000)
          expect(ports.carrier.calls).toEqual([`prepare ${card1} 3000`, `prepare ${card1} 3000`, `confirm ${card1}`])
          // Coming back after the charge: captured and kept, nothing refunded, nothing moves.
          const late = yield* cards.return({ uid: card1, kioskId: world.kiosk2 })
          expect([late.outcome, late.forwardedPoints]).toEqual(["returned_after_charge", 0])
          expect(yield* cards.return({ uid: card1, kioskId: world.kiosk2 })).toEqual(late)
          expect((yield* cards.get(card1)).state).toBe("closed")
          expect(yield* counts(world.kiosk2)).toEqual([world.stackerCards, 1])
          yield* auditClean
        }).pipe(Effect.provide(ports.layer))
      )
    })

    it.effect("a declined charge closes the card as declined; a refused confirm is cancelled and declined too", () => {
      const ports = fakePorts()
      return run(
        Effect.gen(function* () {
          const cards = yield* Cards
          yield* deliveredOnCard("a", card1)
          yield* TestClock.adjust(DAY_MS)
          yield* deliveredOnCard("b", card2)
          yield* TestClock.adjust(13 * DAY_MS)
          expect((yield* cards.sweepOverdue()).overdueCards).toBe(1)
          ports.carrier.answers.prepare = "reject"
          yield* dispatchOutbox
          expect([(yield* cards.get(card1)).state, (yield* cards.get(card1)).chargeState]).toEqual(["closed", "declined"])
          yield* TestClock.adjust(DAY_MS)
          expect((yield* cards.sweepOverdue()).overdueCards).toBe(1)
          ports.carrier.answers.prepare = "ok"
          ports.carrier.answers.confirm = "reject"
          yield* dispatchOutbox
          expect([(yield* cards.get(card2)).state, (yield* cards.get(card2)).chargeState]).toEqual(["closed", "declined"])
          expect(ports.carrier.calls).toEqual([`prepare ${card1} 3000`, `prepare ${card2} 3000`, `confirm ${card2}`, `cancel ${card2}`])
          expect(yield* posted(Account.depositsCarrier)).toBe(0)
          yield* auditClean
        }).pipe(Effect.provide(ports.layer))
      )
    })

    it.effect("a card returned while its charge is only queued is returned and never charged", () => {
      const ports = fakePorts()
      return run(
        Effect.gen(function* () {
          const cards = yield* Cards
          yield* deliveredOnCard("a", card1)
          yield* TestClock.adjust(15 * DAY_MS)
          yield* cards.sweepOverdue()
          const returned = yield* cards.return({ uid: card1, kioskId: world.kiosk1 })
          expect([returned.outcome, returned.forwardedPoints]).toEqual(["returned", 0])
          const card = yield* cards.get(card1)
          expect([card.state, card.chargeState]).toEqual(["returned", "none"])
          const sent = yield* dispatchOutbox
          expect(sent.sent).toBe(2)
          expect(ports.carrier.calls).toEqual([`cancel ${card1}`])
          expect(yield* posted(Account.depositsCarrier)).toBe(0)
          yield* auditClean
        }).pipe(Effect.provide(ports.layer))
      )
    })

    it.effect("with no deposit configured an overdue card just closes", () =>
      run(
        Effect.gen(function* () {
          const cards = yield* Cards
          yield* deliveredOnCard("a", card1)
          yield* TestClock.adjust(14 * DAY_MS)
          const swept = yield* cards.sweepOverdue()
          expect([swept.overdueCards, swept.chargesQueued]).toEqual([1, 0])
          expect((yield* cards.get(card1)).state).toBe("closed")
          yield* auditClean
        }).pipe(Effect.provideService(CardsConfig, { depositPoints: 0, returnDeadlineDays: 14 }))
      ))

    it.effect("the kiosk twin's return deadline wins over the default", () =>
      run(
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          yield* sql`UPDATE kiosk_twins SET desired_json = ${JSON.stringify({ catalogVersion: null, config: {}, enabled: true, returnDeadlineDays: 3 })} WHERE kiosk_id = ${world.kiosk1}`
          const { delivery } = yield* deliveredOnCard("a", card1)
          expect(delivery.cardDeadlineMs).toBe(3 * DAY_MS)
        })
      ))
  })
}
