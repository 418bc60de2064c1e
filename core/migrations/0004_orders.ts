import { Effect } from "effect"
import { SqlClient } from "@effect/sql"

/** Orders and their coupons, redemptions, cards, settlement statements. */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // state: placed | delivered | aborted. request_key is a canonical string of the place request, so a
  // replay with the same order id and another body is told apart from a true replay.
  yield* sql`
    CREATE TABLE orders (
      id TEXT PRIMARY KEY,
      kiosk_id TEXT NOT NULL REFERENCES kiosks (id),
      user_id TEXT NOT NULL REFERENCES users (id),
      merchant_id TEXT NOT NULL REFERENCES merchants (id),
      offer_id TEXT NOT NULL REFERENCES offers (id),
      quantity INTEGER NOT NULL CHECK (quantity > 0),
      unit_price_points BIGINT NOT NULL,
      amount BIGINT NOT NULL CHECK (amount > 0),
      catalog_version BIGINT NOT NULL,
      medium TEXT NOT NULL,
      state TEXT NOT NULL,
      abort_reason TEXT NULL,
      request_key TEXT NOT NULL,
      flagged INTEGER NOT NULL DEFAULT 0,
      placed_at_ms BIGINT NOT NULL,
      resolved_at_ms BIGINT NULL
    )`
  yield* sql`CREATE INDEX orders_state ON orders (state, placed_at_ms)`
  yield* sql`CREATE INDEX orders_user ON orders (user_id)`
  // state: reserved | active | used | expired | void | returned (card came back) | forfeited (card
  // lost). The coupon's remaining value is the balance of its ledger account coupon:<id>.
  yield* sql`
    CREATE TABLE coupons (
      id TEXT PRIMARY KEY,
      code TEXT NOT NULL UNIQUE,
      order_id TEXT NOT NULL UNIQUE REFERENCES orders (id),
      user_id TEXT NOT NULL REFERENCES users (id),
      merchant_id TEXT NOT NULL REFERENCES merchants (id),
      offer_id TEXT NOT NULL REFERENCES offers (id),
      region_id TEXT NOT NULL REFERENCES regions (id),
      value_points BIGINT NOT NULL CHECK (value_points > 0),
      state TEXT NOT NULL,
      medium TEXT NOT NULL,
      card_uid TEXT NULL,
      issued_at_ms BIGINT NOT NULL,
      expires_at_ms BIGINT NOT NULL,
      closed_at_ms BIGINT NULL
    )`
  yield* sql`CREATE INDEX coupons_state_expiry ON coupons (state, expires_at_ms)`
  yield* sql`CREATE INDEX coupons_card ON coupons (card_uid)`
  // id is the merchant's own request id. state: redeemed | rolled_back.
  yield* sql`
    CREATE TABLE redemptions (
      id TEXT PRIMARY KEY,
      coupon_id TEXT NOT NULL REFERENCES coupons (id),
      merchant_id TEXT NOT NULL REFERENCES merchants (id),
      amount BIGINT NOT NULL CHECK (amount > 0),
      state TEXT NOT NULL,
      request_key TEXT NOT NULL,
      redeemed_at_ms BIGINT NOT NULL,
      rolled_back_at_ms BIGINT NULL
    )`
  yield* sql`CREATE INDEX redemptions_merchant ON redemptions (merchant_id, redeemed_at_ms)`
  yield* sql`CREATE INDEX redemptions_coupon ON redemptions (coupon_id)`
  // A card is one physical medium. state: dispensing | with_user | returned | retained | overdue |
  // charged | closed. charge_state: none | pending | confirmed | declined.
  yield* sql`
    CREATE TABLE cards (
      uid TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      kiosk_id TEXT NOT NULL REFERENCES kiosks (id),
      order_id TEXT NOT NULL REFERENCES orders (id),
      user_id TEXT NOT NULL REFERENCES users (id),
      deposit_points BIGINT NOT NULL,
      deadline_ms BIGINT NULL,
      return_kiosk_id TEXT NULL REFERENCES kiosks (id),
      charge_state TEXT NOT NULL,
      dispensed_at_ms BIGINT NOT NULL,
      updated_at_ms BIGINT NOT NULL
    )`
  yield* sql`CREATE INDEX cards_state_deadline ON cards (state, deadline_ms)`
  // One statement per merchant per period. state: closed | paid | payout_failed.
  yield* sql`
    CREATE TABLE settlements (
      id TEXT PRIMARY KEY,
      merchant_id TEXT NOT NULL REFERENCES merchants (id),
      period_start_ms BIGINT NOT NULL,
      period_end_ms BIGINT NOT NULL,
      total_points BIGINT NOT NULL,
      state TEXT NOT NULL,
      payout_ref TEXT NULL,
      created_at_ms BIGINT NOT NULL,
      UNIQUE (merchant_id, period_start_ms)
    )`
  // Each redemption is in at most one statement (invariant 8), enforced by the primary key.
  yield* sql`
    CREATE TABLE settlement_lines (
      redemption_id TEXT PRIMARY KEY REFERENCES redemptions (id),
      settlement_id TEXT NOT NULL REFERENCES settlements (id),
      amount BIGINT NOT NULL
    )`
  yield* sql`CREATE INDEX settlement_lines_settlement ON settlement_lines (settlement_id)`
})
