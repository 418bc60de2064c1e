import { Effect } from "effect"
import { SqlClient } from "@effect/sql"

/**
 * The management server's credentials (adapters/server/credentials). Core only keeps the tables;
 * hashing and encryption live in the adapter (core may not use node:crypto).
 * - api_keys: kiosk keys, merchant keys and operator tokens. Only the SHA-256 of the secret part is
 *   kept; `key_id` is the public part of the credential, used to find the row. Revoked rows stay, so
 *   an audit can say which key did what.
 * - merchant_secrets: each merchant's HMAC secret, sealed with the server's master key (AES-256-GCM):
 *   it must be recovered to check a webhook's signature and to sign order submissions.
 * - webhook_deliveries: the delivery ids a provider server has sent, so a replay is refused.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('kiosk', 'merchant', 'operator')),
    subject TEXT NOT NULL,
    role TEXT CHECK (role IS NULL OR role IN ('admin', 'operator', 'auditor')),
    secret_sha256 TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
  )`
  yield* sql`CREATE INDEX api_keys_subject ON api_keys (kind, subject)`
  yield* sql`CREATE TABLE merchant_secrets (
    merchant_id TEXT PRIMARY KEY REFERENCES merchants (id),
    version INTEGER NOT NULL,
    sealed TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
  )`
  yield* sql`CREATE TABLE webhook_deliveries (
    merchant_id TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, delivery_id)
  )`
  yield* sql`CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at_ms)`
})
