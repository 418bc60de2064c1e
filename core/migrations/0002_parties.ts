import { Effect } from "effect"
import { SqlClient } from "@effect/sql"

/** Regions, institutions, users and their one-time codes and sessions, merchants, kiosks. */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE institutions (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      created_at_ms BIGINT NOT NULL
    )`
  // Each region names the institution that receives the unspent balance of cards returned or lost
  // there and of coupons that expire there. catalog_version bumps on every offer change in the region.
  yield* sql`
    CREATE TABLE regions (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      institution_id TEXT NOT NULL REFERENCES institutions (id),
      catalog_version BIGINT NOT NULL DEFAULT 0,
      created_at_ms BIGINT NOT NULL
    )`
  yield* sql`
    CREATE TABLE users (
      id TEXT PRIMARY KEY,
      phone TEXT NOT NULL UNIQUE,
      registered_at_ms BIGINT NOT NULL
    )`
  // A one-time code sent by SMS. Only a salted hash of the code is kept. state: open | verified |
  // expired | locked (after 5 wrong tries).
  yield* sql`
    CREATE TABLE otp_challenges (
      id TEXT PRIMARY KEY,
      phone TEXT NOT NULL,
      purpose TEXT NOT NULL,
      kiosk_id TEXT NULL,
      code_hash TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      state TEXT NOT NULL,
      created_at_ms BIGINT NOT NULL,
      expires_at_ms BIGINT NOT NULL
    )`
  yield* sql`CREATE INDEX otp_challenges_phone ON otp_challenges (phone, created_at_ms)`
  yield* sql`
    CREATE TABLE sessions (
      id TEXT PRIMARY KEY,
      user_id TEXT NOT NULL REFERENCES users (id),
      kiosk_id TEXT NULL,
      created_at_ms BIGINT NOT NULL,
      expires_at_ms BIGINT NOT NULL,
      ended_at_ms BIGINT NULL
    )`
  // status: pending | registered | suspended.
  yield* sql`
    CREATE TABLE merchants (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      status TEXT NOT NULL,
      provider_url TEXT NULL,
      created_at_ms BIGINT NOT NULL,
      updated_at_ms BIGINT NOT NULL
    )`
  // Stacker and bin counts are kept on the row for quick reads, and must always equal the sums of
  // card_stock_movements (invariant 5; the auditor checks).
  yield* sql`
    CREATE TABLE kiosks (
      id TEXT PRIMARY KEY,
      region_id TEXT NOT NULL REFERENCES regions (id),
      name TEXT NOT NULL,
      api_key_hash TEXT NULL,
      stacker_cards INTEGER NOT NULL DEFAULT 0,
      bin_cards INTEGER NOT NULL DEFAULT 0,
      bin_capacity INTEGER NOT NULL,
      created_at_ms BIGINT NOT NULL
    )`
  // kind: load | dispense | capture | empty_bin. delta_stacker/delta_bin are signed counts.
  yield* sql`
    CREATE TABLE card_stock_movements (
      id TEXT PRIMARY KEY,
      kiosk_id TEXT NOT NULL REFERENCES kiosks (id),
      kind TEXT NOT NULL,
      delta_stacker INTEGER NOT NULL,
      delta_bin INTEGER NOT NULL,
      ref TEXT NULL,
      at_ms BIGINT NOT NULL
    )`
  yield* sql`CREATE INDEX card_stock_movements_kiosk ON card_stock_movements (kiosk_id, at_ms)`
  // The kiosk twin: desired state set by operators, reported state sent by the kiosk, each a JSON
  // document with its own version.
  yield* sql`
    CREATE TABLE kiosk_twins (
      kiosk_id TEXT PRIMARY KEY REFERENCES kiosks (id),
      desired_json TEXT NOT NULL,
      desired_version BIGINT NOT NULL,
      reported_json TEXT NOT NULL,
      reported_version BIGINT NOT NULL,
      last_seen_ms BIGINT NULL
    )`
})
