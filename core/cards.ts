import { SqlClient } from "@effect/sql"
import { Clock, Context, Data, Effect, Option, Schema } from "effect"
import {
  BeginDispense,
  Card,
  type CarrierChargePayload,
  CardAlreadyIssued,
  CardAlreadyReturned,
  cardFromRow,
  CardMismatch,
  CardReturn,
  CardRow,
  CardStateConflict,
  OverdueSweep,
  ReturnCard,
  UnknownCard
} from "./domain/card.js"
import { CouponRow } from "./domain/coupon.js"
import { CardUid, type InstitutionId, KioskId, type OrderId, type UserId } from "./domain/ids.js"
import { KioskNotFound, StockMovementId } from "./domain/kiosk.js"
import { recordStockMovement } from "./kiosks.js"
import { Medium, MediumMismatch, OrderAlreadyAborted, OrderAlreadyDelivered, OrderNotFound, OrderState } from "./domain/order.js"
import { DbInt } from "./domain/points.js"
import { Coupons } from "./coupons.js"
import { Outbox } from "./outbox.js"
import { firstRow } from "./rows.js"
import { traced } from "./traced.js"

export interface CardsSettings {
  /** Charged to the phone bill when a card is not back by its deadline. 0 means no deposit. */
  readonly depositPoints: number
  /** Days from hand-over until the card must be back at a kiosk. */
  readonly returnDeadlineDays: number
}

export const defaultCardsSettings: CardsSettings = { depositPoints: 3_000, returnDeadlineDays: 14 }

/** Provide a value to change the deposit or the deadline; the defaults apply otherwise. */
export class CardsConfig extends Context.Reference<CardsConfig>()("ecoupon/CardsConfig", {
  defaultValue: (): CardsSettings => defaultCardsSettings
}) {}

export const DAY_MS = 86_400_000
export const OVERDUE_BATCH_MAX = 500

/** The key of a card's one deposit charge in the outbox; the auditor finds charges by the UID in it. */
export const carrierChargeKey = (uid: CardUid): string => `carrier_charge:${uid}`

/** Another request made the same card in the meantime: answer from what it wrote. */
class Raced extends Data.TaggedError("Raced")<{}> {}

const OrderForCard = Schema.Struct({ id: Schema.String, kiosk_id: KioskId, user_id: Schema.String, medium: Medium, state: OrderState, cards: DbInt })
const CapturedAt = Schema.Struct({ at_ms: DbInt })
const Sum = Schema.Struct({ total: Schema.NullOr(DbInt) })
const firstCard = firstRow(CardRow)
const firstOrder = firstRow(OrderForCard)
const firstCapturedAt = firstRow(CapturedAt)
const firstSum = firstRow(Sum)
const decodeDueCards = Schema.decodeUnknown(Schema.Array(Schema.Struct({ uid: CardUid })))

/**
 * Cards (DESIGN §4): a card UID is issued once. `beginDispense` takes a blank from the kiosk's stacker
 * for an order; the order's delivery hands it over (`handOver`, called by Orders in its transaction)
 * with a return deadline; a failed hand-over is `retain`ed into the kiosk's bin. `return` works at any
 * kiosk: the card is captured there and the unredeemed balance of its coupons goes to that region's
 * institution. `sweepOverdue` forfeits the balance of cards past their deadline and queues the deposit
 * charge (see `cards-charge.ts`).
 *
 * A card that comes back after its deadline passed: if the charge is only queued (`overdue`), the
 * return wins, the card is `returned` and the charge is dropped (cancelled at the carrier if it was
 * being authorised at that moment). Once the carrier has authorised it (`charged`) or it is `closed`,
 * the charge stands: the card is captured and kept, its return recorded, nothing refunded and no
 * points move (its balance was forfeited at the deadline). A user gets the deposit back only by
 * returning the card in time; an operator can refund by hand through the carrier.
 */
export class Cards extends Effect.Service<Cards>()("ecoupon/Cards", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const coupons = yield* Coupons
    const outbox = yield* Outbox
    const decodeCoupons = Schema.decodeUnknown(Schema.Array(CouponRow))

    const find = (uid: CardUid) => sql`SELECT * FROM cards WHERE uid = ${uid}`.pipe(Effect.orDie, Effect.flatMap(firstCard))

    const forUpdateOfCard = sql.onDialectOrElse({ pg: () => sql`FOR UPDATE OF c`, orElse: () => sql`` })

    /** Reads the card and (on PostgreSQL) holds its row until the transaction ends. */
    const lock = (uid: CardUid) =>
      sql`UPDATE cards SET state = state WHERE uid = ${uid} RETURNING *`.pipe(Effect.orDie, Effect.flatMap(firstCard))

    const regionOfKiosk = (kioskId: KioskId) =>
      coupons.kioskTerms(kioskId).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(new KioskNotFound({ kioskId })), onSome: (terms) => Effect.succeed(terms.regionId) }))
      )

    /**
     * One card into or out of a kiosk through the kiosks service, which keeps the kiosk's counts equal
     * to its movements. The movement id (`dispense:<uid>`, `capture:<uid>`) makes a retry a no-op.
     */
    // The kiosks service's movement needs the SqlClient in the context. Provided only when the fiber's
    // context lacks this very client: providing it costs a dozen steps of Effect's run loop a call,
    // and the callers' fibers usually run with it already.
    const withSql = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>): Effect.Effect<A, E> =>
      Effect.withFiberRuntime((fiber) =>
        Option.getOrUndefined(Context.getOption(fiber.currentContext, SqlClient.SqlClient)) === sql
          ? (effect as Effect.Effect<A, E>)
          : Effect.provideService(effect, SqlClient.SqlClient, sql)
      )

    const moveCard = (kioskId: KioskId, kind: "dispense" | "capture", uid: CardUid) =>
      recordStockMovement({ id: StockMovementId.make(`${kind}:${uid}`), kioskId, kind, deltaStacker: kind === "dispense" ? -1 : 0, deltaBin: kind === "dispense" ? 0 : 1, ref: uid }).pipe(
        Effect.catchTags({
          // Neither can happen for a single card with a fresh id; if one does, it is a bug.
          StackerOverfilled: Effect.die,
          StockMovementConflict: Effect.die
        }),
        withSql
      )

    const beginDispense = (request: BeginDispense) => {
      const { uid, kioskId, orderId } = request
      const replayOf = (card: CardRow) =>
        card.state === "dispensing" && card.order_id === orderId && card.kiosk_id === kioskId
          ? Effect.succeed(cardFromRow(card))
          : Effect.fail(new CardAlreadyIssued({ uid, state: card.state, orderId: card.order_id }))
      /** Why the card was not made for the order: a replay (answered first), or what the order says. */
      const refusal = Effect.gen(function* () {
        // The order, and whether the card exists already, in one statement.
        const orders = yield* sql`
          SELECT id, kiosk_id, user_id, medium, state, (SELECT COUNT(*) FROM cards WHERE uid = ${uid}) AS cards
          FROM orders WHERE id = ${orderId}`.pipe(Effect.orDie)
        const order = yield* firstOrder(orders)
        if (Option.isNone(order) || order.value.cards > 0) {
          const existing = yield* find(uid)
          if (Option.isSome(existing)) return yield* replayOf(existing.value)
        }
        if (Option.isNone(order)) return yield* new OrderNotFound({ orderId })
        const { state, medium } = order.value
        if (state === "aborted") return yield* new OrderAlreadyAborted({ orderId, reason: null, flagged: false })
        if (state === "delivered") return yield* new OrderAlreadyDelivered({ orderId })
        if (order.value.kiosk_id !== kioskId) {
          return yield* new CardMismatch({ uid, detail: `order ${orderId} was placed at kiosk ${order.value.kiosk_id}, not ${kioskId}` })
        }
        if (medium !== "card") return yield* new MediumMismatch({ orderId, placed: medium, delivered: "card" })
        // The order may have it, so the card was made meanwhile by another request.
        return yield* new Raced()
      })
      const write = Effect.gen(function* () {
        const settings = yield* CardsConfig
        const now = yield* Clock.currentTimeMillis
        // Made straight from the order, if it is placed here for a card and the UID is new: one
        // statement in the usual case. Nothing made: `refusal` reads why. (PostgreSQL types the
        // selected values from the SELECT, not from the columns: hence the casts.)
        const inserted = yield* sql`
          INSERT INTO cards (uid, state, kiosk_id, order_id, user_id, deposit_points, charge_state, dispensed_at_ms, updated_at_ms)
          SELECT ${uid}, 'dispensing', kiosk_id, id, user_id, CAST(${settings.depositPoints} AS BIGINT), 'none', CAST(${now} AS BIGINT), CAST(${now} AS BIGINT)
          FROM orders WHERE id = ${orderId} AND state = 'placed' AND kiosk_id = ${kioskId} AND medium = 'card'
          ON CONFLICT (uid) DO NOTHING
          RETURNING *`
        if (inserted.length === 0) return yield* refusal
        yield* moveCard(kioskId, "dispense", uid)
        return cardFromRow(Option.getOrThrow(yield* firstCard(inserted)))
      })
      // SQL errors are defects: the insert above leaves them to this one handler.
      return sql.withTransaction(write).pipe(
        Effect.catchTags({
          SqlError: Effect.die,
          Raced: () => find(uid).pipe(Effect.flatMap(Option.match({ onNone: () => Effect.dieMessage(`card ${uid} raced but is not there`), onSome: replayOf })))
        }),
        traced("Cards.beginDispense")
      )
    }

    /**
     * For Orders.deliver, in its transaction: the card dispensed for this order goes to the customer
     * with its return deadline (`returnDeadlineDays`, the ordering kiosk's own, where the card was
     * dispensed; the service default when null). A card the same customer already holds (before its
     * deadline) may carry the new coupon too. Answers the card's deadline.
     */
    const handOver = (request: {
      readonly uid: CardUid
      readonly orderId: OrderId
      readonly userId: UserId
      readonly nowMs: number
      readonly returnDeadlineDays: number | null
    }) =>
      Effect.gen(function* () {
        const { uid, orderId, userId, nowMs } = request
        const settings = yield* CardsConfig
        const deadlineMs = nowMs + (request.returnDeadlineDays ?? settings.returnDeadlineDays) * DAY_MS
        // Handed over first, in one statement: the usual case needs no read before it.
        const handed = yield* sql`
          UPDATE cards SET state = 'with_user', deadline_ms = ${deadlineMs}, updated_at_ms = ${nowMs}
          WHERE uid = ${uid} AND state = 'dispensing' AND order_id = ${orderId}
          RETURNING uid`.pipe(Effect.orDie)
        if (handed.length > 0) return deadlineMs
        // Not dispensing for this order: the card (held on PostgreSQL) says whether it may still carry it.
        const found = yield* sql`SELECT * FROM cards c WHERE c.uid = ${uid} ${forUpdateOfCard}`.pipe(Effect.orDie, Effect.flatMap(firstCard))
        if (Option.isNone(found)) return yield* new UnknownCard({ uid })
        const card = found.value
        if (card.state === "with_user" && card.user_id === userId && card.deadline_ms !== null && card.deadline_ms > nowMs) {
          return card.deadline_ms
        }
        if (card.state !== "dispensing") return yield* new CardStateConflict({ uid, state: card.state, expected: "dispensing for this order" })
        return yield* new CardMismatch({ uid, detail: `it was dispensed for order ${card.order_id}, not ${orderId}` })
      })

    /** Captures a card whose hand-over failed into the bin of the kiosk that dispensed it. */
    const retain = (request: { readonly uid: CardUid; readonly kioskId: KioskId; readonly orderId?: OrderId | undefined }) => {
      const { uid, kioskId, orderId } = request
      const write = Effect.gen(function* () {
        const found = yield* lock(uid)
        if (Option.isNone(found)) return yield* new UnknownCard({ uid })
        const card = found.value
        if (orderId !== undefined && card.order_id !== orderId) {
          return yield* new CardMismatch({ uid, detail: `it was dispensed for order ${card.order_id}, not ${orderId}` })
        }
        if (card.state === "retained" && card.return_kiosk_id === kioskId) return cardFromRow(card)
        if (card.state !== "dispensing") return yield* new CardStateConflict({ uid, state: card.state, expected: "dispensing" })
        if (card.kiosk_id !== kioskId) return yield* new CardMismatch({ uid, detail: `it is being dispensed at kiosk ${card.kiosk_id}, not ${kioskId}` })
        const now = yield* Clock.currentTimeMillis
        yield* moveCard(kioskId, "capture", uid)
        const updated = yield* sql`
          UPDATE cards SET state = 'retained', return_kiosk_id = ${kioskId}, updated_at_ms = ${now} WHERE uid = ${uid} RETURNING *`.pipe(Effect.orDie)
        return cardFromRow(Option.getOrThrow(yield* firstCard(updated)))
      })
      return sql.withTransaction(write).pipe(Effect.catchTag("SqlError", Effect.die), traced("Cards.retain"))
    }

    const capturedAtMs = (uid: CardUid) =>
      sql`SELECT at_ms FROM card_stock_movements WHERE id = ${`capture:${uid}`}`.pipe(
        Effect.orDie,
        Effect.flatMap(firstCapturedAt),
        Effect.map(Option.match({ onNone: () => 0, onSome: (row) => row.at_ms }))
      )

    const forwardedOnReturn = (uid: CardUid) =>
      sql`
        SELECT SUM(t.amount) AS total FROM ledger_transfers t JOIN coupons c ON t.ref = c.id
        WHERE c.card_uid = ${uid} AND t.code = 'return'`.pipe(
        Effect.orDie,
        Effect.flatMap(firstSum),
        Effect.map(Option.match({ onNone: () => 0, onSome: (row) => row.total ?? 0 }))
      )

    /** The answer to a return that already happened, rebuilt from what it wrote. */
    const returnedBefore = (card: CardRow, kioskId: KioskId) =>
      Effect.gen(function* () {
        const returnedAtMs = yield* capturedAtMs(card.uid)
        if (card.state === "returned") {
          const institutionId = yield* coupons.institutionOf(yield* regionOfKiosk(kioskId))
          const forwardedPoints = yield* forwardedOnReturn(card.uid)
          return new CardReturn({ uid: card.uid, kioskId, outcome: "returned", institutionId, forwardedPoints, returnedAtMs })
        }
        return new CardReturn({ uid: card.uid, kioskId, outcome: "returned_after_charge", institutionId: null, forwardedPoints: 0, returnedAtMs })
      })

    const cardCoupons = (uid: CardUid) =>
      sql`SELECT * FROM coupons WHERE card_uid = ${uid} AND state IN ('active', 'used') ORDER BY id`.pipe(Effect.flatMap(decodeCoupons), Effect.orDie)

    /** Sends what is left on the card's coupons to `institutionOf(coupon)`; answers the points moved. */
    const closeCoupons = (
      uid: CardUid,
      code: "return" | "forfeit",
      institutionOf: (coupon: CouponRow) => Effect.Effect<InstitutionId>,
      nowMs: number
    ) =>
      Effect.gen(function* () {
        let moved = 0
        for (const coupon of yield* cardCoupons(uid)) {
          const institutionId = yield* institutionOf(coupon)
          moved += yield* coupons.forwardBalance({ couponId: coupon.id, institutionId, code, state: code === "return" ? "returned" : "forfeited", nowMs })
        }
        return moved
      })

    const returnCard = (request: ReturnCard) => {
      const { uid, kioskId } = request
      const write = Effect.gen(function* () {
        const found = yield* lock(uid)
        // Never captured: the kiosk ejects a card the system did not issue.
        if (Option.isNone(found)) return yield* new UnknownCard({ uid })
        const card = found.value
        const regionId = yield* regionOfKiosk(kioskId)
        switch (card.state) {
          case "dispensing":
            return yield* new CardStateConflict({ uid, state: card.state, expected: "with the customer" })
          case "returned":
          case "retained":
            if (card.state === "returned" && card.return_kiosk_id === kioskId) return yield* returnedBefore(card, kioskId)
            return yield* new CardAlreadyReturned({ uid, state: card.state, kioskId: card.return_kiosk_id })
          case "charged":
          case "closed": {
            if (card.return_kiosk_id === kioskId) return yield* returnedBefore(card, kioskId)
            if (card.return_kiosk_id !== null) return yield* new CardAlreadyReturned({ uid, state: card.state, kioskId: card.return_kiosk_id })
            const now = yield* Clock.currentTimeMillis
            yield* moveCard(kioskId, "capture", uid)
            yield* sql`UPDATE cards SET return_kiosk_id = ${kioskId}, updated_at_ms = ${now} WHERE uid = ${uid}`.pipe(Effect.orDie)
            return new CardReturn({ uid, kioskId, outcome: "returned_after_charge", institutionId: null, forwardedPoints: 0, returnedAtMs: now })
          }
          case "with_user":
          case "overdue": {
            const now = yield* Clock.currentTimeMillis
            yield* moveCard(kioskId, "capture", uid)
            const institutionId = yield* coupons.institutionOf(regionId)
            // An overdue card's coupons were forfeited at the deadline: nothing is left to move.
            const forwardedPoints = yield* closeCoupons(uid, "return", () => Effect.succeed(institutionId), now)
            yield* sql`
              UPDATE cards SET state = 'returned', charge_state = 'none', return_kiosk_id = ${kioskId}, updated_at_ms = ${now}
              WHERE uid = ${uid}`.pipe(Effect.orDie)
            return new CardReturn({ uid, kioskId, outcome: "returned", institutionId, forwardedPoints, returnedAtMs: now })
          }
        }
      })
      return sql.withTransaction(write).pipe(Effect.catchTag("SqlError", Effect.die), traced("Cards.return"))
    }

    /** One overdue card in its own transaction; false when it was returned or swept meanwhile. */
    const markOverdue = (uid: CardUid, nowMs: number) =>
      Effect.gen(function* () {
        const found = yield* lock(uid)
        if (Option.isNone(found)) return { overdue: false, forfeited: 0, charged: false }
        const card = found.value
        if (card.state !== "with_user" || card.deadline_ms === null || card.deadline_ms > nowMs) return { overdue: false, forfeited: 0, charged: false }
        const forfeited = yield* closeCoupons(uid, "forfeit", (coupon) => coupons.institutionOf(coupon.region_id), nowMs)
        if (card.deposit_points <= 0) {
          // Nothing to charge: the card's story ends here.
          yield* sql`UPDATE cards SET state = 'closed', updated_at_ms = ${nowMs} WHERE uid = ${uid}`.pipe(Effect.orDie)
          return { overdue: true, forfeited, charged: false }
        }
        yield* sql`UPDATE cards SET state = 'overdue', charge_state = 'pending', updated_at_ms = ${nowMs} WHERE uid = ${uid}`.pipe(Effect.orDie)
        const payload: CarrierChargePayload = { cardUid: uid, userId: card.user_id, amountPoints: card.deposit_points }
        yield* outbox.enqueue({ kind: "carrier_charge", idempotencyKey: carrierChargeKey(uid), payload })
        return { overdue: true, forfeited, charged: true }
      }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die))

    const sweepOverdue = (options: { readonly limit?: number } = {}) =>
      Effect.gen(function* () {
        const limit = Math.min(Math.max(1, options.limit ?? OVERDUE_BATCH_MAX), OVERDUE_BATCH_MAX)
        const now = yield* Clock.currentTimeMillis
        const due = yield* sql`
          SELECT uid FROM cards WHERE state = 'with_user' AND deadline_ms <= ${now}
          ORDER BY deadline_ms, uid LIMIT ${limit + 1}`.pipe(Effect.flatMap(decodeDueCards), Effect.orDie)
        const batch = due.slice(0, limit)
        let overdueCards = 0
        let forfeitedPoints = 0
        let chargesQueued = 0
        for (const { uid } of batch) {
          const outcome = yield* markOverdue(uid, now)
          if (outcome.overdue) overdueCards += 1
          if (outcome.charged) chargesQueued += 1
          forfeitedPoints += outcome.forfeited
        }
        return new OverdueSweep({ overdueCards, forfeitedPoints, chargesQueued, more: due.length > limit })
      }).pipe(traced("Cards.sweepOverdue"))

    const get = (uid: CardUid): Effect.Effect<Card, UnknownCard> =>
      find(uid).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(new UnknownCard({ uid })), onSome: (row) => Effect.succeed(cardFromRow(row)) })),
        traced("Cards.get")
      )

    return { beginDispense, handOver, retain, return: returnCard, sweepOverdue, get } as const
  }),
  dependencies: [Coupons.Default, Outbox.Default]
}) {}
