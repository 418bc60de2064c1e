import { Options } from "@effect/cli"
import { existsSync } from "node:fs"
import { Effect, Option } from "effect"
import { storeFiles } from "../store/recovery.js"
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

/**
 * For a command that only uses a store that is there: an embedded store must exist (its snapshot or
 * journal in the directory), else one line and nothing written, so a mistyped path never becomes a
 * new, empty database. Only `admin init`, `db migrate` and `serve` create a store, where they are told.
 */
export const requireExistingStore = (target: StoreTarget): Effect.Effect<void, { readonly message: string }> =>
  Effect.suspend(() => {
    if (target._tag !== "Embedded") return Effect.void
    const files = storeFiles(target.directory)
    if (existsSync(files.snapshot) || existsSync(files.journal)) return Effect.void
    const what = existsSync(target.directory) ? `${target.directory} holds no ecoupon store` : `there is no store at ${target.directory}`
    return Effect.fail({ message: `${what} (--database); check the path, or create one with: ecoupon admin init --database ${target.directory}` })
  })
