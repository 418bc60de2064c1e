import { SqlClient } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import { Coupon, couponFromRow, CouponNotFound, CouponRow, type CouponState } from "./domain/coupon.js"
import { CouponCode, CouponId, InstitutionId, type KioskId, RegionId, TransferId, type UserId } from "./domain/ids.js"
import { DesiredState } from "./domain/twin.js"
import { Account, type TransferCode } from "./domain/ledger.js"
import { Ledger } from "./ledger.js"
import { firstRow } from "./rows.js"
import { traced } from "./traced.js"

export const COUPON_LIST_MAX = 500

/** Where a closing coupon's unredeemed balance goes, and why. */
export interface ForwardBalance {
  readonly couponId: CouponId
  readonly institutionId: InstitutionId
  readonly code: Extract<TransferCode, "return" | "forfeit" | "expire">
  readonly state: Extract<CouponState, "returned" | "forfeited" | "expired">
  readonly nowMs: number
}

const InstitutionOfRegion = Schema.Struct({ institution_id: InstitutionId })
const KioskTermsRow = Schema.Struct({ region_id: RegionId, desired_json: Schema.NullOr(Schema.String) })
const decodeDesiredJson = Schema.decodeUnknownOption(Schema.parseJson(DesiredState))

/**
 * A kiosk twin's desired state, decoded from its JSON. Every order and card delivery reads it (with the
 * kiosk's row), and a fleet has few distinct texts, so the decoded value (immutable) is kept by text:
 * at most `DESIRED_CACHE_MAX` of them, dropped all at once when full.
 */
const DESIRED_CACHE_MAX = 256
const desiredByJson = new Map<string, Option.Option<DesiredState>>()
const decodeDesired = (json: string): Option.Option<DesiredState> => {
  const cached = desiredByJson.get(json)
  if (cached !== undefined) return cached
  const decoded = decodeDesiredJson(json)
  if (desiredByJson.size >= DESIRED_CACHE_MAX) desiredByJson.clear()
  desiredByJson.set(json, decoded)
  return decoded
}

/** The card return deadline, in days, that a kiosk twin's desired state (JSON) sets; null when it sets none. */
export const returnDeadlineDaysOf = (desiredJson: string | null): number | null =>
  desiredJson === null ? null : Option.match(decodeDesired(desiredJson), { onNone: () => null, onSome: (state) => state.returnDeadlineDays })

/** What a kiosk is to orders and cards: its region, whether it sells, and its card return deadline. */
export interface KioskTerms {
  readonly regionId: RegionId
  readonly enabled: boolean
  /** From the kiosk twin's desired state; null when the twin does not say (use the cards default). */
  readonly returnDeadlineDays: number | null
}

/**
 * A kiosk's terms from its region and its twin's desired state (JSON, null without a twin document):
 * for a statement that reads them along with something else.
 */
export const kioskTermsOf = (regionId: RegionId, desiredJson: string | null): KioskTerms => {
  // A kiosk without a twin document has had no operator wishes yet: it sells, with defaults.
  const desired = desiredJson === null ? Option.none() : decodeDesired(desiredJson)
  return Option.match(desired, {
    onNone: () => ({ regionId, enabled: true, returnDeadlineDays: null }),
    onSome: (state) => ({ regionId, enabled: state.enabled, returnDeadlineDays: state.returnDeadlineDays })
  })
}

/**
 * Coupons: the reads every coupon-holding service shares, and the one way a coupon's life ends with
 * value left on it (its balance goes to an institution). Writes to coupons happen inside the callers'
 * transactions (orders, redemption, cards); the helpers here join them.
 */
export class Coupons extends Effect.Service<Coupons>()("ecoupon/Coupons", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const ledger = yield* Ledger
    const decodeRows = Schema.decodeUnknown(Schema.Array(CouponRow))
    const decodeInstitution = Schema.decodeUnknown(Schema.Array(InstitutionOfRegion))
    const decodeKioskTerms = Schema.decodeUnknown(Schema.Array(KioskTermsRow))

    const first = firstRow(CouponRow)

    const findById = (id: CouponId): Effect.Effect<Option.Option<CouponRow>> =>
      sql`SELECT * FROM coupons WHERE id = ${id}`.pipe(Effect.orDie, Effect.flatMap(first))

    const findByCode = (code: CouponCode): Effect.Effect<Option.Option<CouponRow>> =>
      sql`SELECT * FROM coupons WHERE code = ${code}`.pipe(Effect.orDie, Effect.flatMap(first))

    /**
     * Reads the coupon and, on PostgreSQL, locks its row until the transaction ends (a no-op UPDATE
     * takes the same lock as SELECT ... FOR UPDATE and is portable): every change to one coupon queues
     * behind the others, so checks made on the row still hold when the transfer is written.
     */
    const lock = (id: CouponId): Effect.Effect<Option.Option<CouponRow>> =>
      sql`UPDATE coupons SET state = state WHERE id = ${id} RETURNING *`.pipe(Effect.orDie, Effect.flatMap(first))

    /** What may still be redeemed: the posted balance of `coupon:<id>` (0 before the order posts). */
    const balanceOf = (id: CouponId): Effect.Effect<number> =>
      ledger.balance(Account.coupon(id)).pipe(
        Effect.map((balance) => balance.available),
        Effect.catchTag("AccountNotFound", () => Effect.succeed(0))
      )

    const institutionOf = (regionId: RegionId): Effect.Effect<InstitutionId> =>
      sql`SELECT institution_id FROM regions WHERE id = ${regionId}`.pipe(
        Effect.flatMap(decodeInstitution),
        Effect.orDie,
        Effect.flatMap((rows) =>
          rows[0] === undefined ? Effect.dieMessage(`region ${regionId} has no row, yet a coupon or kiosk names it`) : Effect.succeed(rows[0].institution_id)
        )
      )

    /** The kiosk's region and the operator's wishes for it (DESIGN §4, kiosk twin desired state). */
    const kioskTerms = (kioskId: KioskId): Effect.Effect<Option.Option<KioskTerms>> =>
      sql`SELECT k.region_id, t.desired_json FROM kiosks k LEFT JOIN kiosk_twins t ON t.kiosk_id = k.id WHERE k.id = ${kioskId}`.pipe(
        Effect.flatMap(decodeKioskTerms),
        Effect.orDie,
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), (row) => kioskTermsOf(row.region_id, row.desired_json)))
      )

    /**
     * Sends the coupon's whole balance to the institution (transfer id `<code>:<couponId>`, ref the
     * coupon) and sets its closing state, in the caller's transaction. The coupon row is locked first,
     * so a redemption cannot slip in between reading the balance and moving it. Only a coupon that
     * holds posted value (active, or used with nothing left) closes; otherwise nothing happens.
     * Returns the points moved.
     */
    const forwardBalance = (request: ForwardBalance): Effect.Effect<number> =>
      Effect.gen(function* () {
        const { couponId, institutionId, code, state, nowMs } = request
        const locked = yield* lock(couponId)
        if (Option.isNone(locked) || (locked.value.state !== "active" && locked.value.state !== "used")) return 0
        const balance = yield* balanceOf(couponId)
        if (balance > 0) {
          const account = Account.institution(institutionId)
          // Institutions open their account when registered; opening again is a no-op.
          yield* ledger.openAccount(account, "institution")
          yield* ledger.transfer({
            id: TransferId.make(`${code}:${couponId}`),
            debit: Account.coupon(couponId),
            credit: account,
            amount: balance,
            code,
            ref: couponId
          })
        }
        yield* sql`UPDATE coupons SET state = ${state}, closed_at_ms = ${nowMs} WHERE id = ${couponId}`
        return balance
      }).pipe(Effect.orDie)

    const withBalance = (row: CouponRow) => Effect.map(balanceOf(row.id), (balance) => couponFromRow(row, balance))

    const get = (id: CouponId): Effect.Effect<Coupon, CouponNotFound> =>
      findById(id).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(new CouponNotFound({ coupon: id })), onSome: withBalance })),
        traced("Coupons.get")
      )

    const getByCode = (code: CouponCode): Effect.Effect<Coupon, CouponNotFound> =>
      findByCode(code).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(new CouponNotFound({ coupon: code })), onSome: withBalance })),
        traced("Coupons.getByCode")
      )

    /** A user's coupons, newest first. */
    const listForUser = (userId: UserId, options: { readonly limit?: number } = {}): Effect.Effect<ReadonlyArray<Coupon>> => {
      const limit = Math.min(Math.max(1, options.limit ?? 100), COUPON_LIST_MAX)
      return sql`SELECT * FROM coupons WHERE user_id = ${userId} ORDER BY issued_at_ms DESC, id DESC LIMIT ${limit}`.pipe(
        Effect.flatMap(decodeRows),
        Effect.orDie,
        Effect.flatMap((rows) => Effect.forEach(rows, withBalance)),
        traced("Coupons.listForUser")
      )
    }

    return { get, getByCode, listForUser, findById, findByCode, lock, balanceOf, institutionOf, kioskTerms, forwardBalance } as const
  }),
  dependencies: [Ledger.Default]
}) {}
