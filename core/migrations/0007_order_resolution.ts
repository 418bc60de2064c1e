import { Effect } from "effect"
import { SqlClient } from "@effect/sql"

/**
 * What the orders and redemption services need to answer replays exactly (DESIGN invariant 6):
 * - orders.resolution_key: the canonical body of the deliver or abort that resolved the order, so a
 *   replay with another body (another card, another reason) is told apart from a true replay.
 * - redemptions.balance_after: the coupon's balance right after the redemption, part of its answer.
 * ADD COLUMN with a NULL default is the same statement on SQLite and PostgreSQL.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE orders ADD COLUMN resolution_key TEXT NULL`
  yield* sql`ALTER TABLE redemptions ADD COLUMN balance_after BIGINT NULL`
})
