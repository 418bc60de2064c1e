import { Effect } from "effect"
import { SqlClient } from "@effect/sql"

/**
 * Everything that leaves the system (SMS, provider order submissions, carrier charges, payouts) is
 * written here in the transaction of the change that causes it, and sent by workers with retries and
 * backoff. kind: sms | provider_order | carrier_charge | payout. state: pending | sent | dead (gave
 * up after the retry limit or a final rejection). The idempotency key goes to the outside service.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE outbox (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      idempotency_key TEXT NOT NULL UNIQUE,
      payload TEXT NOT NULL,
      state TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_ms BIGINT NOT NULL,
      last_error TEXT NULL,
      result TEXT NULL,
      created_at_ms BIGINT NOT NULL,
      sent_at_ms BIGINT NULL
    )`
  yield* sql`CREATE INDEX outbox_due ON outbox (state, next_attempt_ms)`
})
