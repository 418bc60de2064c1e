import { Migrator, type SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Effect } from "effect"
import { migrations as coreMigrations } from "../../core/migrations/index.js"

/** The table that records which migrations ran, on every store. */
export const migrationsTable = "ecoupon_migrations"

/** A record of migrations keyed `NNNN_name`, as `core/migrations/index.ts` exports it. */
export type Migrations = Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>>

/**
 * Brings the schema up to date on whatever store `SqlClient` is (sql.js or PostgreSQL) and returns the
 * migrations it ran, `[id, name]` in order; an up-to-date database gives `[]`. All pending migrations
 * run in one transaction, so a failure leaves the schema as it was. On the durable store that
 * transaction is journaled like any other. On PostgreSQL the migrator locks its table, so several
 * servers starting together migrate once.
 */
export const runMigrations = (
  migrations: Migrations = coreMigrations
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, Migrator.MigrationError | SqlError, SqlClient.SqlClient> =>
  Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: migrationsTable })
