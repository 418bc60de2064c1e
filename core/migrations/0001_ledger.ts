import { Effect } from "effect"
import { SqlClient } from "@effect/sql"

/**
 * The points ledger (DESIGN §4). Balances live on the account row and are only ever changed in the
 * transaction that writes a transfer; `ledger_transfers` is the append-only truth they derive from.
 * Amounts are BIGINT points; SQLite maps BIGINT to its 64-bit INTEGER.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE ledger_accounts (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      floor_zero INTEGER NOT NULL,
      debits_posted BIGINT NOT NULL DEFAULT 0,
      credits_posted BIGINT NOT NULL DEFAULT 0,
      debits_pending BIGINT NOT NULL DEFAULT 0,
      credits_pending BIGINT NOT NULL DEFAULT 0,
      created_at_ms BIGINT NOT NULL
    )`
  // flag: posted | pending | post_pending | void_pending. A pending transfer's state moves from
  // pending to posted or voided exactly once; the post/void is itself a transfer naming it.
  yield* sql`
    CREATE TABLE ledger_transfers (
      id TEXT PRIMARY KEY,
      debit_account TEXT NOT NULL REFERENCES ledger_accounts (id),
      credit_account TEXT NOT NULL REFERENCES ledger_accounts (id),
      amount BIGINT NOT NULL CHECK (amount > 0),
      flag TEXT NOT NULL,
      state TEXT NOT NULL,
      pending_id TEXT NULL REFERENCES ledger_transfers (id),
      code TEXT NOT NULL,
      ref TEXT NULL,
      created_at_ms BIGINT NOT NULL,
      CHECK (debit_account <> credit_account)
    )`
  yield* sql`CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account, created_at_ms)`
  yield* sql`CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account, created_at_ms)`
  yield* sql`CREATE INDEX ledger_transfers_ref ON ledger_transfers (ref)`
  // A pending transfer is resolved at most once (invariant 3), enforced by the database itself.
  yield* sql`CREATE UNIQUE INDEX ledger_transfers_resolved_once ON ledger_transfers (pending_id) WHERE pending_id IS NOT NULL`
  // The system accounts exist from the start: where granted points come from, where carrier-billed
  // deposits go, and the carrier's side of those deposits.
  yield* sql`
    INSERT INTO ledger_accounts (id, kind, floor_zero, created_at_ms) VALUES
      ('issuer', 'issuer', 0, 0),
      ('deposits:carrier', 'deposits', 0, 0),
      ('carrier:billing', 'carrier', 0, 0)`
})
