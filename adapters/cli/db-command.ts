import { Command } from "@effect/cli"
import { Console, Effect, Layer } from "effect"
import { DurableStore } from "../store/durable-store.js"
import * as DurableStoreLayer from "../store/durable-store.js"
import { runMigrations } from "../store/migrate.js"
import { checkStore } from "../store/store-check.js"
import type { StoreError } from "../store/store-error.js"
import { describeStoreTarget, storeLayer } from "../store/store-target.js"
import { databaseOption, requireExistingStore, storeTargetOf } from "./db-options.js"

/** A refusal the operator can act on: its message on stderr and exit status 1, without a stack trace. */
const reportFailure = <A, R>(effect: Effect.Effect<A, StoreError | { readonly message: string }, R>) =>
  Effect.catchAll(effect, (error) =>
    Effect.zipRight(Console.error(`ecoupon db: ${error.message}`), Effect.sync(() => void (process.exitCode = 1)))
  )

const migrate = Command.make("migrate", { database: databaseOption }, ({ database }) => {
  const target = storeTargetOf(database)
  return runMigrations().pipe(
    Effect.flatMap((ran) =>
      Console.log(
        ran.length === 0
          ? `${describeStoreTarget(target)}: schema already up to date`
          : `${describeStoreTarget(target)}: ran ${ran.map(([id, name]) => `${String(id).padStart(4, "0")}_${name}`).join(", ")}`
      )
    ),
    Effect.provide(Layer.fresh(storeLayer(target))),
    reportFailure
  )
}).pipe(Command.withDescription("Bring the database schema up to date (either store)"))

const check = Command.make("check", { database: databaseOption }, ({ database }) => {
  const target = storeTargetOf(database)
  return checkStore(target).pipe(
    Effect.flatMap((report) =>
      Effect.zipRight(
        Console.log(report.lines.join("\n")),
        Effect.sync(() => {
          if (!report.ok) process.exitCode = 1
        })
      )
    ),
    reportFailure
  )
}).pipe(
  Command.withDescription(
    "Verify the store without changing it: snapshot and journal checksums, replay, SQLite integrity, schema version, invariant audit (stop the server first for the embedded store)"
  )
)

const snapshot = Command.make("snapshot", { database: databaseOption }, ({ database }) => {
  const target = storeTargetOf(database)
  if (target._tag === "Postgres") {
    return reportFailure(Effect.fail({ message: `snapshots are for the embedded store; ${describeStoreTarget(target)} keeps its own durability (use pg_dump for a copy)` }))
  }
  const snapshotNow = Effect.gen(function* () {
    const store = yield* DurableStore
    const before = store.stats()
    yield* store.snapshot
    yield* Console.log(`snapshot written to ${store.files.snapshot}; journal emptied (it held ${before.bytes} bytes)`)
  }).pipe(Effect.provide(DurableStoreLayer.layer({ directory: target.directory, snapshotOnClose: false })))
  return Effect.zipRight(requireExistingStore(target), snapshotNow).pipe(reportFailure)
}).pipe(Command.withDescription("Write a snapshot of the embedded store and empty its journal (stop the server first)"))

/** `ecoupon db migrate|check|snapshot [--database ...]`. */
// Named as a plain string: the registry (`commands.ts`) holds commands of any name.
export const dbCommand = Command.make("db" as string).pipe(
  Command.withDescription("Database maintenance: migrate, check, snapshot"),
  Command.withSubcommands([migrate, check, snapshot])
)
