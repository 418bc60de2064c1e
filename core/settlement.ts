import { SqlClient } from "@effect/sql"
import { Clock, Data, Effect, Option, Schema } from "effect"
import { MerchantId, SettlementId, TransferId } from "./domain/ids.js"
import { InvalidRequest } from "./domain/invalid-request.js"
import { Account } from "./domain/ledger.js"
import { MerchantNotFound } from "./domain/merchant.js"
import { DbInt } from "./domain/points.js"
import {
  type ClosePeriod,
  LineRow,
  PeriodNotOver,
  type Statement,
  statementFromRows,
  SettlementNotFound,
  SettlementPeriodConflict,
  SettlementRow,
  type StatementSummary,
  summaryFromRow
} from "./domain/settlement.js"
import { newId } from "./id-generator.js"
import { Ledger } from "./ledger.js"
import { Outbox } from "./outbox.js"
import { firstRow } from "./rows.js"
import { traced } from "./traced.js"

export const CLOSE_ALL_MERCHANTS_MAX = 1000
export const STATEMENT_LIST_MAX = 500
/** Rows per INSERT when writing a statement's lines: keeps each statement's parameters bounded. */
const LINE_INSERT_CHUNK = 200

/** The `payout` outbox payload. */
export const PayoutPayload = Schema.Struct({
  settlementId: SettlementId,
  merchantId: MerchantId,
  amount: Schema.Int,
  reference: Schema.String
})
export type PayoutPayload = typeof PayoutPayload.Type

export const payoutKey = (settlementId: SettlementId): string => `payout:${settlementId}`

/** Another request made the same statement in the meantime: answer from what it wrote. */
class Raced extends Data.TaggedError("Raced")<{}> {}

const LockedLine = Schema.Struct({ id: Schema.String, coupon_id: Schema.String, amount: DbInt, redeemed_at_ms: DbInt })
const decodeLockedLines = Schema.decodeUnknown(Schema.Array(LockedLine))
const decodeDueMerchants = Schema.decodeUnknown(Schema.Array(Schema.Struct({ merchant_id: MerchantId, first_ms: DbInt, last_end_ms: Schema.NullOr(DbInt) })))
const firstSettlement = firstRow(SettlementRow)

/**
 * Settlement (DESIGN §4): per merchant and period, one statement whose lines are the merchant's live
 * (not rolled back) redemptions of the period that no statement holds yet, so each redemption is in
 * exactly one statement (invariant 8, also enforced by the lines' primary key). The total moves
 * payable -> paid (code `settle`, ref the statement) and a payout is queued through the outbox. A
 * statement is identified by merchant and period start: closing the same period again answers the
 * same statement.
 *
 * The redemptions taken are locked by an UPDATE that re-checks `state = 'redeemed'`, and a rollback
 * locks its redemption before looking for a statement line: one of the two waits for the other, so a
 * rolled-back redemption is never settled and a settled one never rolled back.
 */
export class Settlements extends Effect.Service<Settlements>()("ecoupon/Settlements", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const ledger = yield* Ledger
    const outbox = yield* Outbox
    const decodeSettlements = Schema.decodeUnknown(Schema.Array(SettlementRow))
    const decodeLines = Schema.decodeUnknown(Schema.Array(LineRow))

    const findById = (id: SettlementId) => sql`SELECT * FROM settlements WHERE id = ${id}`.pipe(Effect.orDie, Effect.flatMap(firstSettlement))
    const findByPeriod = (merchantId: MerchantId, periodStartMs: number) =>
      sql`SELECT * FROM settlements WHERE merchant_id = ${merchantId} AND period_start_ms = ${periodStartMs}`.pipe(Effect.orDie, Effect.flatMap(firstSettlement))

    const withLines = (row: SettlementRow) =>
      sql`
        SELECT l.redemption_id, r.coupon_id, l.amount, r.redeemed_at_ms
        FROM settlement_lines l JOIN redemptions r ON r.id = l.redemption_id
        WHERE l.settlement_id = ${row.id}
        ORDER BY r.redeemed_at_ms, l.redemption_id`.pipe(Effect.flatMap(decodeLines), Effect.orDie, Effect.map((lines) => statementFromRows(row, lines)))

    const closePeriod = (request: ClosePeriod): Effect.Effect<Statement, InvalidRequest | MerchantNotFound | PeriodNotOver | SettlementPeriodConflict> => {
      const { merchantId, periodStartMs, periodEndMs } = request
      const replayOf = (row: SettlementRow) =>
        row.period_end_ms === periodEndMs
          ? withLines(row)
          : Effect.fail(new SettlementPeriodConflict({ merchantId, periodStartMs, existingEndMs: row.period_end_ms, requestedEndMs: periodEndMs }))
      const existing = findByPeriod(merchantId, periodStartMs)
      const write = Effect.gen(function* () {
        const found = yield* existing
        if (Option.isSome(found)) return yield* replayOf(found.value)
        if (!Number.isSafeInteger(periodStartMs) || !Number.isSafeInteger(periodEndMs) || periodStartMs < 0 || periodStartMs >= periodEndMs) {
          return yield* new InvalidRequest({ reason: `a period runs from its start to a later end, in whole milliseconds; got ${periodStartMs} to ${periodEndMs}` })
        }
        const now = yield* Clock.currentTimeMillis
        if (periodEndMs > now) return yield* new PeriodNotOver({ periodEndMs, nowMs: now })
        const merchant = yield* sql`SELECT id FROM merchants WHERE id = ${merchantId}`.pipe(Effect.orDie)
        if (merchant.length === 0) return yield* new MerchantNotFound({ merchantId })
        const id = SettlementId.make(yield* newId("stl"))
        const inserted = yield* sql`
          INSERT INTO settlements (id, merchant_id, period_start_ms, period_end_ms, total_points, state, payout_ref, created_at_ms)
          VALUES (${id}, ${merchantId}, ${periodStartMs}, ${periodEndMs}, 0, 'closed', NULL, ${now})
          ON CONFLICT (merchant_id, period_start_ms) DO NOTHING
          RETURNING id`.pipe(Effect.orDie)
        if (inserted.length === 0) return yield* new Raced()
        const taken = yield* sql`
          UPDATE redemptions SET state = state
          WHERE merchant_id = ${merchantId} AND state = 'redeemed'
            AND redeemed_at_ms >= ${periodStartMs} AND redeemed_at_ms < ${periodEndMs}
            AND NOT EXISTS (SELECT 1 FROM settlement_lines l WHERE l.redemption_id = redemptions.id)
          RETURNING id, coupon_id, amount, redeemed_at_ms`.pipe(Effect.flatMap(decodeLockedLines), Effect.orDie)
        let total = 0
        for (let start = 0; start < taken.length; start += LINE_INSERT_CHUNK) {
          const chunk = taken.slice(start, start + LINE_INSERT_CHUNK).map((line) => ({ redemption_id: line.id, settlement_id: id, amount: line.amount }))
          yield* sql`INSERT INTO settlement_lines ${sql.insert(chunk)}`.pipe(Effect.orDie)
        }
        for (const line of taken) total += line.amount
        if (total > 0) {
          yield* sql`UPDATE settlements SET total_points = ${total} WHERE id = ${id}`.pipe(Effect.orDie)
          yield* ledger.openAccount(Account.merchantPaid(merchantId), "merchant_paid").pipe(Effect.orDie)
          // The payable holds every live, unsettled redemption, so it can pay this total.
          yield* ledger.transfer({
            id: TransferId.make(`settle:${id}`),
            debit: Account.merchantPayable(merchantId),
            credit: Account.merchantPaid(merchantId),
            amount: total,
            code: "settle",
            ref: id
          }).pipe(Effect.orDie)
          const payload: PayoutPayload = { settlementId: id, merchantId, amount: total, reference: `ecoupon ${id}` }
          yield* outbox.enqueue({ kind: "payout", idempotencyKey: payoutKey(id), payload })
        } else {
          // Nothing was redeemed: the statement is settled as it stands, with nothing to pay out.
          yield* sql`UPDATE settlements SET state = 'paid' WHERE id = ${id}`.pipe(Effect.orDie)
        }
        const row = yield* findById(id)
        return yield* withLines(Option.getOrThrow(row))
      })
      return sql.withTransaction(write).pipe(
        Effect.catchTag("SqlError", Effect.die),
        Effect.catchTag("Raced", () =>
          existing.pipe(Effect.flatMap(Option.match({ onNone: () => Effect.dieMessage(`statement of ${merchantId} from ${periodStartMs} raced but is not there`), onSome: replayOf })))
        ),
        traced("Settlements.closePeriod")
      )
    }

    /**
     * Closes the period ending at `periodEndMs` for every merchant with unsettled redemptions before it.
     * Each merchant's period starts where its last statement ended (or at its first unsettled
     * redemption), so statements follow one another without gaps. A merchant whose period cannot be
     * closed is reported, not fatal to the others.
     */
    const closeAll = (options: { readonly periodEndMs: number }) =>
      Effect.gen(function* () {
        const { periodEndMs } = options
        const due = yield* sql`
          SELECT r.merchant_id, MIN(r.redeemed_at_ms) AS first_ms,
            (SELECT MAX(s.period_end_ms) FROM settlements s WHERE s.merchant_id = r.merchant_id) AS last_end_ms
          FROM redemptions r
          WHERE r.state = 'redeemed' AND r.redeemed_at_ms < ${periodEndMs}
            AND NOT EXISTS (SELECT 1 FROM settlement_lines l WHERE l.redemption_id = r.id)
          GROUP BY r.merchant_id
          ORDER BY r.merchant_id
          LIMIT ${CLOSE_ALL_MERCHANTS_MAX}`.pipe(
          Effect.flatMap(decodeDueMerchants),
          Effect.orDie
        )
        const statements: Array<Statement> = []
        const refused: Array<{ readonly merchantId: MerchantId; readonly reason: string }> = []
        for (const merchant of due) {
          const periodStartMs = Math.min(merchant.first_ms, merchant.last_end_ms ?? merchant.first_ms)
          const closed = yield* Effect.either(closePeriod({ merchantId: merchant.merchant_id, periodStartMs, periodEndMs }))
          if (closed._tag === "Right") statements.push(closed.right)
          else refused.push({ merchantId: merchant.merchant_id, reason: closed.left.message })
        }
        return { statements, refused } as const
      }).pipe(traced("Settlements.closeAll"))

    const get = (settlementId: SettlementId): Effect.Effect<Statement, SettlementNotFound> =>
      findById(settlementId).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(new SettlementNotFound({ settlementId })), onSome: withLines })),
        traced("Settlements.get")
      )

    /** A merchant's statements, newest period first, without their lines. */
    const listForMerchant = (merchantId: MerchantId, options: { readonly limit?: number } = {}): Effect.Effect<ReadonlyArray<StatementSummary>> => {
      const limit = Math.min(Math.max(1, options.limit ?? 100), STATEMENT_LIST_MAX)
      return sql`SELECT * FROM settlements WHERE merchant_id = ${merchantId} ORDER BY period_start_ms DESC LIMIT ${limit}`.pipe(
        Effect.flatMap(decodeSettlements),
        Effect.orDie,
        Effect.map((rows) => rows.map(summaryFromRow)),
        traced("Settlements.listForMerchant")
      )
    }

    /** For the payout handler: the payout went through (or was finally refused). */
    const markPaid = (settlementId: SettlementId, payoutRef: string) =>
      sql`UPDATE settlements SET state = 'paid', payout_ref = ${payoutRef} WHERE id = ${settlementId} AND state = 'closed'`.pipe(Effect.orDie, Effect.asVoid)
    const markPayoutFailed = (settlementId: SettlementId) =>
      sql`UPDATE settlements SET state = 'payout_failed' WHERE id = ${settlementId} AND state = 'closed'`.pipe(Effect.orDie, Effect.asVoid)

    return { closePeriod, closeAll, get, listForMerchant, markPaid, markPayoutFailed } as const
  }),
  dependencies: [Ledger.Default, Outbox.Default]
}) {}
