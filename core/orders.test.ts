import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option, TestClock } from "effect"
import { testStores } from "../adapters/store/testing.js"
import { Cards } from "./cards.js"
import { Coupons } from "./coupons.js"
import { CardUid, OfferId, OrderId, UserId } from "./domain/ids.js"
import { Account } from "./domain/ledger.js"
import { AbortOrder, DeliverOrder, PlaceOrder } from "./domain/order.js"
import { SessionId } from "./domain/user.js"
import { Ledger } from "./ledger.js"
import { Orders } from "./orders.js"
import { auditClean, inWorld } from "./testing/harness.js"
import { refusedWithoutWrites } from "./testing/refusals.js"
import { addOffer, bumpCatalog, DAY_MS, grant, world } from "./testing/world.js"

const oid = (s: string) => OrderId.make(`ord_${s}`)
const uid = CardUid.make("04A1B2C3")

const placeReq = (id: string, overrides: Partial<ConstructorParameters<typeof PlaceOrder>[0]> = {}) =>
  PlaceOrder.make({
    orderId: oid(id),
    kioskId: world.kiosk1,
    customer: { _tag: "user", userId: world.alice },
    offerId: world.offer,
    quantity: 1,
    catalogVersion: world.catalogVersion,
    medium: "paper",
    ...overrides
  })

const paper = (id: string) => DeliverOrder.make({ orderId: oid(id), medium: { _tag: "paper" } })
const onCard = (id: string, cardUid = uid) => DeliverOrder.make({ orderId: oid(id), medium: { _tag: "card", cardUid } })

const available = (userId: UserId) => Effect.flatMap(Ledger, (ledger) => ledger.balance(Account.user(userId))).pipe(Effect.map((b) => b.available), Effect.orDie)
const stock = (offerId: OfferId = world.offer) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ stock: number }>`SELECT stock FROM offers WHERE id = ${offerId}`).pipe(
    Effect.map((rows) => Number(rows[0]?.stock)),
    Effect.orDie
  )

for (const store of testStores) {
  const run = inWorld(store.layer, "orders")

  describe(`Orders on ${store.name}`, () => {
    it.effect("place reserves the points, takes the stock and makes a reserved coupon", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          const placed = yield* orders.place(placeReq("a", { quantity: 2 }))
          expect(placed.amountPoints).toBe(2 * world.offerPrice)
          expect(placed.couponCode).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/)
          expect(yield* available(world.alice)).toBe(world.alicePoints - 2 * world.offerPrice)
          expect(yield* stock()).toBe(world.offerStock - 2)
          const order = yield* orders.get(oid("a"))
          expect([order.state, order.couponState, order.userId]).toEqual(["placed", "reserved", world.alice])
          yield* auditClean
        })
      ))

    it.effect("place by kiosk session resolves the session's user", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          yield* orders.place(placeReq("s", { customer: { _tag: "session", sessionId: world.aliceSession } }))
          expect((yield* orders.get(oid("s"))).userId).toBe(world.alice)
        })
      ))

    it.effect("a replayed place answers the first result; another body with the same id is a conflict", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          const first = yield* orders.place(placeReq("a"))
          const again = yield* orders.place(placeReq("a"))
          expect(again).toEqual(first)
          expect(yield* stock()).toBe(world.offerStock - 1)
          const conflict = yield* refusedWithoutWrites(orders.place(placeReq("a", { quantity: 2 })), "OrderConflict")
          expect(conflict.message).toContain("quantity 1 vs 2")
        })
      ))

    it.effect("every refusal of place writes nothing", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          const sql = yield* SqlClient.SqlClient
          yield* refusedWithoutWrites(orders.place(placeReq("u", { customer: { _tag: "user", userId: UserId.make("usr_nobody") } })), "UserNotFound")
          yield* refusedWithoutWrites(orders.place(placeReq("u", { customer: { _tag: "session", sessionId: SessionId.make("ses_nobody") } })), "SessionNotFound")
          yield* refusedWithoutWrites(orders.place(placeReq("u", { customer: { _tag: "session", sessionId: world.aliceSession }, kioskId: world.kiosk2 })), "SessionAtOtherKiosk")
          yield* refusedWithoutWrites(orders.place(placeReq("u", { kioskId: world.kiosk1.replace("1", "9") as typeof world.kiosk1 })), "KioskNotFound")
          yield* refusedWithoutWrites(orders.place(placeReq("u", { kioskId: world.kiosk2 })), "OfferNotAvailable")
          yield* refusedWithoutWrites(orders.place(placeReq("u", { offerId: OfferId.make("off_nothing") })), "OfferNotAvailable")
          yield* refusedWithoutWrites(orders.place(placeReq("u", { quantity: world.offerStock + 1 })), "OutOfStock")
          yield* refusedWithoutWrites(orders.place({ ...placeReq("u"), quantity: 0 }), "InvalidRequest")
          yield* refusedWithoutWrites(orders.place(placeReq("u", { customer: { _tag: "user", userId: world.bob } })), "InsufficientPoints")
          // A disabled kiosk sells nothing.
          yield* sql`UPDATE kiosk_twins SET desired_json = ${JSON.stringify({ catalogVersion: null, config: {}, enabled: false, returnDeadlineDays: 14 })} WHERE kiosk_id = ${world.kiosk1}`
          const disabled = yield* refusedWithoutWrites(orders.place(placeReq("u")), "KioskNotAvailable")
          expect(disabled.message).toContain("disabled")
        })
      ))

    it.effect("offers of a suspended merchant, withdrawn, or outside their window are refused", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          yield* addOffer({ id: OfferId.make("off_susp"), merchantId: world.suspendedMerchant })
          yield* addOffer({ id: OfferId.make("off_gone"), status: "withdrawn" })
          yield* addOffer({ id: OfferId.make("off_later"), validFromMs: DAY_MS })
          const version = 4
          const suspended = yield* refusedWithoutWrites(orders.place(placeReq("x", { offerId: OfferId.make("off_susp"), catalogVersion: version })), "OfferNotAvailable")
          expect(suspended.message).toContain("suspended")
          const withdrawn = yield* refusedWithoutWrites(orders.place(placeReq("x", { offerId: OfferId.make("off_gone"), catalogVersion: version })), "OfferNotAvailable")
          expect(withdrawn.message).toContain("withdrawn")
          const early = yield* refusedWithoutWrites(orders.place(placeReq("x", { offerId: OfferId.make("off_later"), catalogVersion: version })), "OfferNotAvailable")
          expect(early.message).toContain("on sale from")
          yield* TestClock.adjust(DAY_MS)
          // The session expired with the day; orders by user id still go through.
          yield* refusedWithoutWrites(orders.place(placeReq("y", { customer: { _tag: "session", sessionId: world.aliceSession } })), "SessionEnded")
          yield* orders.place(placeReq("y", { offerId: OfferId.make("off_later"), catalogVersion: version }))
        })
      ))

    it.effect("a stale catalog version is refused with the current offer and version", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          const sql = yield* SqlClient.SqlClient
          yield* sql`UPDATE offers SET price_points = 1200 WHERE id = ${world.offer}`
          const version = yield* bumpCatalog(world.region1, world.offer)
          const stale = yield* refusedWithoutWrites(orders.place(placeReq("a")), "StaleCatalog")
          expect([stale.currentVersion, stale.offer.pricePoints, stale.offer.stock]).toEqual([version, 1200, world.offerStock])
          yield* refusedWithoutWrites(orders.place(placeReq("a", { catalogVersion: version + 1 })), "StaleCatalog")
          // Another offer's change does not make this one stale.
          yield* addOffer({ id: OfferId.make("off_other") })
          const placed = yield* orders.place(placeReq("a", { catalogVersion: version }))
          expect(placed.unitPricePoints).toBe(1200)
        })
      ))

    it.effect("deliver on paper posts the points, activates the coupon with its expiry, queues the provider order", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          const sql = yield* SqlClient.SqlClient
          const placed = yield* orders.place(placeReq("a"))
          yield* TestClock.adjust(5_000)
          const delivered = yield* orders.deliver(paper("a"))
          expect([delivered.issuedAtMs, delivered.expiresAtMs, delivered.cardUid]).toEqual([5_000, 5_000 + world.couponValidityMs, null])
          const coupon = yield* (yield* Coupons).get(placed.couponId)
          expect([coupon.state, coupon.balancePoints]).toEqual(["active", world.offerPrice])
          const user = yield* Effect.orDie((yield* Ledger).balance(Account.user(world.alice)))
          expect([user.posted, user.debitsPending]).toEqual([world.alicePoints - world.offerPrice, 0])
          const queued = yield* sql<{ kind: string; idempotency_key: string; payload: string }>`SELECT kind, idempotency_key, payload FROM outbox`
          expect(queued.map((row) => [row.kind, row.idempotency_key])).toEqual([["provider_order", "provider_order:ord_a"]])
          expect(JSON.parse(queued[0]?.payload ?? "{}")).toMatchObject({ orderId: "ord_a", couponCode: placed.couponCode, amount: world.offerPrice })
          // Replays answer the same; another medium is a conflict.
          yield* TestClock.adjust(5_000)
          expect(yield* orders.deliver(paper("a"))).toEqual(delivered)
          yield* refusedWithoutWrites(orders.deliver(DeliverOrder.make({ orderId: oid("a"), medium: { _tag: "phone" } })), "OrderConflict")
          yield* refusedWithoutWrites(orders.abort(AbortOrder.make({ orderId: oid("a"), reason: "cancelled" })), "OrderAlreadyDelivered")
          yield* auditClean
        })
      ))

    it.effect("a coupon delivered to the phone is texted to the customer through the outbox", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          const sql = yield* SqlClient.SqlClient
          const placed = yield* orders.place(placeReq("p", { medium: "phone" }))
          const delivered = yield* orders.deliver(DeliverOrder.make({ orderId: oid("p"), medium: { _tag: "phone" } }))
          expect([delivered.medium, delivered.cardUid]).toEqual(["phone", null])
          const texts = yield* sql<{ idempotency_key: string; payload: string }>`SELECT idempotency_key, payload FROM outbox WHERE kind = 'sms'`
          expect(texts.map((row) => row.idempotency_key)).toEqual(["sms:coupon:ord_p"])
          const text = JSON.parse(texts[0]?.payload ?? "{}")
          expect(text.to).toBe("+821000000001")
          expect(text.text).toContain(placed.couponCode)
          expect(yield* orders.deliver(DeliverOrder.make({ orderId: oid("p"), medium: { _tag: "phone" } }))).toEqual(delivered)
        })
      ))

    it.effect("deliver refuses an unknown order, another medium, and a card that was not dispensed", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          yield* refusedWithoutWrites(orders.deliver(paper("none")), "OrderNotFound")
          yield* orders.place(placeReq("a"))
          yield* refusedWithoutWrites(orders.deliver(DeliverOrder.make({ orderId: oid("a"), medium: { _tag: "phone" } })), "MediumMismatch")
          yield* orders.place(placeReq("c", { medium: "card" }))
          yield* refusedWithoutWrites(orders.deliver(onCard("c")), "UnknownCard")
        })
      ))

    it.effect("deliver on a dispensed card hands it over with the kiosk's return deadline", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          const cards = yield* Cards
          yield* orders.place(placeReq("c", { medium: "card" }))
          yield* cards.beginDispense({ uid, kioskId: world.kiosk1, orderId: oid("c") })
          const delivered = yield* orders.deliver(onCard("c"))
          expect([delivered.cardUid, delivered.cardDeadlineMs]).toEqual([uid, 14 * DAY_MS])
          const card = yield* cards.get(uid)
          expect([card.state, card.deadlineMs]).toEqual(["with_user", 14 * DAY_MS])
          expect(yield* orders.deliver(onCard("c"))).toEqual(delivered)
          yield* refusedWithoutWrites(orders.deliver(onCard("c", CardUid.make("04A1B2C4"))), "OrderConflict")
          // A second order by the same customer can go onto the card they already hold.
          yield* orders.place(placeReq("d", { medium: "card" }))
          const second = yield* orders.deliver(onCard("d"))
          expect(second.cardDeadlineMs).toBe(14 * DAY_MS)
          // Bob cannot have his coupon written onto Alice's card.
          yield* grant(world.bob, 5_000, "grant:bob")
          yield* orders.place(placeReq("e", { medium: "card", customer: { _tag: "user", userId: world.bob } }))
          yield* refusedWithoutWrites(orders.deliver(onCard("e")), "CardStateConflict")
          yield* auditClean
        })
      ))

    it.effect("abort voids the points and the coupon and gives the stock back; replays agree", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          const placed = yield* orders.place(placeReq("a", { quantity: 3 }))
          const aborted = yield* orders.abort(AbortOrder.make({ orderId: oid("a"), reason: "customer cancelled" }))
          expect([aborted.couponId, aborted.reason, aborted.retainedCardUid]).toEqual([placed.couponId, "customer cancelled", null])
          expect(yield* available(world.alice)).toBe(world.alicePoints)
          expect(yield* stock()).toBe(world.offerStock)
          const order = yield* orders.get(oid("a"))
          expect([order.state, order.couponState, order.flagged]).toEqual(["aborted", "void", false])
          expect(yield* orders.abort(AbortOrder.make({ orderId: oid("a"), reason: "customer cancelled" }))).toEqual(aborted)
          yield* refusedWithoutWrites(orders.abort(AbortOrder.make({ orderId: oid("a"), reason: "jam" })), "OrderConflict")
          yield* refusedWithoutWrites(orders.deliver(paper("a")), "OrderAlreadyAborted")
          yield* refusedWithoutWrites(orders.abort(AbortOrder.make({ orderId: oid("none"), reason: "x" })), "OrderNotFound")
          yield* refusedWithoutWrites(orders.abort({ orderId: oid("a"), reason: " " }), "InvalidRequest")
          yield* auditClean
        })
      ))

    it.effect("abort with a retained card captures it into the kiosk's bin", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          const cards = yield* Cards
          const sql = yield* SqlClient.SqlClient
          yield* orders.place(placeReq("c", { medium: "card" }))
          yield* cards.beginDispense({ uid, kioskId: world.kiosk1, orderId: oid("c") })
          const aborted = yield* orders.abort(AbortOrder.make({ orderId: oid("c"), reason: "card not taken", retainedCardUid: uid }))
          expect(aborted.retainedCardUid).toBe(uid)
          expect((yield* cards.get(uid)).state).toBe("retained")
          const [kiosk] = yield* sql<{ stacker_cards: number; bin_cards: number }>`SELECT stacker_cards, bin_cards FROM kiosks WHERE id = ${world.kiosk1}`
          expect([Number(kiosk?.stacker_cards), Number(kiosk?.bin_cards)]).toEqual([world.stackerCards - 1, 1])
          expect(yield* orders.abort(AbortOrder.make({ orderId: oid("c"), reason: "card not taken", retainedCardUid: uid }))).toEqual(aborted)
          yield* auditClean
        })
      ))

    it.effect("voidStale aborts orders left placed too long and flags them; the kiosk then learns of it", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          yield* orders.place(placeReq("old"))
          yield* TestClock.adjust(60 * 60_000)
          yield* orders.place(placeReq("new"))
          const swept = yield* orders.voidStale({ olderThanMs: 30 * 60_000 })
          expect(swept).toEqual({ voided: 1, more: false })
          const old = yield* orders.get(oid("old"))
          expect([old.state, old.flagged, (yield* orders.get(oid("new"))).state]).toEqual(["aborted", true, "placed"])
          const refused = yield* refusedWithoutWrites(orders.deliver(paper("old")), "OrderAlreadyAborted")
          expect(refused.flagged).toBe(true)
          const kioskAbort = yield* orders.abort(AbortOrder.make({ orderId: oid("old"), reason: "restarted" }))
          expect(kioskAbort.reason).toContain("not resolved by the kiosk")
          expect((yield* orders.listFlagged()).map((o) => o.id)).toEqual([oid("old")])
          expect(yield* orders.voidStale({ olderThanMs: 30 * 60_000 })).toEqual({ voided: 0, more: false })
          yield* auditClean
        })
      ))

    it.effect("get answers an unknown order with OrderNotFound", () =>
      run(
        Effect.gen(function* () {
          const result = yield* Effect.either((yield* Orders).get(oid("none")))
          expect(Either.isLeft(result) && result.left._tag).toBe("OrderNotFound")
        })
      ))

    it.effect("100 concurrent orders never sell more than the offer's stock", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          const offerId = OfferId.make("off_rush")
          const version = yield* addOffer({ id: offerId, pricePoints: 10, stock: 37 }).pipe(Effect.as(2))
          const results = yield* Effect.all(
            Array.from({ length: 100 }, (_, i) => Effect.either(orders.place(placeReq(`rush${i}`, { offerId, catalogVersion: version })))),
            { concurrency: "unbounded" }
          )
          const sold = results.filter(Either.isRight).length
          const refused = results.filter((r) => Either.isLeft(r) && r.left._tag === "OutOfStock").length
          expect([sold, refused]).toEqual([37, 63])
          expect(yield* stock(offerId)).toBe(0)
          expect(yield* available(world.alice)).toBe(world.alicePoints - 370)
          yield* auditClean
        })
      ))

    it.effect("a replay racing its first attempt answers the same placement", () =>
      run(
        Effect.gen(function* () {
          const orders = yield* Orders
          const results = yield* Effect.all(Array.from({ length: 10 }, () => orders.place(placeReq("twin"))), { concurrency: "unbounded" })
          expect(new Set(results.map((r) => r.couponId)).size).toBe(1)
          expect(yield* stock()).toBe(world.offerStock - 1)
          expect(Option.isSome(Option.fromNullable(results[0]))).toBe(true)
        })
      ))
  })
}
