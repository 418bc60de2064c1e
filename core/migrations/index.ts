import type { Effect } from "effect"
import type { SqlClient } from "@effect/sql"
import ledger from "./0001_ledger.js"
import parties from "./0002_parties.js"
import catalog from "./0003_catalog.js"
import orders from "./0004_orders.js"
import outbox from "./0005_outbox.js"
import movementRefIndex from "./0008_movement_ref_index.js"
import orderResolution from "./0007_order_resolution.js"
import hotPathIndexes from "./0009_hot_path_indexes.js"
import apiCredentials from "./0010_api_credentials.js"
import housekeepingIndexes from "./0011_housekeeping_indexes.js"

/**
 * The schema, in order, for `Migrator.fromRecord`. Written in the SQL that SQLite and PostgreSQL share
 * (TEXT, INTEGER, BIGINT, partial unique indexes); where the two must differ a migration uses
 * `sql.onDialectOrElse`. Migrations are never edited once landed: a change is a new entry.
 */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0001_ledger": ledger,
  "0002_parties": parties,
  "0003_catalog": catalog,
  "0004_orders": orders,
  "0005_outbox": outbox,
  "0007_order_resolution": orderResolution,
  "0008_movement_ref_index": movementRefIndex,
  "0009_hot_path_indexes": hotPathIndexes,
  "0010_api_credentials": apiCredentials,
  "0011_housekeeping_indexes": housekeepingIndexes
}
