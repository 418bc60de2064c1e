import { Effect } from "effect"
import { SqlClient } from "@effect/sql"

/** Offers, the regions they are sold in, and the per-region log of catalog changes. */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // status: active | withdrawn. A coupon bought from the offer is valid for coupon_validity_ms.
  yield* sql`
    CREATE TABLE offers (
      id TEXT PRIMARY KEY,
      merchant_id TEXT NOT NULL REFERENCES merchants (id),
      title TEXT NOT NULL,
      price_points BIGINT NOT NULL CHECK (price_points > 0),
      stock BIGINT NOT NULL CHECK (stock >= 0),
      valid_from_ms BIGINT NOT NULL,
      valid_until_ms BIGINT NOT NULL,
      coupon_validity_ms BIGINT NOT NULL,
      status TEXT NOT NULL,
      version BIGINT NOT NULL,
      updated_at_ms BIGINT NOT NULL
    )`
  yield* sql`CREATE INDEX offers_merchant ON offers (merchant_id)`
  yield* sql`
    CREATE TABLE offer_regions (
      offer_id TEXT NOT NULL REFERENCES offers (id),
      region_id TEXT NOT NULL REFERENCES regions (id),
      PRIMARY KEY (offer_id, region_id)
    )`
  yield* sql`CREATE INDEX offer_regions_region ON offer_regions (region_id)`
  // One row per bump of a region's catalog version: what changed, so a kiosk that missed changes can
  // catch up from its last version. change: upsert | withdraw | merchant_suspended | merchant_restored.
  yield* sql`
    CREATE TABLE catalog_changes (
      region_id TEXT NOT NULL REFERENCES regions (id),
      version BIGINT NOT NULL,
      offer_id TEXT NULL,
      merchant_id TEXT NOT NULL,
      change TEXT NOT NULL,
      at_ms BIGINT NOT NULL,
      PRIMARY KEY (region_id, version)
    )`
})
