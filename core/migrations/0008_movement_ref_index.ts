import { Effect } from "effect"
import { SqlClient } from "@effect/sql"

/**
 * Card stock movements are looked up by the card they moved (ref = card UID): by the auditor for every
 * card, and by operators tracing one. Without this index each lookup scans every movement.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE INDEX card_stock_movements_ref ON card_stock_movements (ref, kind)`
})
