import { Schema } from "effect"
import { CouponId, MerchantId, RedemptionId, SettlementId } from "./ids.js"
import { DbInt } from "./points.js"

/**
 * One statement per merchant per period (DESIGN §4): its lines are the merchant's live redemptions of
 * the period that no statement holds yet, its total moves payable -> paid, and a payout is queued.
 * closed (payout queued) -> paid | payout_failed. An empty statement is paid at once.
 */
export const SettlementState = Schema.Literal("closed", "paid", "payout_failed")
export type SettlementState = typeof SettlementState.Type

export class ClosePeriod extends Schema.Class<ClosePeriod>("ClosePeriod")({
  merchantId: MerchantId,
  /** Inclusive. */
  periodStartMs: Schema.Int.pipe(Schema.nonNegative()),
  /** Exclusive; not after now. */
  periodEndMs: Schema.Int.pipe(Schema.nonNegative())
}) {}

export class StatementLine extends Schema.Class<StatementLine>("StatementLine")({
  redemptionId: RedemptionId,
  couponId: CouponId,
  amount: Schema.Int,
  redeemedAtMs: Schema.Int
}) {}

/** What a statement says besides its lines: all a listing shows of it. */
const statementHeader = {
  id: SettlementId,
  merchantId: MerchantId,
  periodStartMs: Schema.Int,
  periodEndMs: Schema.Int,
  totalPoints: Schema.Int,
  state: SettlementState,
  payoutRef: Schema.NullOr(Schema.String),
  createdAtMs: Schema.Int
}

export class Statement extends Schema.Class<Statement>("Statement")({
  ...statementHeader,
  lines: Schema.Array(StatementLine)
}) {}

/** A statement without its lines, for listings. */
export class StatementSummary extends Schema.Class<StatementSummary>("StatementSummary")(statementHeader) {}

export const SettlementRow = Schema.Struct({
  id: SettlementId,
  merchant_id: MerchantId,
  period_start_ms: DbInt,
  period_end_ms: DbInt,
  total_points: DbInt,
  state: SettlementState,
  payout_ref: Schema.NullOr(Schema.String),
  created_at_ms: DbInt
})
export type SettlementRow = typeof SettlementRow.Type

export const LineRow = Schema.Struct({
  redemption_id: RedemptionId,
  coupon_id: CouponId,
  amount: DbInt,
  redeemed_at_ms: DbInt
})
export type LineRow = typeof LineRow.Type

const headerFromRow = (row: SettlementRow) => ({
  id: row.id,
  merchantId: row.merchant_id,
  periodStartMs: row.period_start_ms,
  periodEndMs: row.period_end_ms,
  totalPoints: row.total_points,
  state: row.state,
  payoutRef: row.payout_ref,
  createdAtMs: row.created_at_ms
})

export const statementFromRows = (row: SettlementRow, lines: ReadonlyArray<LineRow>): Statement =>
  new Statement({
    ...headerFromRow(row),
    lines: lines.map((line) => new StatementLine({ redemptionId: line.redemption_id, couponId: line.coupon_id, amount: line.amount, redeemedAtMs: line.redeemed_at_ms }))
  })

export const summaryFromRow = (row: SettlementRow): StatementSummary => new StatementSummary(headerFromRow(row))

// --- errors ----------------------------------------------------------------------------------------

export class SettlementNotFound extends Schema.TaggedError<SettlementNotFound>()("SettlementNotFound", { settlementId: Schema.String }) {
  override get message() {
    return `no settlement statement ${this.settlementId}; list the merchant's statements to find it`
  }
}

/** A statement for this merchant already starts at this instant but ends elsewhere. */
export class SettlementPeriodConflict extends Schema.TaggedError<SettlementPeriodConflict>()("SettlementPeriodConflict", {
  merchantId: Schema.String,
  periodStartMs: Schema.Int,
  existingEndMs: Schema.Int,
  requestedEndMs: Schema.Int
}) {
  override get message() {
    return `merchant ${this.merchantId} already has a statement from ${this.periodStartMs} to ${this.existingEndMs}, not ${this.requestedEndMs}; close the next period from ${this.existingEndMs}`
  }
}

export class PeriodNotOver extends Schema.TaggedError<PeriodNotOver>()("PeriodNotOver", {
  periodEndMs: Schema.Int,
  nowMs: Schema.Int
}) {
  override get message() {
    return `the period ends at ${this.periodEndMs}, after now (${this.nowMs}); redemptions may still come in, close it once it is over`
  }
}
