import { SqlClient } from "@effect/sql"
import { Clock, Context, Data, Effect, Option, Schema } from "effect"
import { Coupons } from "./coupons.js"
import { CouponNotFound, CouponRow, ExpirySweep } from "./domain/coupon.js"
import { DbInt } from "./domain/points.js"
import { firstRow, query } from "./rows.js"
import { CouponId, type RedemptionId, TransferId } from "./domain/ids.js"
import { InvalidRequest } from "./domain/invalid-request.js"
import { Account } from "./domain/ledger.js"
import {
  CouponBalanceTooLow,
  CouponClosed,
  CouponExpired,
  CouponNotRedeemable,
  type RedeemCoupon,
  Redemption,
  RedemptionConflict,
  redemptionFromRow,
  RedemptionNotFound,
  RedemptionRow,
  RedemptionSettled,
  RollbackWindowClosed,
  type RollbackRedemption
} from "./domain/redemption.js"
import { Ledger } from "./ledger.js"
import { traced } from "./traced.js"

export interface RedemptionSettings {
  /** How long after a redemption the merchant may still roll it back (if it is not yet settled). */
  readonly rollbackWindowMs: number
}

export const defaultRedemptionSettings: RedemptionSettings = { rollbackWindowMs: 24 * 60 * 60_000 }

/** Provide a value to change the rollback window; the default applies otherwise. */
export class RedemptionConfig extends Context.Reference<RedemptionConfig>()("ecoupon/RedemptionConfig", {
  defaultValue: (): RedemptionSettings => defaultRedemptionSettings
}) {}

export const EXPIRY_BATCH_MAX = 500

const firstLocked = firstRow(Schema.Struct({
  ...CouponRow.fields,
  replayed: DbInt,
  available_points: Schema.NullOr(DbInt),
  payable_kind: Schema.NullOr(Schema.String)
}))

/** Another request wrote the same redemption in the meantime: answer from what it wrote. */
class Raced extends Data.TaggedError("Raced")<{}> {}

const redeemKey = (request: RedeemCoupon): string =>
  JSON.stringify({ merchantId: request.merchantId, couponCode: request.couponCode, amount: request.amount })

const difference = (stored: string, requested: string): string => {
  const a: unknown = JSON.parse(stored)
  const b: unknown = JSON.parse(requested)
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return "body"
  const left = Object.fromEntries(Object.entries(a))
  const right = Object.fromEntries(Object.entries(b))
  return Object.keys(right)
    .filter((key) => JSON.stringify(left[key]) !== JSON.stringify(right[key]))
    .map((key) => `${key} ${JSON.stringify(left[key])} vs ${JSON.stringify(right[key])}`)
    .join(", ")
}

/**
 * Redemption (DESIGN §4): a merchant takes points off an active, unexpired coupon of its own, in part
 * or in full (coupon -> merchant payable); the coupon is `used` when nothing is left. Idempotent by
 * the merchant's request id. A rollback (payable -> coupon) is allowed within the window, until the
 * redemption is in a settlement statement, and while the coupon still lives (active or used).
 * `expireDue` sends what is left on expired coupons to their region's institution.
 *
 * A suspended merchant can still redeem the coupons it sold: the customer paid for them, and
 * suspension stops new sales (orders), not the honouring of old ones.
 *
 * Every change to one coupon locks its row first, so concurrent redemptions, rollbacks, expiry and
 * card returns take turns and each sees the balance the others left (invariant 4).
 */
export class Redemptions extends Effect.Service<Redemptions>()("ecoupon/Redemptions", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const ledger = yield* Ledger
    const coupons = yield* Coupons
    const decodeRows = Schema.decodeUnknown(Schema.Array(RedemptionRow))
    const decodeDueCoupons = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: CouponId, region_id: Schema.String })))

    const find = (id: RedemptionId) =>
      sql`
        SELECT r.id, r.coupon_id, c.code AS coupon_code, r.merchant_id, r.amount, r.balance_after, r.state, r.request_key,
          r.redeemed_at_ms, r.rolled_back_at_ms
        FROM redemptions r JOIN coupons c ON c.id = r.coupon_id
        WHERE r.id = ${id}`.pipe(Effect.flatMap(decodeRows), Effect.orDie, Effect.map((rows) => Option.fromNullable(rows[0])))

    const redeem = (request: RedeemCoupon) => {
      const { redemptionId, merchantId, couponCode, amount } = request
      const key = redeemKey(request)
      const replayOf = (row: RedemptionRow) =>
        row.request_key === key
          ? Effect.succeed(redemptionFromRow({ ...row, state: "redeemed", rolled_back_at_ms: null }))
          : Effect.fail(new RedemptionConflict({ redemptionId, difference: difference(row.request_key, key) }))
      const payable = Account.merchantPayable(merchantId)
      const write = Effect.gen(function* () {
        // The coupon by its code, locked (see `Coupons.lock`), with whether this redemption exists
        // already (a replay), what the coupon holds and whether the merchant's payable account is
        // open, in one statement.
        const locked = yield* query(sql`
          UPDATE coupons SET state = state WHERE code = ${couponCode}
          RETURNING *, (SELECT COUNT(*) FROM redemptions WHERE id = ${redemptionId}) AS replayed,
            (SELECT credits_posted - debits_posted - debits_pending FROM ledger_accounts WHERE id = 'coupon:' || coupons.id) AS available_points,
            (SELECT kind FROM ledger_accounts WHERE id = ${payable}) AS payable_kind`, firstLocked)
        if (Option.isNone(locked) || locked.value.replayed > 0) {
          const existing = yield* find(redemptionId)
          if (Option.isSome(existing)) return yield* replayOf(existing.value)
        }
        if (!Number.isSafeInteger(amount) || amount <= 0) {
          return yield* new InvalidRequest({ reason: `a redemption takes a whole number of points greater than zero, got ${amount}` })
        }
        // Another merchant's coupon is answered as unknown: a merchant learns nothing of others' coupons.
        if (Option.isNone(locked) || locked.value.merchant_id !== merchantId) return yield* new CouponNotFound({ coupon: couponCode })
        const coupon = locked.value
        if (coupon.state !== "active") return yield* new CouponNotRedeemable({ couponCode, state: coupon.state })
        const now = yield* Clock.currentTimeMillis
        if (now >= coupon.expires_at_ms) return yield* new CouponExpired({ couponCode, expiresAtMs: coupon.expires_at_ms })
        if (coupon.payable_kind !== "merchant_payable") yield* ledger.openAccount(payable, "merchant_payable").pipe(Effect.orDie)
        yield* ledger.transfer({ id: TransferId.make(`redeem:${redemptionId}`), debit: Account.coupon(coupon.id), credit: payable, amount, code: "redeem", ref: redemptionId }).pipe(
          Effect.catchTags({
            InsufficientFunds: (error) => Effect.fail(new CouponBalanceTooLow({ couponCode, balancePoints: error.available, requestedPoints: amount })),
            InvalidTransfer: Effect.die,
            AccountNotFound: Effect.die,
            TransferConflict: Effect.die
          })
        )
        // The row is locked and the transfer posted at once: what is left is what was there less the amount.
        const balanceAfter = (coupon.available_points ?? 0) - amount
        const inserted = yield* sql`
          INSERT INTO redemptions (id, coupon_id, merchant_id, amount, state, request_key, redeemed_at_ms, rolled_back_at_ms, balance_after)
          VALUES (${redemptionId}, ${coupon.id}, ${merchantId}, ${amount}, 'redeemed', ${key}, ${now}, NULL, ${balanceAfter})
          ON CONFLICT (id) DO NOTHING
          RETURNING id`
        if (inserted.length === 0) return yield* new Raced()
        if (balanceAfter === 0) yield* sql`UPDATE coupons SET state = 'used', closed_at_ms = ${now} WHERE id = ${coupon.id}`
        // Built from what was just checked and written: no validation again.
        return new Redemption({
          id: redemptionId,
          couponId: coupon.id,
          couponCode: coupon.code,
          merchantId,
          amount,
          couponBalanceAfter: balanceAfter,
          state: "redeemed",
          redeemedAtMs: now,
          rolledBackAtMs: null
        }, true)
      })
      // SQL errors are defects: the statements above leave them to this one handler.
      return sql.withTransaction(write).pipe(
        Effect.catchTags({
          SqlError: Effect.die,
          Raced: () =>
            find(redemptionId).pipe(Effect.flatMap(Option.match({ onNone: () => Effect.dieMessage(`redemption ${redemptionId} raced but is not there`), onSome: replayOf })))
        }),
        traced("Redemptions.redeem")
      )
    }

    const rollback = (request: RollbackRedemption) => {
      const { redemptionId, merchantId } = request
      const write = Effect.gen(function* () {
        // Lock the redemption first: settlement locks the rows it takes, so one of the two waits.
        yield* sql`UPDATE redemptions SET state = state WHERE id = ${redemptionId}`.pipe(Effect.orDie)
        const found = yield* find(redemptionId)
        if (Option.isNone(found) || (merchantId !== undefined && found.value.merchant_id !== merchantId)) {
          return yield* new RedemptionNotFound({ redemptionId })
        }
        const redemption = found.value
        if (redemption.state === "rolled_back") return redemptionFromRow(redemption)
        const settled = yield* sql<{ settlement_id: string }>`SELECT settlement_id FROM settlement_lines WHERE redemption_id = ${redemptionId}`.pipe(Effect.orDie)
        if (settled[0] !== undefined) return yield* new RedemptionSettled({ redemptionId, settlementId: settled[0].settlement_id })
        const now = yield* Clock.currentTimeMillis
        const { rollbackWindowMs } = yield* RedemptionConfig
        if (now - redemption.redeemed_at_ms > rollbackWindowMs) {
          return yield* new RollbackWindowClosed({ redemptionId, redeemedAtMs: redemption.redeemed_at_ms, windowMs: rollbackWindowMs })
        }
        const coupon = Option.getOrThrow(yield* coupons.lock(redemption.coupon_id))
        if (coupon.state !== "active" && coupon.state !== "used") return yield* new CouponClosed({ couponCode: coupon.code, state: coupon.state })
        // The payable still holds the amount: it leaves the payable only through settlement, refused above.
        yield* ledger.transfer({
          id: TransferId.make(`redeem:${redemptionId}:rollback`),
          debit: Account.merchantPayable(redemption.merchant_id),
          credit: Account.coupon(coupon.id),
          amount: redemption.amount,
          code: "redeem_rollback",
          ref: redemptionId
        }).pipe(Effect.orDie)
        yield* sql`UPDATE redemptions SET state = 'rolled_back', rolled_back_at_ms = ${now} WHERE id = ${redemptionId}`.pipe(Effect.orDie)
        if (coupon.state === "used") yield* sql`UPDATE coupons SET state = 'active', closed_at_ms = NULL WHERE id = ${coupon.id}`.pipe(Effect.orDie)
        return redemptionFromRow({ ...redemption, state: "rolled_back", rolled_back_at_ms: now })
      })
      return sql.withTransaction(write).pipe(Effect.catchTag("SqlError", Effect.die), traced("Redemptions.rollback"))
    }

    const get = (redemptionId: RedemptionId): Effect.Effect<Redemption, RedemptionNotFound> =>
      find(redemptionId).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(new RedemptionNotFound({ redemptionId })), onSome: (row) => Effect.succeed(redemptionFromRow(row)) })),
        traced("Redemptions.get")
      )

    /**
     * Closes active coupons whose expiry has passed: the remainder goes to the institution of the
     * coupon's region (code `expire`), the coupon becomes `expired`. One transaction per coupon, at
     * most `limit` per call; `more` says to call again.
     */
    const expireDue = (options: { readonly limit?: number } = {}) =>
      Effect.gen(function* () {
        const limit = Math.min(Math.max(1, options.limit ?? EXPIRY_BATCH_MAX), EXPIRY_BATCH_MAX)
        const now = yield* Clock.currentTimeMillis
        const due = yield* sql`
          SELECT id, region_id FROM coupons WHERE state = 'active' AND expires_at_ms <= ${now}
          ORDER BY expires_at_ms, id LIMIT ${limit + 1}`.pipe(
          Effect.flatMap(decodeDueCoupons),
          Effect.orDie
        )
        let expiredCoupons = 0
        let forwardedPoints = 0
        for (const { id } of due.slice(0, limit)) {
          const moved = yield* Effect.gen(function* () {
            const coupon = yield* coupons.lock(id)
            // Redeemed to nothing, returned or already expired meanwhile: nothing to do.
            if (Option.isNone(coupon) || coupon.value.state !== "active" || coupon.value.expires_at_ms > now) return Option.none<number>()
            const institutionId = yield* coupons.institutionOf(coupon.value.region_id)
            return Option.some(yield* coupons.forwardBalance({ couponId: id, institutionId, code: "expire", state: "expired", nowMs: now }))
          }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die))
          if (Option.isSome(moved)) {
            expiredCoupons += 1
            forwardedPoints += moved.value
          }
        }
        return new ExpirySweep({ expiredCoupons, forwardedPoints, more: due.length > limit })
      }).pipe(traced("Redemptions.expireDue"))

    return { redeem, rollback, get, expireDue } as const
  }),
  dependencies: [Ledger.Default, Coupons.Default]
}) {}
