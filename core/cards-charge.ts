import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option, Schema } from "effect"
import { CardRow, CarrierChargePayload, type ChargeOutcome } from "./domain/card.js"
import { type CardUid, PhoneNumber, TransferId } from "./domain/ids.js"
import { Account } from "./domain/ledger.js"
import { Ledger } from "./ledger.js"
import { firstRow } from "./rows.js"
import { type OutboxHandler, outboxHandler } from "./outbox.js"
import { CarrierBilling } from "./ports/carrier-billing.js"

/**
 * The deposit charge of an unreturned card (DESIGN claim 11), sent from the `carrier_charge` outbox
 * row that `Cards.sweepOverdue` wrote. The correlator is the card UID, so every carrier call is
 * idempotent there and a card is charged at most once (invariant 9).
 *
 *   overdue --prepare ok--> charged --confirm ok--> closed (confirmed; deposit transfer
 *                                                            carrier:billing -> deposits:carrier)
 *   overdue/charged --carrier refuses--> closed (declined)
 *
 * A card returned while the charge is only queued (`overdue`) is `returned` and never charged: the
 * handler finds it so and cancels whatever it may have prepared. Once authorised (`charged`) the
 * charge goes ahead even if the card comes back (see `Cards`). Carrier outages leave the row to the
 * outbox's retries; if those run out the card stays overdue/charged with charge `pending` for an
 * operator to retry the dead message.
 */
export class CardCharges extends Effect.Service<CardCharges>()("ecoupon/CardCharges", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const ledger = yield* Ledger
    const firstCard = firstRow(CardRow)
    const decodePhone = Schema.decodeUnknown(Schema.Array(Schema.Struct({ phone: PhoneNumber })))

    const card = (uid: CardUid) =>
      sql`SELECT * FROM cards WHERE uid = ${uid}`.pipe(Effect.orDie, Effect.flatMap(firstCard))

    /** Moves the card from `from` to `to` if it is still there; false if something else moved it. */
    const step = (uid: CardUid, from: ReadonlyArray<string>, to: string, chargeState: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const moved = yield* sql`
          UPDATE cards SET state = ${to}, charge_state = ${chargeState}, updated_at_ms = ${now}
          WHERE uid = ${uid} AND state IN ${sql.in(from)} AND charge_state = 'pending'
          RETURNING uid`
        return moved.length > 0
      }).pipe(sql.withTransaction, Effect.orDie)

    const outcome = (value: ChargeOutcome["outcome"], detail: string): ChargeOutcome => ({ outcome: value, detail })

    const send = (payload: CarrierChargePayload) =>
      Effect.gen(function* () {
        const billing = yield* CarrierBilling
        const uid = payload.cardUid
        const correlator = uid
        const dropped = (detail: string) =>
          // Cancelling what was never prepared is refused by the carrier: that is fine here.
          billing.cancel(correlator).pipe(
            Effect.catchTag("ServiceRejected", () => Effect.void),
            Effect.as(outcome("cancelled", detail))
          )
        const found = yield* card(uid)
        if (Option.isNone(found)) return outcome("skipped", "no such card")
        if (found.value.state === "returned") return yield* dropped("the card was returned before the charge went through")
        if (found.value.charge_state !== "pending") return outcome("skipped", `charge is ${found.value.charge_state}`)
        if (found.value.state === "overdue") {
          const phones = yield* sql`SELECT phone FROM users WHERE id = ${payload.userId}`.pipe(Effect.flatMap(decodePhone), Effect.orDie)
          const phone = phones[0]?.phone
          if (phone === undefined) return yield* Effect.dieMessage(`card ${uid}'s user ${payload.userId} has no phone number`)
          const prepared = yield* Effect.either(
            billing.prepare({ correlator, phone, amount: payload.amountPoints, description: `card ${uid} not returned by its deadline: deposit` })
          )
          if (prepared._tag === "Left") {
            if (prepared.left._tag === "ServiceUnavailable") return yield* prepared.left
            yield* step(uid, ["overdue"], "closed", "declined")
            return outcome("declined", prepared.left.reason)
          }
          if (!(yield* step(uid, ["overdue"], "charged", "pending"))) return yield* dropped("the card was returned while the charge was being authorised")
        }
        const confirmed = yield* Effect.either(billing.confirm(correlator))
        if (confirmed._tag === "Left") {
          if (confirmed.left._tag === "ServiceUnavailable") return yield* confirmed.left
          yield* billing.cancel(correlator).pipe(Effect.catchTag("ServiceRejected", () => Effect.void))
          yield* step(uid, ["overdue", "charged"], "closed", "declined")
          return outcome("declined", confirmed.left.reason)
        }
        return outcome("confirmed", `deposit of ${payload.amountPoints} points charged`)
      })

    /** In the transaction that marks the outbox row sent: the deposit is booked and the card closed. */
    const booked = (payload: CarrierChargePayload, result: ChargeOutcome) =>
      Effect.gen(function* () {
        if (result.outcome !== "confirmed") return
        const uid = payload.cardUid
        const now = yield* Clock.currentTimeMillis
        const closed = yield* sql`
          UPDATE cards SET state = 'closed', charge_state = 'confirmed', updated_at_ms = ${now}
          WHERE uid = ${uid} AND state = 'charged' AND charge_state = 'pending'
          RETURNING deposit_points`
        if (closed.length === 0) return
        yield* ledger.transfer({
          id: TransferId.make(`deposit:${uid}`),
          debit: Account.carrierBilling,
          credit: Account.depositsCarrier,
          amount: payload.amountPoints,
          code: "deposit",
          ref: uid
        })
      }).pipe(Effect.orDie)

    const handler: OutboxHandler<CarrierBilling> = outboxHandler({
      payload: CarrierChargePayload,
      send: (payload) => send(payload),
      onSent: (payload, result) => booked(payload, result)
    })

    return { handler } as const
  }),
  dependencies: [Ledger.Default]
}) {}
