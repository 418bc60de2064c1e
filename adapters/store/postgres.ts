import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Redacted } from "effect"
import { StoreError } from "./store-error.js"

/** `postgres://` or `postgresql://`: what tells a database URL from an embedded store's directory. */
export const isPostgresUrl = (database: string): boolean => /^postgres(ql)?:\/\//i.test(database)

/** The URL as it may appear in messages and logs: the password replaced. */
export const redactUrl = (url: string): string => url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/i, "$1:***@")

/** The URL with every connection's `search_path` set to `schema` (a startup option, so the pool keeps it). */
export const withSearchPath = (url: string, schema: string): string => {
  const parsed = new URL(url)
  parsed.searchParams.set("options", `-c search_path=${schema}`)
  return parsed.toString()
}

export interface PostgresOptions {
  /** postgres://user:password@host:port/database[?sslmode=...] */
  readonly url: string
  /** Pool size (default 10). Each server of a scale-out deployment has its own pool. */
  readonly maxConnections?: number | undefined
}

/**
 * The scale-out store: PostgreSQL through `@effect/sql-pg`. Same migrations and queries as the embedded
 * store; where SQL must differ, `sql.onDialect` picks "pg". Note that node-postgres returns BIGINT,
 * COUNT and NUMERIC as decimal strings (sql.js returns numbers), which is why core decodes integer
 * columns through a schema accepting number, bigint or decimal string.
 */
export const layer = (options: PostgresOptions): Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, StoreError> =>
  PgClient.layer({
    url: Redacted.make(options.url),
    maxConnections: options.maxConnections ?? 10,
    applicationName: "ecoupon"
  }).pipe(
    Layer.catchAll((error) =>
      Layer.fail(
        new StoreError({
          cause: error,
          message: `cannot connect to PostgreSQL at ${redactUrl(options.url)}: ${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ""}. Check that the server runs and the URL is right`
        })
      )
    )
  )

/** Runs `use` with a one-connection client on `url`, for administrative statements. */
export const withAdminClient = <A, E>(url: string, use: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>): Effect.Effect<A, E | StoreError> =>
  Effect.scoped(
    Effect.flatMap(Layer.build(layer({ url, maxConnections: 1 })), (context) => use(Context.get(context, SqlClient.SqlClient)))
  )
