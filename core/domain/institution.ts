import { Schema } from "effect"
import { InstitutionId } from "./ids.js"
import { DbInt } from "./points.js"

/**
 * A designated institution: it receives the unspent balance of returned and unreturned cards and of
 * expired coupons in the regions that name it (DESIGN claims 10, 11). Its points sit in the ledger
 * account `institution:<id>`.
 */
export class Institution extends Schema.Class<Institution>("Institution")({
  id: InstitutionId,
  name: Schema.String,
  createdAtMs: Schema.Int
}) {}

export const InstitutionRow = Schema.Struct({
  id: InstitutionId,
  name: Schema.String,
  created_at_ms: DbInt
})

export const institutionFromRow = (row: typeof InstitutionRow.Type): Institution =>
  new Institution({ id: row.id, name: row.name, createdAtMs: row.created_at_ms }, true)

export class InstitutionNotFound extends Schema.TaggedError<InstitutionNotFound>()("InstitutionNotFound", {
  institutionId: Schema.String
}) {
  override get message() {
    return `no institution ${this.institutionId}; register it first (ecoupon admin institution add)`
  }
}

/** The id is taken by an institution with another name: a replay must repeat the same request. */
export class InstitutionConflict extends Schema.TaggedError<InstitutionConflict>()("InstitutionConflict", {
  institutionId: InstitutionId,
  existingName: Schema.String
}) {
  override get message() {
    return `institution ${this.institutionId} already exists as "${this.existingName}"; choose another id or omit it`
  }
}
