import { Effect } from "effect"
import { SqlClient } from "@effect/sql"

/**
 * Look-ups on every kiosk journey that otherwise read a table that grows with traffic:
 * - ending a kiosk's open sessions when a new one starts (`Users`): without the partial index every
 *   session ever opened is scanned;
 * - the newest catalog change for an offer, or for its merchant as a whole, when an order checks
 *   the catalog version it was placed at (`Orders.place`): without these every change in the region
 *   is read.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE INDEX sessions_open_by_kiosk ON sessions (kiosk_id) WHERE ended_at_ms IS NULL`
  yield* sql`CREATE INDEX catalog_changes_offer ON catalog_changes (region_id, offer_id, version)`
  yield* sql`CREATE INDEX catalog_changes_merchant ON catalog_changes (region_id, merchant_id, version) WHERE offer_id IS NULL`
})
