import type { SqlClient } from "@effect/sql"
import { Layer } from "effect"
import * as DurableStore from "./durable-store.js"
import * as PostgresStore from "./postgres.js"
import { redactUrl } from "./postgres.js"
import type { StoreError } from "./store-error.js"

/** Which store a process runs on: the embedded durable store in a directory, or PostgreSQL. */
export type StoreTarget =
  | { readonly _tag: "Embedded"; readonly directory: string }
  | { readonly _tag: "Postgres"; readonly url: string }

/** Where the embedded store lives when neither `--database` nor ECOUPON_DATABASE_URL says otherwise. */
export const defaultEmbeddedDirectory = "./ecoupon-data"

/**
 * `--database` wins, then ECOUPON_DATABASE_URL, then the embedded default. A `postgres://` or
 * `postgresql://` URL selects PostgreSQL; anything else is the embedded store's directory.
 */
export const resolveStoreTarget = (
  database: string | undefined,
  environmentUrl: string | undefined = process.env["ECOUPON_DATABASE_URL"]
): StoreTarget => {
  const chosen = database ?? (environmentUrl === "" ? undefined : environmentUrl) ?? defaultEmbeddedDirectory
  return PostgresStore.isPostgresUrl(chosen) ? { _tag: "Postgres", url: chosen } : { _tag: "Embedded", directory: chosen }
}

/** For messages: the directory, or the URL without its password. */
export const describeStoreTarget = (target: StoreTarget): string =>
  target._tag === "Embedded" ? `embedded store in ${target.directory}` : `PostgreSQL at ${redactUrl(target.url)}`

/** The `SqlClient` for a target. Nothing above this line knows which store it runs on. */
export const storeLayer = (target: StoreTarget): Layer.Layer<SqlClient.SqlClient, StoreError> =>
  target._tag === "Embedded"
    ? DurableStore.layer({ directory: target.directory })
    : PostgresStore.layer({ url: target.url })
