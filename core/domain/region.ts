import { Schema } from "effect"
import { InstitutionId, RegionId } from "./ids.js"
import { DbInt } from "./points.js"

/**
 * A region: the kiosks in it show the same catalog, whose version bumps with every change, and its
 * designated institution receives the unspent balances of cards and coupons sold there.
 */
export class Region extends Schema.Class<Region>("Region")({
  id: RegionId,
  name: Schema.String,
  institutionId: InstitutionId,
  catalogVersion: Schema.Int,
  createdAtMs: Schema.Int
}) {}

export const RegionRow = Schema.Struct({
  id: RegionId,
  name: Schema.String,
  institution_id: InstitutionId,
  catalog_version: DbInt,
  created_at_ms: DbInt
})

export const regionFromRow = (row: typeof RegionRow.Type): Region =>
  new Region({
    id: row.id,
    name: row.name,
    institutionId: row.institution_id,
    catalogVersion: row.catalog_version,
    createdAtMs: row.created_at_ms
  }, true)

export class RegionNotFound extends Schema.TaggedError<RegionNotFound>()("RegionNotFound", { regionId: Schema.String }) {
  override get message() {
    return `no region ${this.regionId}; register it first (ecoupon admin region add)`
  }
}

export class RegionConflict extends Schema.TaggedError<RegionConflict>()("RegionConflict", {
  regionId: RegionId,
  existingName: Schema.String,
  existingInstitutionId: InstitutionId
}) {
  override get message() {
    return `region ${this.regionId} already exists as "${this.existingName}" (institution ${this.existingInstitutionId}); choose another id or omit it`
  }
}
