import { Schema } from "effect"
import { MerchantId } from "./ids.js"
import { DbInt } from "./points.js"

/** pending: applied, not yet approved by an operator. registered: selling. suspended: stopped. */
export const MerchantStatus = Schema.Literal("pending", "registered", "suspended")
export type MerchantStatus = typeof MerchantStatus.Type

export class Merchant extends Schema.Class<Merchant>("Merchant")({
  id: MerchantId,
  name: Schema.String,
  status: MerchantStatus,
  /** The merchant's provider server, where delivered orders go and catalogs come from; none if manual. */
  providerUrl: Schema.NullOr(Schema.String),
  createdAtMs: Schema.Int,
  updatedAtMs: Schema.Int
}) {}

export const MerchantRow = Schema.Struct({
  id: MerchantId,
  name: Schema.String,
  status: MerchantStatus,
  provider_url: Schema.NullOr(Schema.String),
  created_at_ms: DbInt,
  updated_at_ms: DbInt
})

export const merchantFromRow = (row: typeof MerchantRow.Type): Merchant =>
  new Merchant({
    id: row.id,
    name: row.name,
    status: row.status,
    providerUrl: row.provider_url,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms
  }, true)

export class MerchantNotFound extends Schema.TaggedError<MerchantNotFound>()("MerchantNotFound", { merchantId: Schema.String }) {
  override get message() {
    return `no merchant ${this.merchantId}; register it first (ecoupon admin merchant add)`
  }
}

export class MerchantConflict extends Schema.TaggedError<MerchantConflict>()("MerchantConflict", {
  merchantId: MerchantId,
  existingName: Schema.String
}) {
  override get message() {
    return `merchant ${this.merchantId} already exists as "${this.existingName}" with other details; choose another id or omit it`
  }
}

/** A lifecycle step that does not apply to the merchant's current status. */
export class MerchantStatusRefused extends Schema.TaggedError<MerchantStatusRefused>()("MerchantStatusRefused", {
  merchantId: MerchantId,
  status: MerchantStatus,
  action: Schema.Literal("approve", "restore"),
  hint: Schema.String
}) {
  override get message() {
    return `cannot ${this.action} merchant ${this.merchantId}: it is ${this.status}; ${this.hint}`
  }
}
