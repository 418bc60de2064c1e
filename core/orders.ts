import { Clock, Data, Effect, Option, Schema } from "effect"
import { Cards } from "./cards.js"
import { Coupons, kioskTermsOf, returnDeadlineDaysOf } from "./coupons.js"
import { CouponCode, CouponId, OrderId, type PhoneNumber, TransferId } from "./domain/ids.js"
import { OutboxKinds, type SmsPayload } from "./domain/outbox.js"
import { InvalidRequest } from "./domain/invalid-request.js"
import { KioskNotFound } from "./domain/kiosk.js"
import { Account } from "./domain/ledger.js"
import {
  type AbortOrder,
  ABORT_REASON_LENGTH_MAX,
  type DeliverOrder,
  Delivery,
  InsufficientPoints,
  KioskNotAvailable,
  MediumMismatch,
  OfferNotAvailable,
  Order,
  OrderAlreadyAborted,
  OrderAlreadyDelivered,
  OrderConflict,
  orderFromRow,
  OrderNotFound,
  OrderRow,
  OutOfStock,
  type PlaceOrder,
  Placement,
  QUANTITY_MAX,
  ProviderOrderPayload,
  StaleCatalog
} from "./domain/order.js"
import { UserNotFound } from "./domain/user.js"
import { newCouponCode, newId } from "./id-generator.js"
import { Ledger } from "./ledger.js"
import { abortKey, currentOffer, deliverKey, keyDifference, makeOrdersRepo, placeKey } from "./orders-repo.js"
import { Outbox } from "./outbox.js"
import { traced } from "./traced.js"

export const STALE_BATCH_MAX = 500

/** The key of an order's one submission to its provider. */
export const providerOrderKey = (orderId: OrderId): string => `provider_order:${orderId}`

/** The key of the text that carries a phone-delivered coupon. */
export const couponTextKey = (orderId: OrderId): string => `sms:coupon:${orderId}`

/** Another request wrote the same order in the meantime: answer from what it wrote. */
class Raced extends Data.TaggedError("Raced")<{}> {}

const pendingId = (orderId: OrderId) => TransferId.make(`order:${orderId}`)

const decodeOrderIds = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: OrderId })))
const decodeOrders = Schema.decodeUnknown(Schema.Array(OrderRow))

/**
 * Orders and their coupons (DESIGN §4). `place` checks everything, takes the stock, reserves the
 * points (a pending transfer user -> coupon) and makes the coupon `reserved`; then exactly one of
 * `deliver` (post the transfer, coupon `active`, order content queued to the provider) or `abort`
 * (void it, coupon `void`, stock back). Each is one transaction: a refusal writes nothing. The order
 * id is the kiosk's idempotency key: replaying a request with the same body answers as the first
 * time; the same id with another body is an `OrderConflict`.
 *
 * A kiosk that restarts mid-order asks `get` and finishes what it started; an order nobody resolves is
 * aborted by `voidStale` after a long timeout and flagged for an operator. A kiosk's own abort of an
 * order the server already voided is answered with that abort (and retains the card it names).
 *
 * Cards: `deliver` on card hands over the card `Cards.beginDispense` took for the order (or one the
 * same customer already holds); `abort` with `retainedCardUid` captures that card into the kiosk's bin
 * in the same transaction. An abort without it leaves a card still `dispensing` as it is: the kiosk
 * says where the card went with `Cards.retain` when it knows.
 */
export class Orders extends Effect.Service<Orders>()("ecoupon/Orders", {
  effect: Effect.gen(function* () {
    const repo = yield* makeOrdersRepo
    const { sql } = repo
    const ledger = yield* Ledger
    const coupons = yield* Coupons
    const cards = yield* Cards
    const outbox = yield* Outbox
    const { placementOf, deliveryOf, abortionOf, resolveCustomer } = repo

    const place = (request: PlaceOrder) => {
      const { orderId, kioskId, offerId, quantity, catalogVersion, medium } = request
      const requestKey = placeKey(request)
      const replayOf = (row: OrderRow) =>
        row.request_key === requestKey
          ? Effect.succeed(placementOf(row))
          : Effect.fail(new OrderConflict({ orderId, operation: "place", difference: keyDifference(row.request_key, requestKey) }))
      const write = Effect.gen(function* () {
        // A replay answers as the first time, whatever changed since. With a session, whether the
        // order exists comes with the session's row: one statement for both.
        const { customer } = request
        const looked = customer._tag === "session" ? yield* repo.sessionUnlessPlaced(customer.sessionId, orderId, kioskId) : undefined
        if (looked === undefined || Option.isNone(looked) || looked.value.placed > 0) {
          const existing = yield* repo.findOrder(orderId)
          if (Option.isSome(existing)) return yield* replayOf(existing.value)
        }
        if (!Number.isSafeInteger(quantity) || quantity < 1 || quantity > QUANTITY_MAX) {
          return yield* new InvalidRequest({ reason: `quantity must be a whole number from 1 to ${QUANTITY_MAX}, got ${quantity}` })
        }
        if (!Number.isSafeInteger(catalogVersion) || catalogVersion < 0) {
          return yield* new InvalidRequest({ reason: `catalog version must be the whole number the kiosk's catalog shows, got ${catalogVersion}` })
        }
        const now = yield* Clock.currentTimeMillis
        const userId = yield* resolveCustomer(request, now, looked)
        // The kiosk's terms came with the session's row when there is one.
        const terms = looked !== undefined && Option.isSome(looked)
          ? Option.map(Option.fromNullable(looked.value.kiosk_region_id), (regionId) => kioskTermsOf(regionId, looked.value.kiosk_desired_json))
          : yield* coupons.kioskTerms(kioskId)
        if (Option.isNone(terms)) return yield* new KioskNotFound({ kioskId })
        if (!terms.value.enabled) return yield* new KioskNotAvailable({ kioskId, reason: "disabled by an operator" })
        const { regionId } = terms.value
        // Stock first, with the offer as it was: the checks below fail (and roll the take back) if the
        // order may not have it. Nothing taken: the offer read on its own says why.
        const taken = yield* repo.takeStockForOrder(offerId, regionId, quantity)
        const found = Option.isSome(taken) ? taken : yield* repo.offerForOrder(offerId, regionId)
        if (Option.isNone(found)) return yield* new OfferNotAvailable({ offerId, reason: "no such offer" })
        const { offer, versions } = found.value
        if (!found.value.soldIn) return yield* new OfferNotAvailable({ offerId, reason: `not sold in region ${regionId}` })
        if (offer.merchant_status !== "registered") {
          return yield* new OfferNotAvailable({ offerId, reason: `its merchant ${offer.merchant_id} is ${offer.merchant_status}` })
        }
        if (offer.status !== "active") return yield* new OfferNotAvailable({ offerId, reason: `it is ${offer.status}` })
        if (now < offer.valid_from_ms || now >= offer.valid_until_ms) {
          return yield* new OfferNotAvailable({
            offerId,
            reason: `on sale from ${new Date(offer.valid_from_ms).toISOString()} until ${new Date(offer.valid_until_ms).toISOString()}`
          })
        }
        // Older than the offer's last change, or newer than the region has ever been: either way the
        // kiosk is not showing the offer as it is.
        if (catalogVersion < versions.offerChanged || catalogVersion > versions.current) {
          return yield* new StaleCatalog({ offerId, kioskVersion: catalogVersion, currentVersion: versions.current, offer: currentOffer(offer) })
        }
        const amount = offer.price_points * quantity
        if (!Number.isSafeInteger(amount)) return yield* new OfferNotAvailable({ offerId, reason: `${quantity} of it cost more points than can be counted` })
        if (Option.isNone(taken)) return yield* new OutOfStock({ offerId, stock: offer.stock, requested: quantity })
        const couponId = CouponId.make(yield* newId("cpn"))
        const couponCode = CouponCode.make(yield* newCouponCode)
        const inserted = yield* sql`
          INSERT INTO orders (id, kiosk_id, user_id, merchant_id, offer_id, quantity, unit_price_points, amount, catalog_version, medium, state, request_key, flagged, placed_at_ms)
          VALUES (${orderId}, ${kioskId}, ${userId}, ${offer.merchant_id}, ${offerId}, ${quantity}, ${offer.price_points}, ${amount}, ${catalogVersion}, ${medium}, 'placed', ${requestKey}, 0, ${now})
          ON CONFLICT (id) DO NOTHING
          RETURNING id`
        if (inserted.length === 0) return yield* new Raced()
        // Issued and expiry are provisional until delivery; their difference keeps the validity the
        // customer bought, whatever the merchant changes meanwhile.
        yield* sql`
          INSERT INTO coupons (id, code, order_id, user_id, merchant_id, offer_id, region_id, value_points, state, medium, card_uid, issued_at_ms, expires_at_ms)
          VALUES (${couponId}, ${couponCode}, ${orderId}, ${userId}, ${offer.merchant_id}, ${offerId}, ${regionId}, ${amount}, 'reserved', ${medium}, NULL, ${now}, ${now + offer.coupon_validity_ms})`
        yield* ledger.openAccount(Account.coupon(couponId), "coupon").pipe(Effect.orDie)
        yield* ledger.transfer({ id: pendingId(orderId), debit: Account.user(userId), credit: Account.coupon(couponId), amount, pending: true, code: "order", ref: orderId }).pipe(
          Effect.catchTags({
            InsufficientFunds: (error) => Effect.fail(new InsufficientPoints({ userId, availablePoints: error.available, requiredPoints: amount })),
            AccountNotFound: () => Effect.fail(new UserNotFound({ userId })),
            TransferConflict: Effect.die,
            InvalidTransfer: Effect.die
          })
        )
        return new Placement({ orderId, couponId, couponCode, merchantId: offer.merchant_id, offerId, quantity, unitPricePoints: offer.price_points, amountPoints: amount, medium, placedAtMs: now }, true)
      })
      // SQL errors are defects: the statements above leave them to this one handler.
      return sql.withTransaction(write).pipe(
        Effect.catchTags({
          SqlError: Effect.die,
          Raced: () =>
            repo.findOrder(orderId).pipe(Effect.flatMap(Option.match({ onNone: () => Effect.dieMessage(`order ${orderId} raced but is not there`), onSome: replayOf })))
        }),
        traced("Orders.place")
      )
    }

    const deliver = (request: DeliverOrder) => {
      const { orderId, medium } = request
      const key = deliverKey(medium)
      /** Why an order could not be delivered (not placed, or of another medium), or its first delivery again. */
      const notPlaced = Effect.gen(function* () {
        const found = yield* repo.lockOrder(orderId)
        if (Option.isNone(found)) return yield* new OrderNotFound({ orderId })
        const order = found.value
        if (order.state === "aborted") return yield* new OrderAlreadyAborted({ orderId, reason: order.abort_reason, flagged: order.flagged })
        if (order.state === "delivered") {
          if (order.resolution_key === key) return yield* deliveryOf(order)
          return yield* new OrderConflict({ orderId, operation: "deliver", difference: keyDifference(order.resolution_key, key) })
        }
        if (medium._tag !== order.medium) return yield* new MediumMismatch({ orderId, placed: order.medium, delivered: medium._tag })
        // The claim found no placed order of this medium, and in the same transaction here it is.
        return yield* Effect.dieMessage(`order ${orderId} is placed for ${order.medium} yet its delivery claimed nothing`)
      })
      const write = Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        // The order delivered first, in one statement (the usual case needs no read before it); a
        // refusal below rolls it back with everything else.
        const claimed = yield* repo.claimForDelivery(orderId, medium._tag, key, now)
        if (Option.isNone(claimed)) return yield* notPlaced
        const order = claimed.value
        const cardUid = medium._tag === "card" ? medium.cardUid : null
        const cardDeadlineMs = cardUid === null
          ? null
          : yield* cards.handOver({ uid: cardUid, orderId, userId: order.user_id, nowMs: now, returnDeadlineDays: returnDeadlineDaysOf(order.kiosk_desired_json) })
        // The order was placed, so the pending transfer is still pending: anything else is a bug.
        yield* ledger.post({ id: TransferId.make(`order:${orderId}:post`), pendingId: pendingId(orderId) }).pipe(Effect.orDie)
        const coupon = yield* repo.activateCoupon(orderId, cardUid, now)
        const payload: ProviderOrderPayload = {
          merchantId: order.merchant_id,
          orderId,
          offerId: order.offer_id,
          couponCode: coupon.code,
          quantity: order.quantity,
          amount: order.amount,
          deliveredAtMs: now
        }
        yield* outbox.enqueue({ kind: OutboxKinds.providerOrder, idempotencyKey: providerOrderKey(orderId), payload })
        if (medium._tag === "phone") yield* textCoupon(order.phone ?? null, orderId, coupon.code, coupon.value_points, coupon.expires_at_ms)
        // Built from what was just written rather than read back (a coupon's medium is its order's).
        return new Delivery({
          orderId,
          couponId: coupon.id,
          couponCode: coupon.code,
          valuePoints: coupon.value_points,
          medium: order.medium,
          cardUid,
          cardDeadlineMs,
          issuedAtMs: coupon.issued_at_ms,
          expiresAtMs: coupon.expires_at_ms
        }, true)
      })
      return sql.withTransaction(write).pipe(Effect.catchTag("SqlError", Effect.die), traced("Orders.deliver"))
    }

    /**
     * A coupon delivered to the phone is texted to the customer's number (read with the delivery's
     * claim of the order) through the outbox (the SMS handler keeps neither number nor text once sent).
     */
    const textCoupon = (to: PhoneNumber | null, orderId: OrderId, code: CouponCode, valuePoints: number, expiresAtMs: number) =>
      Effect.gen(function* () {
        if (to === null) return yield* Effect.dieMessage(`the user of order ${orderId} has no phone number`)
        const payload: SmsPayload = {
          to,
          text: `Your ecoupon ${code} is worth ${valuePoints} points. Show it at the shop before ${new Date(expiresAtMs).toISOString().slice(0, 10)}.`
        }
        yield* outbox.enqueue({ kind: OutboxKinds.sms, idempotencyKey: couponTextKey(orderId), payload })
      })

    /** Voids the points, the coupon and the stock of a placed order; in the caller's transaction. */
    const abortPlaced = (order: OrderRow, reason: string, key: string, flagged: boolean, nowMs: number) =>
      Effect.gen(function* () {
        yield* ledger.void({ id: TransferId.make(`order:${order.id}:void`), pendingId: pendingId(order.id) }).pipe(Effect.orDie)
        yield* sql`UPDATE coupons SET state = 'void', closed_at_ms = ${nowMs} WHERE id = ${order.coupon_id}`.pipe(Effect.orDie)
        yield* repo.giveBackStock(order.offer_id, order.quantity)
        yield* sql`
          UPDATE orders SET state = 'aborted', abort_reason = ${reason}, resolution_key = ${key}, flagged = ${flagged ? 1 : 0}, resolved_at_ms = ${nowMs}
          WHERE id = ${order.id}`.pipe(Effect.orDie)
        return abortionOf({ ...order, state: "aborted", abort_reason: reason, resolution_key: key, flagged, resolved_at_ms: nowMs })
      })

    const abort = (request: AbortOrder) => {
      const { orderId, reason } = request
      const retainedCardUid = request.retainedCardUid ?? null
      const key = abortKey(reason, retainedCardUid, "kiosk")
      const write = Effect.gen(function* () {
        if (reason.trim().length === 0 || reason.length > ABORT_REASON_LENGTH_MAX) {
          return yield* new InvalidRequest({ reason: `an abort needs a reason of 1 to ${ABORT_REASON_LENGTH_MAX} characters saying what went wrong` })
        }
        const found = yield* repo.lockOrder(orderId)
        if (Option.isNone(found)) return yield* new OrderNotFound({ orderId })
        const order = found.value
        if (order.state === "delivered") return yield* new OrderAlreadyDelivered({ orderId })
        const retain = retainedCardUid === null ? Effect.void : cards.retain({ uid: retainedCardUid, kioskId: order.kiosk_id, orderId })
        if (order.state === "aborted") {
          if (order.resolution_key === key) return abortionOf(order)
          // The server gave up on the order first; the kiosk's own abort agrees with it.
          if (order.flagged) {
            yield* retain
            return abortionOf(order)
          }
          return yield* new OrderConflict({ orderId, operation: "abort", difference: keyDifference(order.resolution_key, key) })
        }
        yield* retain
        return yield* abortPlaced(order, reason, key, false, yield* Clock.currentTimeMillis)
      })
      return sql.withTransaction(write).pipe(Effect.catchTag("SqlError", Effect.die), traced("Orders.abort"))
    }

    const get = (orderId: OrderId): Effect.Effect<Order, OrderNotFound> =>
      repo.findOrder(orderId).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(new OrderNotFound({ orderId })), onSome: (row) => Effect.succeed(orderFromRow(row)) })),
        traced("Orders.get")
      )

    /**
     * Aborts orders still `placed` after `olderThanMs` (the kiosk never said how it ended) and flags
     * them for an operator. Each order in its own transaction; at most `limit` per call.
     */
    const voidStale = (options: { readonly olderThanMs: number; readonly limit?: number }) =>
      Effect.gen(function* () {
        const limit = Math.min(Math.max(1, options.limit ?? STALE_BATCH_MAX), STALE_BATCH_MAX)
        const now = yield* Clock.currentTimeMillis
        const cutoff = now - Math.max(0, options.olderThanMs)
        const reason = `not resolved by the kiosk within ${Math.round(options.olderThanMs / 60_000)} minutes`
        const stale = yield* sql`
          SELECT id FROM orders WHERE state = 'placed' AND placed_at_ms <= ${cutoff}
          ORDER BY placed_at_ms, id LIMIT ${limit + 1}`.pipe(Effect.flatMap(decodeOrderIds), Effect.orDie)
        const ids = stale.slice(0, limit).map((row) => row.id)
        let voided = 0
        for (const id of ids) {
          const done = yield* Effect.gen(function* () {
            const found = yield* repo.lockOrder(id)
            if (Option.isNone(found) || found.value.state !== "placed") return false
            yield* abortPlaced(found.value, reason, abortKey(reason, null, "server"), true, now)
            return true
          }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die))
          if (done) voided += 1
        }
        return { voided, more: stale.length > limit }
      }).pipe(traced("Orders.voidStale"))

    /** Orders the server voided, for an operator to follow up; newest first. */
    const listFlagged = (options: { readonly limit?: number } = {}): Effect.Effect<ReadonlyArray<Order>> => {
      const limit = Math.min(Math.max(1, options.limit ?? 100), STALE_BATCH_MAX)
      return sql`
        SELECT o.*, c.id AS coupon_id, c.code AS coupon_code, c.state AS coupon_state
        FROM orders o JOIN coupons c ON c.order_id = o.id
        WHERE o.flagged = 1 ORDER BY o.placed_at_ms DESC, o.id DESC LIMIT ${limit}`.pipe(
        Effect.orDie,
        Effect.flatMap(decodeOrders),
        Effect.orDie,
        Effect.map((rows) => rows.map(orderFromRow)),
        traced("Orders.listFlagged")
      )
    }

    return { place, deliver, abort, get, voidStale, listFlagged } as const
  }),
  dependencies: [Ledger.Default, Coupons.Default, Cards.Default, Outbox.Default]
}) {}

