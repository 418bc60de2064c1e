import { Schema } from "effect"
import { CouponId, InstitutionId, MerchantId, TransferId, UserId } from "./ids.js"
import { DbBool, DbInt } from "./points.js"

/**
 * Ledger accounts are named by strings that say whose they are: `issuer`, `user:<id>`,
 * `coupon:<id>`, `merchant:<id>:payable`, `merchant:<id>:paid`, `institution:<id>`,
 * `deposits:carrier`, `carrier:billing`. The kind decides the floor.
 */
export const AccountId = Schema.String.pipe(
  Schema.pattern(
    /^(?:issuer|deposits:carrier|carrier:billing|user:usr_[\w-]+|coupon:cpn_[\w-]+|merchant:mer_[\w-]+:(?:payable|paid)|institution:ins_[\w-]+)$/,
    { message: () => "expected a ledger account like issuer, user:usr_1, coupon:cpn_1, merchant:mer_1:payable, institution:ins_1" }
  ),
  Schema.brand("AccountId")
)
export type AccountId = typeof AccountId.Type

export const AccountKind = Schema.Literal(
  "issuer",
  "user",
  "coupon",
  "merchant_payable",
  "merchant_paid",
  "institution",
  "deposits",
  "carrier"
)
export type AccountKind = typeof AccountKind.Type

/**
 * Source accounts may go negative: the issuer (granted points come from it) and the carrier's side of
 * deposits. Every other account has a floor of zero, counting its pending debits.
 */
export const kindHasFloor = (kind: AccountKind): boolean => kind !== "issuer" && kind !== "carrier" && kind !== "deposits"

export const Account = {
  issuer: AccountId.make("issuer"),
  depositsCarrier: AccountId.make("deposits:carrier"),
  carrierBilling: AccountId.make("carrier:billing"),
  user: (id: UserId) => AccountId.make(`user:${id}`),
  coupon: (id: CouponId) => AccountId.make(`coupon:${id}`),
  merchantPayable: (id: MerchantId) => AccountId.make(`merchant:${id}:payable`),
  merchantPaid: (id: MerchantId) => AccountId.make(`merchant:${id}:paid`),
  institution: (id: InstitutionId) => AccountId.make(`institution:${id}`)
} as const

/** Why points moved. Kept on every transfer so history and the auditor can tell movements apart. */
export const TransferCode = Schema.Literal(
  "grant", // issuer -> user: welcome or campaign grant
  "order", // user -> coupon: pending at place, posted at deliver, voided at abort
  "redeem", // coupon -> merchant payable
  "redeem_rollback", // merchant payable -> coupon
  "return", // coupon -> institution: the card came back
  "forfeit", // coupon -> institution: the card was not returned by its deadline
  "expire", // coupon -> institution: the coupon expired
  "settle", // merchant payable -> merchant paid
  "deposit", // carrier billing -> deposits: an unreturned card's deposit charged to the phone bill
  "deposit_refund" // deposits -> carrier billing
)
export type TransferCode = typeof TransferCode.Type

/** posted: moved at once. pending: reserved, later resolved by a post_pending or void_pending. */
export const TransferFlag = Schema.Literal("posted", "pending", "post_pending", "void_pending")
export type TransferFlag = typeof TransferFlag.Type

export const TransferState = Schema.Literal("posted", "pending", "voided")
export type TransferState = typeof TransferState.Type

export class Transfer extends Schema.Class<Transfer>("Transfer")({
  id: TransferId,
  debitAccount: AccountId,
  creditAccount: AccountId,
  amount: Schema.Int,
  flag: TransferFlag,
  /** For a pending transfer, where it stands now; a posted transfer is `posted`. */
  state: TransferState,
  pendingId: Schema.NullOr(TransferId),
  code: TransferCode,
  ref: Schema.NullOr(Schema.String),
  createdAtMs: Schema.Int
}) {}

/** A transfer row as the database returns it. */
export const TransferRow = Schema.Struct({
  id: TransferId,
  debit_account: AccountId,
  credit_account: AccountId,
  amount: DbInt,
  flag: TransferFlag,
  state: TransferState,
  pending_id: Schema.NullOr(TransferId),
  code: TransferCode,
  ref: Schema.NullOr(Schema.String),
  created_at_ms: DbInt
})

export const transferFromRow = (row: typeof TransferRow.Type): Transfer =>
  new Transfer({
    id: row.id,
    debitAccount: row.debit_account,
    creditAccount: row.credit_account,
    amount: row.amount,
    flag: row.flag,
    state: row.state,
    pendingId: row.pending_id,
    code: row.code,
    ref: row.ref,
    createdAtMs: row.created_at_ms
  }, true)

export class Balance extends Schema.Class<Balance>("Balance")({
  account: AccountId,
  kind: AccountKind,
  /** credits_posted - debits_posted. */
  posted: Schema.Int,
  debitsPending: Schema.Int,
  creditsPending: Schema.Int,
  /** What may still be debited: posted - debitsPending (for a floored account, never below zero). */
  available: Schema.Int
}) {}

export const AccountRow = Schema.Struct({
  id: AccountId,
  kind: AccountKind,
  floor_zero: DbBool,
  debits_posted: DbInt,
  credits_posted: DbInt,
  debits_pending: DbInt,
  credits_pending: DbInt
})

export const balanceFromRow = (row: typeof AccountRow.Type): Balance =>
  new Balance({
    account: row.id,
    kind: row.kind,
    posted: row.credits_posted - row.debits_posted,
    debitsPending: row.debits_pending,
    creditsPending: row.credits_pending,
    available: row.credits_posted - row.debits_posted - row.debits_pending
  }, true)

// --- errors ----------------------------------------------------------------------------------------

export class TransferConflict extends Schema.TaggedError<TransferConflict>()("TransferConflict", {
  id: TransferId,
  difference: Schema.String
}) {
  override get message() {
    return `transfer ${this.id} was already made with a different body (${this.difference}); a retry must repeat the same request, a new transfer needs a new id`
  }
}

export class InsufficientFunds extends Schema.TaggedError<InsufficientFunds>()("InsufficientFunds", {
  account: AccountId,
  available: Schema.Int,
  requested: Schema.Int
}) {
  override get message() {
    return `${this.account} has ${this.available} points available (pending debits counted) and cannot pay ${this.requested}`
  }
}

export class AccountNotFound extends Schema.TaggedError<AccountNotFound>()("AccountNotFound", { account: Schema.String }) {
  override get message() {
    return `ledger account ${this.account} does not exist; open it first (users, coupons, merchants and institutions get theirs when they are created)`
  }
}

export class AccountKindConflict extends Schema.TaggedError<AccountKindConflict>()("AccountKindConflict", {
  account: AccountId,
  existing: AccountKind,
  requested: AccountKind
}) {
  override get message() {
    return `ledger account ${this.account} exists as ${this.existing}, not ${this.requested}`
  }
}

export class PendingNotFound extends Schema.TaggedError<PendingNotFound>()("PendingNotFound", { pendingId: TransferId }) {
  override get message() {
    return `no pending transfer ${this.pendingId}; only a transfer made with pending = true can be posted or voided`
  }
}

export class PendingAlreadyResolved extends Schema.TaggedError<PendingAlreadyResolved>()("PendingAlreadyResolved", {
  pendingId: TransferId,
  state: TransferState
}) {
  override get message() {
    return `pending transfer ${this.pendingId} is already ${this.state}; a pending transfer is posted or voided exactly once`
  }
}

export class InvalidTransfer extends Schema.TaggedError<InvalidTransfer>()("InvalidTransfer", { reason: Schema.String }) {
  override get message() {
    return `invalid transfer: ${this.reason}`
  }
}

export type TransferError = TransferConflict | InsufficientFunds | AccountNotFound | InvalidTransfer
export type ResolveError = TransferConflict | PendingNotFound | PendingAlreadyResolved
