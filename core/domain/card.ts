import { Schema } from "effect"
import { CardUid, InstitutionId, KioskId, OrderId, UserId } from "./ids.js"
import { DbInt } from "./points.js"

/**
 * A card is one physical medium, known by its RF UID (DESIGN §4). A UID is issued once: dispensing ->
 * with_user (deadline) -> returned (captured at any kiosk) | overdue -> charged -> closed; dispensing
 * -> retained (captured after a failed hand-over). Stacker and bin counts follow the card's moves.
 *
 * charge_state tracks the deposit charge of an unreturned card: none -> pending (queued, then
 * authorised while `charged`) -> confirmed | declined.
 */
export const CardState = Schema.Literal("dispensing", "with_user", "returned", "retained", "overdue", "charged", "closed")
export type CardState = typeof CardState.Type

export const ChargeState = Schema.Literal("none", "pending", "confirmed", "declined")
export type ChargeState = typeof ChargeState.Type

export class Card extends Schema.Class<Card>("Card")({
  uid: CardUid,
  state: CardState,
  /** The kiosk that dispensed it. */
  kioskId: KioskId,
  orderId: OrderId,
  userId: UserId,
  depositPoints: Schema.Int,
  /** Return by then, or the deposit is charged; null until the card is handed over. */
  deadlineMs: Schema.NullOr(Schema.Int),
  /** The kiosk whose bin captured it (returned, or came back after its deposit was charged). */
  returnKioskId: Schema.NullOr(KioskId),
  chargeState: ChargeState,
  dispensedAtMs: Schema.Int,
  updatedAtMs: Schema.Int
}) {}

export const CardRow = Schema.Struct({
  uid: CardUid,
  state: CardState,
  kiosk_id: KioskId,
  order_id: OrderId,
  user_id: UserId,
  deposit_points: DbInt,
  deadline_ms: Schema.NullOr(DbInt),
  return_kiosk_id: Schema.NullOr(KioskId),
  charge_state: ChargeState,
  dispensed_at_ms: DbInt,
  updated_at_ms: DbInt
})
export type CardRow = typeof CardRow.Type

export const cardFromRow = (row: CardRow): Card =>
  new Card({
    uid: row.uid,
    state: row.state,
    kioskId: row.kiosk_id,
    orderId: row.order_id,
    userId: row.user_id,
    depositPoints: row.deposit_points,
    deadlineMs: row.deadline_ms,
    returnKioskId: row.return_kiosk_id,
    chargeState: row.charge_state,
    dispensedAtMs: row.dispensed_at_ms,
    updatedAtMs: row.updated_at_ms
  }, true)

export class BeginDispense extends Schema.Class<BeginDispense>("BeginDispense")({
  uid: CardUid,
  kioskId: KioskId,
  orderId: OrderId
}) {}

export class ReturnCard extends Schema.Class<ReturnCard>("ReturnCard")({
  uid: CardUid,
  kioskId: KioskId
}) {}

/**
 * What a return did. `returned`: captured, the coupons' unredeemed balance went to the institution.
 * `returned_after_charge`: the card came back after its deposit was charged (or declined); it is
 * captured and kept, nothing is refunded and no points move (its balance was forfeited at the deadline).
 */
export class CardReturn extends Schema.Class<CardReturn>("CardReturn")({
  uid: CardUid,
  kioskId: KioskId,
  outcome: Schema.Literal("returned", "returned_after_charge"),
  institutionId: Schema.NullOr(InstitutionId),
  forwardedPoints: Schema.Int,
  returnedAtMs: Schema.Int
}) {}

/** The `carrier_charge` outbox payload: whose card, and the deposit to charge. The phone number is
 * looked up when sending, so it is never stored in the outbox. */
export const CarrierChargePayload = Schema.Struct({ cardUid: CardUid, userId: UserId, amountPoints: Schema.Int })
export type CarrierChargePayload = typeof CarrierChargePayload.Type

/** What the carrier charge handler did, kept as the outbox row's result. */
export const ChargeOutcome = Schema.Struct({
  outcome: Schema.Literal("confirmed", "declined", "cancelled", "skipped"),
  detail: Schema.String
})
export type ChargeOutcome = typeof ChargeOutcome.Type

/** One sweep of overdue cards. */
export class OverdueSweep extends Schema.Class<OverdueSweep>("OverdueSweep")({
  overdueCards: Schema.Int,
  forfeitedPoints: Schema.Int,
  chargesQueued: Schema.Int,
  /** True when the batch limit was reached: run the sweep again. */
  more: Schema.Boolean
}) {}

// --- errors ----------------------------------------------------------------------------------------

/** The kiosk read a UID the system never issued: it must eject the card, never capture it. */
export class UnknownCard extends Schema.TaggedError<UnknownCard>()("UnknownCard", { uid: Schema.String }) {
  override get message() {
    return `card ${this.uid} was not issued by this system; eject it back to the customer, do not capture it`
  }
}

/** A UID is issued once; a known card presented for dispensing is not one the stacker should hold. */
export class CardAlreadyIssued extends Schema.TaggedError<CardAlreadyIssued>()("CardAlreadyIssued", {
  uid: Schema.String,
  state: CardState,
  orderId: Schema.String
}) {
  override get message() {
    return `card ${this.uid} was already issued (for order ${this.orderId}, now ${this.state}); capture it to the bin and dispense the next card`
  }
}

/** The card is not in a state that allows the step (e.g. hand-over of a card that is not dispensing). */
export class CardStateConflict extends Schema.TaggedError<CardStateConflict>()("CardStateConflict", {
  uid: Schema.String,
  state: CardState,
  expected: Schema.String
}) {
  override get message() {
    return `card ${this.uid} is ${this.state}, not ${this.expected}; eject it and check the card's history with an operator`
  }
}

/** The card belongs to another order or kiosk than the request names. */
export class CardMismatch extends Schema.TaggedError<CardMismatch>()("CardMismatch", {
  uid: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `card ${this.uid} does not belong here (${this.detail}); use the card dispensed for this order`
  }
}

/** A card that was already captured cannot be returned again. */
export class CardAlreadyReturned extends Schema.TaggedError<CardAlreadyReturned>()("CardAlreadyReturned", {
  uid: Schema.String,
  state: CardState,
  kioskId: Schema.NullOr(Schema.String)
}) {
  override get message() {
    return `card ${this.uid} was already captured${this.kioskId === null ? "" : ` at kiosk ${this.kioskId}`} (${this.state}); eject it and report it to an operator`
  }
}
