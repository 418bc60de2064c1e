import { Effect } from "effect"
import { SqlClient } from "@effect/sql"

/**
 * What the housekeeping job (`core/housekeeping.ts`) looks up, oldest first, on every batch: without
 * these each batch would scan every challenge, session or outbox message kept. The outbox index holds
 * sent messages only, so the worker's inserts of pending ones do not pay for it until they are sent.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE INDEX otp_challenges_expiry ON otp_challenges (expires_at_ms)`
  yield* sql`CREATE INDEX sessions_expiry ON sessions (expires_at_ms)`
  yield* sql`CREATE INDEX outbox_sent ON outbox (sent_at_ms) WHERE state = 'sent'`
})
