import { Options } from "@effect/cli"
import { Option } from "effect"
import { resolveStoreTarget, type StoreTarget } from "../store/store-target.js"

/**
 * `--database`, shared by every command that opens the store (`db`, `serve`): a `postgres://` URL for
 * PostgreSQL, or a directory for the embedded store. Absent, ECOUPON_DATABASE_URL decides, then the
 * embedded default `./ecoupon-data`.
 */
export const databaseOption: Options.Options<Option.Option<string>> = Options.text("database").pipe(
  Options.withDescription(
    "postgres://user@host:port/db for PostgreSQL, or a directory for the embedded store (default: $ECOUPON_DATABASE_URL, else ./ecoupon-data)"
  ),
  Options.optional
)

/** The store `--database` (or the environment) selects. */
export const storeTargetOf = (database: Option.Option<string>): StoreTarget =>
  resolveStoreTarget(Option.getOrUndefined(database))
